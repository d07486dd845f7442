//! prepare's relock step for per-image skeletons: the pruned workspace's lockfile, written by
//! cargo itself from the masked full one. The one step of prepare after derivation that runs
//! a program.

use anyhow::{Context, Result};

use crate::cargo::CargoCommand;
use crate::skeleton::{self, Skeleton};

/// Replaces the skeleton's lockfile with the one cargo writes for the pruned workspace: cargo
/// keeps every locked version and drops what the kept members no longer reach (including
/// optional dependencies only pruned members enabled), so the result is exactly what
/// `--locked` wants. This resolution reads the registry index (from cache or the network).
pub fn relock(skeleton: &mut Skeleton) -> Result<()> {
    let lock_path = skeleton::join(&skeleton.workspace, "Cargo.lock");
    if !skeleton.files.contains_key(&lock_path) {
        return Ok(());
    }
    let scratch = tempfile::Builder::new()
        .prefix("cargo-prebuild-relock-")
        .tempdir()
        .context("failed to create a temporary directory")?;
    for (path, file) in &skeleton.files {
        let dest = scratch.path().join(path);
        skeleton::create_dirs(scratch.path(), &dest, &mut Vec::new())?;
        crate::fs::write(&dest, &file.contents)?;
    }
    let ws_dir = scratch.path().join(&skeleton.workspace);
    let mut cmd = CargoCommand::new(&ws_dir);
    cmd.args(["metadata", "--format-version", "1", "--quiet"]);
    cmd.output()
        .context("failed to compute the lockfile of the pruned workspace")?;
    let relocked = crate::fs::read(&scratch.path().join(&lock_path))?;
    if let Some(file) = skeleton.files.get_mut(&lock_path) {
        file.contents = relocked;
    }
    Ok(())
}
