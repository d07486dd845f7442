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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use expect_test::expect;

    use super::*;
    use crate::skeleton::{check_rule, File};

    #[test]
    fn restrict_members_lists_the_kept_ones() {
        let kept = BTreeSet::from([
            PathBuf::from("/ws"),
            PathBuf::from("/ws/crates/app"),
            PathBuf::from("/ws/crates/core"),
        ]);
        check_rule(
            r#"
            [workspace]
            members = ["crates/*", "tools/*"]
            default-members = ["crates/app", "tools/gen"]
            exclude = ["old"]
            "#,
            |m| restrict_members(m, Path::new("/ws"), &kept).unwrap(),
            expect![[r#"
                [workspace]
                exclude = ["old"]
                members = ["crates/app", "crates/core"]
            "#]],
        );
    }

    #[test]
    fn unused_workspace_dependencies_are_dropped() {
        let manifest = |text: &str| File {
            kind: FileKind::Manifest,
            contents: text.as_bytes().to_vec(),
        };
        let mut skeleton = Skeleton {
            files: BTreeMap::from([
                (
                    "Cargo.toml".to_string(),
                    manifest(
                        "[workspace.dependencies]\nitoa = '1'\nserde = '1'\nlibc = '0.2'\nsmallvec = '1'\n\
                         [dependencies]\nsmallvec.workspace = true\n",
                    ),
                ),
                (
                    "crates/app/Cargo.toml".to_string(),
                    manifest(
                        "[dependencies]\nitoa = { workspace = true }\n\
                         [target.'cfg(unix)'.dev-dependencies]\nlibc.workspace = true\n",
                    ),
                ),
            ]),
            workspace: ".".to_string(),
            stub_packages: Vec::new(),
        };
        unused_workspace_dependencies(&mut skeleton).unwrap();
        let root = &skeleton.files["Cargo.toml"].contents;
        expect![[r#"
            [workspace.dependencies]
            itoa = { version = "1" }
            libc = { version = "0.2" }
            smallvec = { version = "1" }

            [dependencies]
            smallvec = { workspace = true }
        "#]]
        .assert_eq(&String::from_utf8_lossy(root));
    }
}
