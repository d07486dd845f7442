//! The cargo and rustc calls that are not builds, each named: `metadata --no-deps`,
//! `clean -p`, `rustc -vV` (and cargo's cache of it), `build --help`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use cargo_metadata::{Metadata, PackageId};

use super::CargoCommand;

/// What `cargo metadata --no-deps` reports of a workspace: where artifacts go and which
/// packages it holds.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceInfo {
    pub target_directory: PathBuf,
    /// `build.build-dir`, where cargo keeps units (cargo 1.91 and later report it).
    pub build_directory: Option<PathBuf>,
    pub workspace_root: PathBuf,
    /// Member package names.
    pub members: Vec<String>,
    /// Default member package names.
    pub default_members: Vec<String>,
}

impl WorkspaceInfo {
    pub fn from_metadata(meta: &Metadata) -> WorkspaceInfo {
        let name_of = |id: &PackageId| {
            meta.packages
                .iter()
                .find(|p| &p.id == id)
                .map(|p| p.name.to_string())
        };
        let default_members = if meta.workspace_default_members.is_available() {
            meta.workspace_default_members
                .iter()
                .filter_map(name_of)
                .collect()
        } else {
            Vec::new()
        };
        WorkspaceInfo {
            target_directory: meta.target_directory.clone().into_std_path_buf(),
            build_directory: meta.build_directory.clone().map(|d| d.into_std_path_buf()),
            workspace_root: meta.workspace_root.clone().into_std_path_buf(),
            members: meta.workspace_members.iter().filter_map(name_of).collect(),
            default_members,
        }
    }
}

/// One `cargo metadata --no-deps` with `args` (config and lock flags).
pub fn metadata_no_deps(base: &CargoCommand, args: &[OsString]) -> Result<Metadata> {
    let mut cmd = base.clone();
    cmd.args(["metadata", "--no-deps", "--format-version", "1"])
        .args(args);
    let output = cmd.output()?;
    serde_json::from_slice(&output.stdout)
        .with_context(|| format!("failed to parse the output of `{cmd}`"))
}

/// `cargo clean --package SPEC... ARGS --quiet`: cargo removes the packages' artifacts in
/// whatever layout it uses.
pub fn clean_packages(base: &CargoCommand, specs: &[String], args: &[OsString]) -> CargoCommand {
    let mut cmd = base.clone();
    cmd.arg("clean");
    for spec in specs {
        cmd.arg("--package").arg(spec);
    }
    cmd.args(args).arg("--quiet");
    cmd
}

/// `rustc -vV` as cargo would run it where `base` runs (honouring a toolchain file the same
/// way).
pub fn rustc_version(base: &CargoCommand) -> Result<String> {
    let mut cmd = base
        .clone()
        .with_program(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()));
    cmd.arg("-vV");
    let output = cmd.output()?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_string())
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

/// The flags the installed cargo lists in `cargo build --help`, run in `dir` (so a toolchain
/// file there picks the cargo).
pub fn build_flags(dir: &Path) -> Result<Vec<crate::cli::CargoFlag>> {
    let mut cmd = CargoCommand::new(dir);
    cmd.args(["build", "--help"]);
    let output = cmd.output()?;
    Ok(crate::cli::parse_cargo_help(&String::from_utf8_lossy(
        &output.stdout,
    )))
}
