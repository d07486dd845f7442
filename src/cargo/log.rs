//! cargo's fingerprint log (`CARGO_LOG=cargo::core::compiler::fingerprint=info`): cargo's
//! own reason for each unit it judged dirty. Its format is cargo-internal, so it is read here
//! and nowhere else.

use std::io::{BufRead, BufReader, Write};

/// The environment variable and value that turn the log on.
pub const ENV: (&str, &str) = ("CARGO_LOG", "cargo::core::compiler::fingerprint=info");

/// Forwards cargo's stderr, keeping the fingerprint log out of sight and returning its
/// reasons: `(package id as cargo prints it, reason)`.
pub fn filter_log(stderr: impl std::io::Read) -> Vec<(String, String)> {
    let mut reasons = Vec::new();
    let mut err = std::io::stderr();
    let mut in_error = false;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        let trimmed = line.trim_start();
        let is_log = trimmed
            .split_whitespace()
            .next()
            .is_some_and(|t| t.ends_with('s') && t[..t.len() - 1].parse::<f64>().is_ok())
            && line.contains("cargo::core::compiler::fingerprint");
        if is_log {
            in_error = line.contains(" err: ");
            if let Some(reason) = log_reason(&line) {
                reasons.push(reason);
            }
            continue;
        }
        // The multi-line cause of a `fingerprint error` entry.
        if in_error && (line.is_empty() || line == "Caused by:" || line.starts_with("    ")) {
            continue;
        }
        in_error = false;
        let _ = writeln!(err, "{line}");
    }
    reasons
}

fn log_reason(line: &str) -> Option<(String, String)> {
    let id_start = line.find("package_id=")? + "package_id=".len();
    let rest = &line[id_start..];
    let id_end = rest.find(" target=").unwrap_or(rest.len());
    let id = rest[..id_end].to_string();
    let message = line
        .split("cargo::core::compiler::fingerprint: ")
        .nth(1)?
        .trim();
    let reason = if let Some(dirty) = message.strip_prefix("dirty: ") {
        dirty.to_string()
    } else if message.starts_with("fingerprint error") {
        "no earlier build of this unit with these settings (its flags, features, profile, \
         target or toolchain differ from cook's)"
            .to_string()
    } else {
        return None;
    };
    Some((id, reason))
}
