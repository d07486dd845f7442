//! Rules for per-image skeletons (`prepare -p NAME` / `--bin NAME`): the root lists only the
//! selected members (the model was pruned to them and the local packages they reach, by
//! `Workspace::prune`), and drops the `[workspace.dependencies]` no kept manifest inherits,
//! so a change in an unrelated member leaves the skeleton alone. The lockfile is pruned by
//! cargo itself, in prepare's relock step.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::{join, relative, FileKind, Skeleton};
use crate::toml::{self, Node, Table};

/// Lists the kept members (directories, the root at `ws_root` aside) explicitly;
/// `default-members` would name pruned ones.
pub fn restrict_members(root: &mut Table, ws_root: &Path, kept: &BTreeSet<PathBuf>) -> Result<()> {
    let Some(workspace) = toml::table_mut(root, "workspace") else {
        return Ok(());
    };
    let mut members = toml_edit::Array::new();
    for dir in kept {
        if dir != ws_root {
            members.push(relative(ws_root, dir)?);
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
        let doc = toml::parse(&String::from_utf8_lossy(&file.contents), Path::new(path))?;
        toml::for_each_dep_table(&doc, |deps| {
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
