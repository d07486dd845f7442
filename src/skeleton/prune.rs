//! Per-image skeletons (`prepare -p NAME` / `--bin NAME`): only the selected members and the
//! local packages they reach, so a change in an unrelated member leaves the skeleton alone.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};

use super::{join, manifest, relative, FileKind, Skeleton};
use crate::cargo::CargoCommand;
use crate::toml::{self, Node, Table};
use crate::workspace::Workspace;

/// Lists the kept members explicitly; `default-members` would name pruned ones.
pub fn restrict_members(root: &mut Table, ws: &Workspace) -> Result<()> {
    let Some(workspace) = toml::table_mut(root, "workspace") else {
        return Ok(());
    };
    let mut members = toml_edit::Array::new();
    for dir in &ws.members {
        if *dir != ws.root {
            members.push(relative(&ws.root, dir)?);
        }
    }
    workspace.insert(
        "members".to_string(),
        Node::Value(toml::clean(&members.into())),
    );
    workspace.remove("default-members");
    Ok(())
}

/// Drops `[workspace.dependencies]` entries no kept manifest inherits.
pub fn unused_workspace_dependencies(skeleton: &mut Skeleton) -> Result<()> {
    let root_path = join(&skeleton.workspace, "Cargo.toml");
    let mut used = BTreeSet::new();
    for (path, file) in &skeleton.files {
        if file.kind != FileKind::Manifest {
            continue;
        }
        let mut doc = toml::parse(&String::from_utf8_lossy(&file.contents), Path::new(path))?;
        manifest::for_each_dep_table(&mut doc, |deps| {
            for (name, dep) in deps.iter() {
                if let Node::Table(dep) = dep {
                    if dep.contains_key("workspace") {
                        used.insert(name.clone());
                    }
                }
            }
        });
    }
    let Some(file) = skeleton.files.get_mut(&root_path) else {
        return Ok(());
    };
    let mut root = toml::parse(
        &String::from_utf8_lossy(&file.contents),
        Path::new(&root_path),
    )?;
    if let Some(deps) =
        toml::table_mut(&mut root, "workspace").and_then(|ws| toml::table_mut(ws, "dependencies"))
    {
        deps.retain(|name, _| used.contains(name));
    }
    file.contents = toml::to_string(&root).into_bytes();
    Ok(())
}

/// The pruned workspace's lockfile, written by cargo itself from the full one: cargo keeps
/// every locked version and drops what the kept members no longer reach (including optional
/// dependencies only pruned members enabled), so the result is exactly what `--locked` wants.
/// This resolution reads the registry index (from cache or the network).
pub fn relock(skeleton: &mut Skeleton) -> Result<()> {
    let lock_path = join(&skeleton.workspace, "Cargo.lock");
    if !skeleton.files.contains_key(&lock_path) {
        return Ok(());
    }
    let scratch = tempfile::Builder::new()
        .prefix("cargo-prebuild-relock-")
        .tempdir()
        .context("failed to create a temporary directory")?;
    for (path, file) in &skeleton.files {
        let dest = scratch.path().join(path);
        super::create_dirs(scratch.path(), &dest, &mut Vec::new())?;
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
