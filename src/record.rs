//! The cook record: how cook ran (flags, selection, features, profile, targets, toolchain,
//! environment, config), kept in the target directory so a later build can be compared with
//! it and told, before compiling, what would make it recompile dependencies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::cargo::CargoCommand;
use crate::flags::Flags;

/// File name of the record inside the target directory.
pub const RECORD_FILE: &str = "cargo-prebuild-cook.json";
/// 2: the record lists the units cook produced (`units`, `unit-graph`).
pub const RECORD_FORMAT: u32 = 2;

/// Environment variables that change how dependencies compile.
const ENV_EXACT: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "RUSTC",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_INCREMENTAL",
    "CC",
    "CXX",
    "CFLAGS",
    "CXXFLAGS",
    "AR",
];
const ENV_PREFIXES: &[&str] = &["CARGO_BUILD_", "CARGO_PROFILE_", "CARGO_TARGET_"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Record {
    pub format: u32,
    pub command: String,
    pub packages: Vec<String>,
    pub workspace: bool,
    pub exclude: Vec<String>,
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
    pub profile: String,
    pub targets: Vec<String>,
    /// Whether tests, examples or benches were built (they need dev-dependencies).
    pub dev_targets: bool,
    pub config_args: Vec<String>,
    pub unstable: Vec<String>,
    /// `rustc -vV` of the toolchain cargo used.
    pub rustc: String,
    pub env: BTreeMap<String, String>,
    /// Config files in effect (path relative to the workspace, or absolute outside it) and
    /// the sha256 of their secret-free contents.
    pub config_files: BTreeMap<String, String>,
    pub toolchain_file: Option<String>,
    /// Every unit directory cook left in the target dir, with its fingerprint hashes (see
    /// [`crate::units::target_units`]); absent from records of format 1.
    #[serde(default)]
    pub units: Option<BTreeMap<String, String>>,
    /// Cook's external unit graph; absent when cargo refused `--unit-graph`.
    #[serde(default)]
    pub unit_graph: Option<crate::units::UnitGraph>,
}

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

impl Record {
    /// Describes the invocation `flags` in `dir` (the workspace root) as of now.
    pub fn capture(command: &str, flags: &Flags, dir: &Path, rustc: &str) -> Result<Record> {
        let a = &flags.args;
        let profile = if a.compile.release {
            "release".to_string()
        } else {
            a.compile
                .profile
                .clone()
                .unwrap_or_else(|| "dev".to_string())
        };
        let t = &a.targets;
        let dev_targets = command == "test"
            || t.all_targets
            || t.tests
            || t.examples
            || t.benches
            || !t.test.is_empty()
            || !t.example.is_empty()
            || !t.bench.is_empty();
        let mut features: Vec<String> = a
            .features
            .features
            .iter()
            .flat_map(|f| f.split([',', ' ']))
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect();
        features.sort();
        features.dedup();
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v.dedup();
            v
        };
        // cargo treats an empty variable as unset.
        let env = std::env::vars()
            .filter(|(_, v)| !v.is_empty())
            .filter(|(k, _)| {
                ENV_EXACT.contains(&k.as_str())
                    || (ENV_PREFIXES.iter().any(|p| k.starts_with(p)) && k != "CARGO_TARGET_DIR")
            })
            .collect();
        Ok(Record {
            format: RECORD_FORMAT,
            command: command.to_string(),
            packages: sorted(&a.packages.package),
            workspace: a.packages.workspace,
            exclude: sorted(&a.packages.exclude),
            features,
            all_features: a.features.all_features,
            no_default_features: a.features.no_default_features,
            profile,
            targets: sorted(&a.compile.target),
            dev_targets,
            config_args: a.manifest.config.clone(),
            unstable: a.manifest.unstable.clone(),
            rustc: rustc.to_string(),
            env,
            config_files: config_files(dir)?,
            toolchain_file: crate::skeleton::find_toolchain(dir)
                .map(|p| crate::fs::read(&p).map(|b| crate::skeleton::sha256_hex(&b)))
                .transpose()?,
            units: None,
            unit_graph: None,
        })
    }

    pub fn write(&self, target_dir: &Path) -> Result<()> {
        crate::fs::create_dir_all(target_dir)?;
        let mut json = serde_json::to_vec_pretty(self)?;
        json.push(b'\n');
        crate::fs::write(&target_dir.join(RECORD_FILE), &json)
    }

    pub fn read(target_dir: &Path) -> Result<Option<Record>> {
        let path = target_dir.join(RECORD_FILE);
        let Some(bytes) = crate::fs::read_if_exists(&path)? else {
            return Ok(None);
        };
        let record: Record = serde_json::from_slice(&bytes)
            .with_context(|| format!("failed to parse cook record `{}`", path.display()))?;
        Ok(Some(record))
    }

    /// Where `build` (this record) differs from `cook` in ways that recompile dependencies,
    /// each with what to change.
    pub fn mismatches(cook: &Record, build: &Record, ws: &WorkspaceInfo) -> Vec<Mismatch> {
        let (cook_selected, build_selected) = (ws.select(cook), ws.select(build));
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

/// Config files cargo reads from `dir` upward plus `$CARGO_HOME`'s, secrets removed.
fn config_files(dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for path in crate::skeleton::cargo_configs(dir)? {
        let text = crate::fs::read_to_string(&path)?;
        let clean = crate::skeleton::sanitize_config(&path, &text)?;
        let shown = path
            .strip_prefix(dir)
            .map_or_else(|_| path.display().to_string(), |p| p.display().to_string());
        out.insert(shown, crate::skeleton::sha256_hex(clean.as_bytes()));
    }
    Ok(out)
}

/// `rustc -vV` as cargo would run it in `dir` (honouring a toolchain file the same way).
pub fn rustc_version(cmd_base: &CargoCommand) -> Result<String> {
    let mut cmd = cmd_base
        .clone()
        .with_program(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()));
    cmd.arg("-vV");
    let output = cmd.output()?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_string())
}

/// The target directory cargo will use in `dir`, worked out without running cargo:
/// `--target-dir`, `CARGO_TARGET_DIR`, `CARGO_BUILD_TARGET_DIR`, then `build.target-dir` of the
/// nearest config file (relative to the directory holding `.cargo/`), else `dir/target`.
/// `None` when `--config` arguments might set it (then ask cargo).
pub fn target_dir_of(flags: &Flags, dir: &Path) -> Result<Option<PathBuf>> {
    if let Some(d) = flags.target_dir() {
        return Ok(Some(PathBuf::from(d)));
    }
    for var in ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            return Ok(Some(dir.join(v)));
        }
    }
    if flags
        .args
        .manifest
        .config
        .iter()
        .any(|c| c.contains("target-dir"))
    {
        return Ok(None);
    }
    let configs = crate::skeleton::cargo_configs(dir)?;
    Ok(Some(
        crate::skeleton::build_target_dir(&configs)?.unwrap_or_else(|| dir.join("target")),
    ))
}

/// `rustc -vV` as cargo last cached it in `target/.rustc_info.json`, saving a process.
pub fn cached_rustc_version(target_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(target_dir.join(".rustc_info.json")).ok()?;
    let info: serde_json::Value = serde_json::from_str(&text).ok()?;
    let outputs = info.get("outputs")?.as_object()?;
    let mut found = outputs
        .values()
        .filter_map(|o| o.get("stdout")?.as_str())
        .filter(|out| {
            out.starts_with("rustc ") && out.contains("\nbinary: rustc") && out.contains("\nhost: ")
        });
    let first = found.next()?.trim_end().to_string();
    // Two different toolchains cached in one target dir: ask rustc instead.
    found.all(|o| o.trim_end() == first).then_some(first)
}

/// What cargo reports of the workspace in `dir`: where artifacts go and which packages a
/// selection means.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceInfo {
    pub target_directory: PathBuf,
    pub workspace_root: PathBuf,
    /// Member package names.
    pub members: Vec<String>,
    /// Default member package names.
    pub default_members: Vec<String>,
}

impl WorkspaceInfo {
    /// One `cargo metadata --no-deps` in `dir`, with these flags' config.
    pub fn load(base: &CargoCommand, flags: &Flags, dir: &Path) -> Result<WorkspaceInfo> {
        let mut cmd = base.clone();
        cmd.args(["metadata", "--no-deps", "--format-version", "1"])
            .args(flags.locate_args(false));
        let output = cmd.output()?;
        #[derive(Deserialize)]
        struct Pkg {
            id: String,
            name: String,
        }
        #[derive(Deserialize)]
        struct Meta {
            target_directory: PathBuf,
            workspace_root: PathBuf,
            packages: Vec<Pkg>,
            workspace_members: Vec<String>,
            #[serde(default)]
            workspace_default_members: Vec<String>,
        }
        let meta: Meta = serde_json::from_slice(&output.stdout).with_context(|| {
            format!(
                "failed to parse the output of `{cmd}` in `{}`",
                dir.display()
            )
        })?;
        let name_of = |id: &String| {
            meta.packages
                .iter()
                .find(|p| &p.id == id)
                .map(|p| p.name.clone())
        };
        let target_directory = match flags.target_dir() {
            Some(dir) => PathBuf::from(dir),
            None => meta.target_directory.clone(),
        };
        Ok(WorkspaceInfo {
            target_directory,
            workspace_root: meta.workspace_root.clone(),
            members: meta.workspace_members.iter().filter_map(name_of).collect(),
            default_members: meta
                .workspace_default_members
                .iter()
                .filter_map(name_of)
                .collect(),
        })
    }

    /// The package names a record's `-p`/`--workspace`/`--exclude` selection means, sorted.
    pub fn select(&self, r: &Record) -> Vec<String> {
        // `name`, `name@1.2.3` or a full `path+file://...#name@1.2.3` spec.
        let spec_name = |spec: &str| {
            let tail = spec.rsplit('#').next().unwrap_or(spec);
            tail.split('@').next().unwrap_or(tail).to_string()
        };
        let mut names: Vec<String> = if r.workspace {
            let excluded: Vec<String> = r.exclude.iter().map(|e| spec_name(e)).collect();
            self.members
                .iter()
                .filter(|m| !excluded.contains(m))
                .cloned()
                .collect()
        } else if !r.packages.is_empty() {
            r.packages.iter().map(|s| spec_name(s)).collect()
        } else {
            self.default_members.clone()
        };
        names.sort();
        names.dedup();
        names
    }
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
