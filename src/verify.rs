//! `build` and `verify`: run the real build, compare it with the cook record first (one
//! `warning:` per difference that recompiles dependencies), and check its outcome: which
//! external packages cargo recompiled, with cargo's own fingerprint reason, and whether any
//! local artifact came from a stub.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::cargo::{CargoCommand, Message};
use crate::flags::Flags;
use crate::record::{self, Mismatch, Record};
use crate::shell::Shell;
use crate::skeleton::stubs::{MARKER, STUB_DIR};
use crate::units::package_desc;

#[derive(Debug)]
pub struct BuildOptions {
    pub dir: PathBuf,
    pub flags: Flags,
    pub extra: Vec<OsString>,
    pub verify: bool,
    pub deny_rebuild: bool,
    pub rebuild_local: bool,
    /// Judge local crates by content (`--seed`, `--content-freshness`).
    pub content: crate::freshness::Request,
}

/// What the build did that a cached dependency layer should have prevented.
#[derive(Debug, Default, Serialize)]
pub struct Findings {
    /// External packages compiled by this build, or by any build after cook (`name version`),
    /// with cargo's reason.
    pub recompiled: BTreeMap<String, String>,
    /// Unit hash -> package id of every artifact this build reported, fresh or not.
    #[serde(skip)]
    pub unit_packages: BTreeMap<String, String>,
    /// Local artifacts that are, or were built from, cargo-prebuild stubs.
    pub stubs: Vec<PathBuf>,
    pub mismatches: Vec<Mismatch>,
}

/// Runs `cargo build` after comparing with the cook record. Returns cargo's exit code, or
/// fails when `--deny-rebuild` or `--verify` find a problem.
pub fn build(options: &BuildOptions, shell: &Shell) -> Result<i32> {
    let base = CargoCommand::new(&options.dir);
    // Content freshness (when asked) prepares the sources while the cook record is compared:
    // each waits mostly on a cargo or rustc process.
    let (compared, session) = std::thread::scope(|scope| {
        let session = scope.spawn(|| {
            crate::freshness::begin(&options.content, &options.dir, &options.flags, &base, shell)
        });
        let compared = compare(options, &base, shell);
        let session = session
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("content freshness panicked")));
        (compared, session)
    });
    let (compared, session) = (compared?, session?);
    let mismatches = compared.mismatches;
    for m in &mismatches {
        let verb = if m.certain { "will" } else { "may" };
        shell.warn(format!("dependencies {verb} recompile: {}", m.message));
    }
    if options.deny_rebuild && !mismatches.is_empty() {
        bail!(
            "this build differs from how cook ran in {} way(s) that recompile dependencies \
             (`--deny-rebuild`)",
            mismatches.len()
        );
    }
    if options.rebuild_local {
        clean_local(options, &base, shell)?;
    }
    if !options.verify {
        let mut cmd = base;
        cmd.arg("build")
            .args(options.flags.build_args(false, true))
            .args(&options.extra);
        shell.verbose("Running", format!("`{cmd}`"));
        let code = cmd.status()?.code().unwrap_or(101);
        crate::freshness::finish(session, code)?;
        return Ok(code);
    }
    let (code, mut findings) = run_observed(options, &base, shell)?;
    crate::freshness::finish(session, code)?;
    findings.mismatches = mismatches;
    if let Some(cook) = &compared.cook {
        crate::gate::judge_target_dir(cook, &compared.ws, &mut findings)?;
    }
    report(&findings, code, options, shell)?;
    let stale = crate::freshness::stale_artifacts(&options.dir, &options.flags, &base, shell)?;
    if code == 0
        && (!findings.recompiled.is_empty() || !findings.stubs.is_empty() || !stale.is_empty())
    {
        bail!(
            "verification failed: {} external package(s) recompiled, {} stub artifact(s) found, \
             {} local artifact(s) older than their sources' content",
            findings.recompiled.len(),
            findings.stubs.len(),
            stale.len()
        );
    }
    Ok(code)
}

/// `cargo clean -p` for every local package, in the profile and targets of this build. A
/// local package sharing its name with a registry crate cannot be cleaned by name (cargo
/// would delete the registry crate's artifacts too): its sources are touched instead.
fn clean_local(options: &BuildOptions, base: &CargoCommand, shell: &Shell) -> Result<()> {
    let manifest = options.dir.join("Cargo.toml");
    let ws = crate::workspace::Workspace::load(Some(&manifest))?;
    let lock = options.dir.join("Cargo.lock");
    let external = match crate::fs::read_if_exists(&lock)? {
        Some(bytes) => {
            crate::skeleton::lockfile::external_names(&String::from_utf8_lossy(&bytes), &lock)?
        }
        None => std::collections::BTreeSet::new(),
    };
    let mut cmd = base.clone();
    cmd.arg("clean");
    let mut cleaned = 0;
    for pkg in ws.packages.values() {
        if external.contains(&pkg.name) {
            touch_sources(&pkg.dir)?;
        } else {
            cmd.arg("--package")
                .arg(format!("{}@{}", pkg.name, pkg.version));
            cleaned += 1;
        }
    }
    if cleaned > 0 {
        cmd.args(options.flags.clean_args(&options.dir)?)
            .arg("--quiet");
        shell.verbose("Running", format!("`{cmd}`"));
        cmd.output()?;
    }
    shell.status(
        "Cleaned",
        format!(
            "{} local packages, to rebuild them from these sources",
            ws.packages.len()
        ),
    );
    Ok(())
}

/// Sets the mtime of a package's files (not `target/` or hidden directories) to now.
fn touch_sources(dir: &Path) -> Result<()> {
    let now = std::time::SystemTime::now();
    let walker = walkdir::WalkDir::new(dir).into_iter().filter_entry(|e| {
        e.depth() == 0
            || !(e.file_type().is_dir()
                && (e.file_name() == "target" || e.file_name().to_string_lossy().starts_with('.')))
    });
    for entry in walker {
        let entry = entry.with_context(|| format!("failed to walk `{}`", dir.display()))?;
        if entry.file_type().is_file() {
            std::fs::File::options()
                .write(true)
                .open(entry.path())
                .and_then(|f| f.set_modified(now))
                .with_context(|| format!("failed to touch `{}`", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The build compared with the cook record.
struct Compared {
    mismatches: Vec<Mismatch>,
    cook: Option<Record>,
    ws: record::WorkspaceInfo,
}

fn compare(options: &BuildOptions, base: &CargoCommand, shell: &Shell) -> Result<Compared> {
    let ws = record::WorkspaceInfo::load(base, &options.flags, &options.dir)?;
    let target_dir = &ws.target_directory;
    let Some(cook) = Record::read(target_dir)? else {
        let path = target_dir.join(record::RECORD_FILE);
        if options.deny_rebuild || options.verify {
            bail!(
                "no cook record `{}`: dependencies were not cooked into this target directory, \
                 so there is nothing to verify the build against (`cargo prebuild cook` writes \
                 it; give `build`/`verify` the target dir cook used)",
                path.display()
            );
        }
        shell.warn(format!(
            "no cook record in `{}`: dependencies were not cooked into this target directory, so \
             they all compile now",
            target_dir.display()
        ));
        return Ok(Compared {
            mismatches: Vec::new(),
            cook: None,
            ws,
        });
    };
    if options.verify && cook.units.is_none() {
        bail!(
            "the cook record `{}` is from an older cargo-prebuild and does not list the units \
             cook produced: cook again to verify against it",
            target_dir.join(record::RECORD_FILE).display()
        );
    }
    let rustc = record::rustc_version(base)?;
    let now = Record::capture("build", &options.flags, &options.dir, &rustc)?;
    let mut mismatches = Record::mismatches(&cook, &now, &ws);
    crate::gate::predict(&cook, options, &ws, base, &mut mismatches, shell)?;
    Ok(Compared {
        mismatches,
        cook: Some(cook),
        ws,
    })
}

/// Runs the build with JSON messages and cargo's fingerprint log, both parsed.
fn run_observed(
    options: &BuildOptions,
    base: &CargoCommand,
    shell: &Shell,
) -> Result<(i32, Findings)> {
    let mut cmd = base.clone();
    cmd.arg("build")
        .args(options.flags.build_args(false, false));
    cmd.args(["--message-format", "json-render-diagnostics"])
        .args(&options.extra);
    shell.verbose("Running", format!("`{cmd}`"));
    let mut child = cmd
        .std_command()
        .env("CARGO_LOG", "cargo::core::compiler::fingerprint=info")
        .env("RUST_LIB_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("failed to run `{cmd}`"))?;
    let stderr = child.stderr.take().context("no stderr pipe")?;
    let log = std::thread::spawn(move || filter_log(stderr));
    let mut findings = Findings::default();
    let forward_json = options.flags.user_message_format();
    if let Some(stdout) = child.stdout.take() {
        let mut out = std::io::stdout().lock();
        for line in BufReader::new(stdout).lines() {
            let line = line.context("failed to read cargo's output")?;
            if forward_json {
                let _ = writeln!(out, "{line}");
            }
            let Some(msg) = Message::parse(&line) else {
                continue;
            };
            if msg.reason != "compiler-artifact" {
                continue;
            }
            inspect(&msg, &mut findings)?;
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("failed to wait for `{cmd}`"))?;
    let reasons = log.join().unwrap_or_default();
    for (pkg, reason) in findings.recompiled.iter_mut() {
        if let Some(r) = reasons
            .iter()
            .find(|(id, _)| id.starts_with(pkg.as_str()))
            .map(|(_, r)| r)
        {
            *reason = r.clone();
        }
    }
    Ok((status.code().unwrap_or(101), findings))
}

fn inspect(msg: &Message, findings: &mut Findings) -> Result<()> {
    for file in &msg.filenames {
        if let Some(hash) = crate::gate::unit_hash(file) {
            findings.unit_packages.insert(hash, msg.package_id.clone());
        }
    }
    let local = crate::units::is_local(&msg.package_id);
    if !local {
        if !msg.fresh {
            let key = package_desc(&msg.package_id);
            findings
                .recompiled
                .entry(key)
                .or_insert_with(|| "cargo gave no reason".to_string());
        }
        return Ok(());
    }
    let from_stub = msg
        .target
        .as_ref()
        .is_some_and(|t| t.src_path.components().any(|c| c.as_os_str() == STUB_DIR));
    let files = msg.filenames.iter().chain(msg.executable.iter());
    for file in files {
        if findings.stubs.contains(file) {
            continue;
        }
        if from_stub || contains_marker(file)? {
            findings.stubs.push(file.clone());
        }
    }
    Ok(())
}

fn contains_marker(path: &Path) -> Result<bool> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if matches!(ext, "d" | "json" | "rmeta") {
        return Ok(false);
    }
    let Some(bytes) = crate::fs::read_if_exists(path)? else {
        return Ok(false);
    };
    let marker = MARKER.as_bytes();
    Ok(bytes.windows(marker.len()).any(|w| w == marker))
}

/// Forwards cargo's stderr, keeping the fingerprint log out of sight and returning its
/// reasons: `(package id as cargo prints it, reason)`.
fn filter_log(stderr: impl std::io::Read) -> Vec<(String, String)> {
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

fn report(findings: &Findings, code: i32, options: &BuildOptions, shell: &Shell) -> Result<()> {
    for (pkg, reason) in &findings.recompiled {
        shell.warn(format!("external package `{pkg}` was recompiled: {reason}"));
    }
    for stub in &findings.stubs {
        shell.print_error(&format!(
            "`{}` is a cargo-prebuild stub artifact, not built from real sources",
            stub.display()
        ));
    }
    if code == 0 && findings.recompiled.is_empty() && findings.stubs.is_empty() {
        shell.status(
            "Verified",
            "no external package recompiled, no stub artifact",
        );
    }
    if options.flags.user_message_format() {
        let mut json = serde_json::to_value(findings)?;
        if let Some(obj) = json.as_object_mut() {
            obj.insert("reason".to_string(), "cargo-prebuild-verify".into());
        }
        println!("{json}");
    }
    Ok(())
}
