//! How a build differs from cook in ways that recompile dependencies: each difference as a
//! message that says what to change, and whether it certainly recompiles.

use serde::Serialize;

use super::Record;
use crate::cargo::WorkspaceInfo;

/// One difference between cook and a build that recompiles dependencies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub what: String,
    pub message: String,
    /// Whether dependencies certainly recompile ("will"), or only may ("may": a config file
    /// or variable that might not reach any of them, or no unit graph to tell).
    pub certain: bool,
}

/// Kinds of mismatch that cargo's unit graph shows in full: with both graphs at hand, they
/// matter exactly when the graphs differ.
pub const GRAPH_KINDS: &[&str] = &[
    "profile",
    "features",
    "packages",
    "target",
    "dev-dependencies",
];

/// Variables that change every unit's compilation.
const ENV_CERTAIN: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTC",
];

/// Where `build` (this record) differs from `cook` in ways that recompile dependencies,
/// each with what to change.
pub fn mismatches(cook: &Record, build: &Record, ws: &WorkspaceInfo) -> Vec<Mismatch> {
    let (cook_selected, build_selected) = (selected(ws, cook), selected(ws, build));
    let (cook_features, build_features) = (
        features_of(cook, &cook_selected),
        features_of(build, &build_selected),
    );
    let mut out = Vec::new();
    let rustc_differs = cook.rustc != build.rustc;
    let mut add = |what: &str, message: String| {
        let certain = match what {
            "toolchain" | "command" => true,
            "toolchain-file" => rustc_differs,
            // Each `env` message below opens with the variable's name in backticks.
            "env" => ENV_CERTAIN
                .iter()
                .any(|v| message.starts_with(&format!("`{v}`"))),
            kind => GRAPH_KINDS.contains(&kind),
        };
        out.push(Mismatch {
            what: what.to_string(),
            message,
            certain,
        })
    };
    if cook.profile != build.profile {
        add(
            "profile",
            format!(
                "cook built profile `{}`, this build uses profile `{}`: cook with {}",
                cook.profile,
                build.profile,
                profile_flag(&build.profile)
            ),
        );
    }
    if (&cook_features, cook.all_features, cook.no_default_features)
        != (
            &build_features,
            build.all_features,
            build.no_default_features,
        )
    {
        add(
            "features",
            format!(
                "cook ran with {}, this build has {}: give cook {}",
                feature_desc(cook),
                feature_desc(build),
                feature_flags(build)
            ),
        );
    }
    if cook_selected != build_selected {
        add(
            "packages",
            format!(
                "cook selected {}, this build selects {} (features unify over the selected \
                 packages): give cook {}",
                selection_desc(cook),
                selection_desc(build),
                selection_flags(build)
            ),
        );
    }
    if cook.targets != build.targets {
        add(
            "target",
            format!(
                "cook built for {}, this build for {}: give cook {}",
                targets_desc(&cook.targets),
                targets_desc(&build.targets),
                if build.targets.is_empty() {
                    "no `--target`".to_string()
                } else {
                    build
                        .targets
                        .iter()
                        .map(|t| format!("`--target {t}`"))
                        .collect::<Vec<_>>()
                        .join(" ")
                }
            ),
        );
    }
    if cook.command == "zigbuild" && build.command != "zigbuild" {
        add(
            "command",
            "cook ran `cargo zigbuild`, whose linker and C compiler settings change every \
             fingerprint; this build is plain cargo: cook with the command you build with"
                .to_string(),
        );
    }
    if build.dev_targets && !cook.dev_targets {
        add(
            "dev-dependencies",
            "this build compiles tests, examples or benches (dev-dependencies) but cook did \
             not: add `--all-targets` (or `--tests`/`--examples`) to cook"
                .to_string(),
        );
    }
    if cook.rustc != build.rustc {
        add(
            "toolchain",
            format!(
                "cook used `{}`, this build uses `{}`: cook and build with one toolchain \
                 (a `rust-toolchain.toml` in the skeleton pins it for both)",
                first_line(&cook.rustc),
                first_line(&build.rustc)
            ),
        );
    }
    if cook.toolchain_file != build.toolchain_file {
        add(
            "toolchain-file",
            "the toolchain file differs from the one cook used".to_string(),
        );
    }
    let keys: std::collections::BTreeSet<&String> =
        cook.env.keys().chain(build.env.keys()).collect();
    for key in keys {
        let (c, b) = (cook.env.get(key), build.env.get(key));
        if c != b {
            add(
                "env",
                format!(
                    "`{key}` was {} during cook and is {} now: set the same value for cook",
                    env_desc(c),
                    env_desc(b)
                ),
            );
        }
    }
    if cook.config_args != build.config_args || cook.unstable != build.unstable {
        add(
            "config-args",
            "`--config`/`-Z` arguments differ from cook's: pass cook the same".to_string(),
        );
    }
    let paths: std::collections::BTreeSet<&String> = cook
        .config_files
        .keys()
        .chain(build.config_files.keys())
        .collect();
    for path in paths {
        if cook.config_files.get(path) != build.config_files.get(path) {
            let state = match (
                cook.config_files.contains_key(path),
                build.config_files.contains_key(path),
            ) {
                (true, false) => "was in effect during cook and is not now",
                (false, true) => "is in effect now but was not during cook",
                _ => "differs from the one cook used",
            };
            add("config", format!("cargo config `{path}` {state}"));
        }
    }
    out
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

fn profile_flag(profile: &str) -> String {
    match profile {
        "release" => "`--release`".to_string(),
        "dev" => "no `--release`/`--profile`".to_string(),
        other => format!("`--profile {other}`"),
    }
}

fn feature_flags(r: &Record) -> String {
    let mut parts = Vec::new();
    if !r.features.is_empty() {
        parts.push(format!("`--features {}`", r.features.join(",")));
    }
    if r.all_features {
        parts.push("`--all-features`".to_string());
    }
    if r.no_default_features {
        parts.push("`--no-default-features`".to_string());
    }
    if parts.is_empty() {
        "no feature flags".to_string()
    } else {
        parts.join(" ")
    }
}

fn feature_desc(r: &Record) -> String {
    let flags = feature_flags(r);
    if flags == "no feature flags" {
        "default features".to_string()
    } else {
        flags
    }
}

fn selection_flags(r: &Record) -> String {
    let mut parts: Vec<String> = r.packages.iter().map(|p| format!("`-p {p}`")).collect();
    if r.workspace {
        parts.push("`--workspace`".to_string());
    }
    parts.extend(r.exclude.iter().map(|p| format!("`--exclude {p}`")));
    if parts.is_empty() {
        "no package selection".to_string()
    } else {
        parts.join(" ")
    }
}

fn selection_desc(r: &Record) -> String {
    let flags = selection_flags(r);
    if flags == "no package selection" {
        "the default members".to_string()
    } else {
        flags
    }
}

fn targets_desc(targets: &[String]) -> String {
    if targets.is_empty() {
        "the host (or `build.target`)".to_string()
    } else {
        targets.join(", ")
    }
}

fn env_desc(v: Option<&String>) -> String {
    v.map_or_else(|| "unset".to_string(), |v| format!("`{v}`"))
}

/// The package names a record's `-p`/`--workspace`/`--exclude` selection means, sorted.
fn selected(ws: &WorkspaceInfo, r: &Record) -> Vec<String> {
    // `name`, `name@1.2.3` or a full `path+file://...#name@1.2.3` spec.
    let spec_name = |spec: &str| {
        let tail = spec.rsplit('#').next().unwrap_or(spec);
        tail.split('@').next().unwrap_or(tail).to_string()
    };
    let mut names: Vec<String> = if r.workspace {
        let excluded: Vec<String> = r.exclude.iter().map(|e| spec_name(e)).collect();
        ws.members
            .iter()
            .filter(|m| !excluded.contains(m))
            .cloned()
            .collect()
    } else if !r.packages.is_empty() {
        r.packages.iter().map(|s| spec_name(s)).collect()
    } else {
        ws.default_members.clone()
    };
    names.sort();
    names.dedup();
    names
}

/// Features as cargo reads them: with one package selected, `app/x` and `x` are the same.
fn features_of(r: &Record, selected: &[String]) -> Vec<String> {
    let mut features: Vec<String> = r
        .features
        .iter()
        .map(|f| match (f.split_once('/'), selected) {
            (Some((pkg, feat)), [only]) if pkg == only => feat.to_string(),
            _ => f.clone(),
        })
        .collect();
    features.sort();
    features.dedup();
    features
}
