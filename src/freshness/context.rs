//! The facts of a build that content freshness needs, resolved once at the command's entry:
//! the workspace's root and packages, the target directory and this build's profile
//! directories, its targets, which paths are local, and the record header it would write.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::record::{Header, FORMAT};
use super::units::{self, Scope, Unit};
use crate::context::BuildContext;

/// The facts of this build that freshness needs, resolved once.
#[derive(Debug)]
pub struct Context {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    /// This build's profile directories (host and each target triple), existing or not.
    pub profile_dirs: Vec<PathBuf>,
    pub scope: Scope,
    profile: String,
    targets: Vec<String>,
    workspace: crate::workspace::Workspace,
}

impl Context {
    pub fn resolve(build: &BuildContext) -> Result<Context> {
        let ws = build.model()?;
        let target_dir = build.target_dir()?;
        let target_dir = crate::fs::canonicalize(&target_dir).unwrap_or(target_dir);
        let targets = build.targets()?;
        let profile = build.flags.asked.profile_dir().to_string();
        let mut profile_dirs = vec![target_dir.join(&profile)];
        for t in &targets {
            profile_dirs.push(target_dir.join(t).join(&profile));
        }
        let mut roots = vec![ws.root.clone()];
        for pkg in ws.packages.values() {
            if !pkg.dir.starts_with(&ws.root) {
                roots.push(pkg.dir.clone());
            }
        }
        let mut excluded = vec![target_dir.clone()];
        if let Some(home) = cargo_home() {
            excluded.push(home);
        }
        let packages = ws
            .packages
            .values()
            .map(|p| (p.name.clone(), p.dir.clone()))
            .collect();
        Ok(Context {
            root: ws.root.clone(),
            target_dir,
            profile_dirs,
            scope: Scope {
                base: ws.root.clone(),
                roots,
                excluded,
                packages,
            },
            profile,
            targets,
            workspace: ws,
        })
    }

    pub(super) fn header(&self, rustc: String) -> Header {
        let options = crate::skeleton::PrepareOptions {
            manifest_path: Some(self.workspace.root.join("Cargo.toml")),
            ..crate::skeleton::PrepareOptions::default()
        };
        // A skeleton that cannot be derived matches no record: every local crate compiles.
        let skeleton = crate::prepare::derive_from(self.workspace.clone(), &options)
            .map(|d| d.skeleton.digest())
            .unwrap_or_else(|err| format!("unknown ({err:#})"));
        Header {
            format: FORMAT,
            rustc,
            workspace_root: self.root.to_string_lossy().into_owned(),
            profile: self.profile.clone(),
            targets: self.targets.clone(),
            skeleton,
        }
    }

    pub(super) fn units(&self) -> Result<Vec<Unit>> {
        units::scan(&self.profile_dirs, &self.target_dir, &self.scope)
    }

    /// Record key of a local path.
    pub(super) fn key(&self, path: &Path) -> String {
        crate::skeleton::relative(&self.root, path)
            .unwrap_or_else(|_| path.to_string_lossy().into_owned())
    }
}

fn cargo_home() -> Option<PathBuf> {
    let home = crate::workspace::cargo_home()?;
    Some(crate::fs::canonicalize(&home).unwrap_or(home))
}
