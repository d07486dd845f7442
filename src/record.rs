//! The cook record: how cook ran (flags, selection, features, profile, targets, toolchain,
//! environment, config), kept in the target directory so a later build can be compared with
//! it and told, before compiling, what would make it recompile dependencies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::context::{BuildContext, Subcommand};

mod mismatch;

pub use mismatch::{mismatches, Mismatch, GRAPH_KINDS};

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

impl Record {
    /// How `ctx` runs `command` as of now: a projection of the build context, with the
    /// toolchain cook or the build reported.
    pub fn capture(command: Subcommand, ctx: &BuildContext, rustc: &str) -> Result<Record> {
        let a = &ctx.flags.asked;
        let features: BTreeSet<String> = a
            .features
            .iter()
            .flat_map(|f| f.split([',', ' ']))
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect();
        let sorted = |v: &[String]| -> Vec<String> {
            v.iter()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
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
            command: command.name().to_string(),
            packages: sorted(&a.packages),
            workspace: a.workspace,
            exclude: sorted(&a.exclude),
            features: features.into_iter().collect(),
            all_features: a.all_features,
            no_default_features: a.no_default_features,
            profile: a.profile().to_string(),
            targets: sorted(&a.targets),
            dev_targets: command == Subcommand::Test || a.dev_targets,
            config_args: a.config.clone(),
            unstable: a.unstable.clone(),
            rustc: rustc.to_string(),
            env,
            config_files: config_files(ctx)?,
            toolchain_file: crate::workspace::find_toolchain(&ctx.dir)
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
}

/// Config files cargo reads from `dir` upward plus `$CARGO_HOME`'s, secrets removed.
fn config_files(ctx: &BuildContext) -> Result<BTreeMap<String, String>> {
    let dir = &ctx.dir;
    let mut out = BTreeMap::new();
    for path in &ctx.configs()? {
        let text = crate::fs::read_to_string(path)?;
        let clean = crate::skeleton::sanitize_config(path, &text)?;
        let shown = path
            .strip_prefix(dir)
            .map_or_else(|_| path.display().to_string(), |p| p.display().to_string());
        out.insert(shown, crate::skeleton::sha256_hex(clean.as_bytes()));
    }
    Ok(out)
}
