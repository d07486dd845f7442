//! The workspace as prepare sees it: one `cargo metadata --no-deps` call per workspace
//! reached (the main one, and any other workspace owning an out-of-root path dependency),
//! reduced to a small model. Nothing else touches `cargo_metadata` types.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, TargetKind};

mod guess;
pub use guess::workspace as guess;

/// A local (path) package, as far as dependency compilation cares. Lists are sorted and
/// free of duplicates, so two models of one package compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// Directory holding `Cargo.toml` (absolute, symlinks resolved).
    pub dir: PathBuf,
    pub manifest_path: PathBuf,
    pub lib: Option<LibKind>,
    pub has_bins: bool,
    /// Names of the bin targets (for `prepare --bin`).
    pub bins: Vec<String>,
    pub has_build_script: bool,
    pub has_build_deps: bool,
    pub has_dev_deps: bool,
    pub links: Option<String>,
    /// Package names of every declared dependency (all kinds and platforms).
    pub dep_names: Vec<String>,
    /// Directories of this package's path dependencies.
    pub path_deps: Vec<PathBuf>,
    /// Root directory of the workspace this package belongs to.
    pub workspace_root: PathBuf,
}

/// The library target's crate types, as cargo resolved them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibKind {
    ProcMacro,
    CrateTypes(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// Workspace root directory (absolute, symlinks resolved).
    pub root: PathBuf,
    /// Every local package reached: members first, then out-of-root path dependencies,
    /// keyed by directory.
    pub packages: BTreeMap<PathBuf, Package>,
    /// Directories of the workspace members.
    pub members: BTreeSet<PathBuf>,
    /// Root directories of other workspaces that own out-of-root path dependencies.
    pub foreign_roots: BTreeSet<PathBuf>,
}

impl Workspace {
    /// Loads the workspace that `manifest_path` (or the current directory) belongs to.
    pub fn load(manifest_path: Option<&Path>) -> Result<Workspace> {
        let metadata = metadata(manifest_path)?;
        let mut paths = Canonical::default();
        let root = paths.resolve(metadata.workspace_root.as_std_path())?;
        let mut ws = Workspace {
            root: root.clone(),
            packages: BTreeMap::new(),
            members: BTreeSet::new(),
            foreign_roots: BTreeSet::new(),
        };
        for pkg in ws.add_metadata(&metadata, &mut paths)? {
            ws.members.insert(pkg);
        }
        ws.follow_path_deps(&mut paths)?;
        Ok(ws)
    }

    /// Adds the workspace members of `metadata`; returns their directories.
    fn add_metadata(&mut self, metadata: &Metadata, paths: &mut Canonical) -> Result<Vec<PathBuf>> {
        let ws_root = paths.resolve(metadata.workspace_root.as_std_path())?;
        let mut dirs = Vec::new();
        for pkg in metadata.workspace_packages() {
            let manifest_path = paths.resolve(pkg.manifest_path.as_std_path())?;
            let dir = manifest_path
                .parent()
                .map(Path::to_path_buf)
                .with_context(|| format!("manifest `{}` has no parent", manifest_path.display()))?;
            let lib = pkg
                .targets
                .iter()
                .find(|t| t.is_lib() || t.is_proc_macro() || is_lib_like(&t.kind));
            let lib = lib.map(|t| {
                if t.is_proc_macro() {
                    LibKind::ProcMacro
                } else {
                    LibKind::CrateTypes(t.crate_types.iter().map(|c| c.to_string()).collect())
                }
            });
            let has_kind = |k: TargetKind| pkg.targets.iter().any(|t| t.kind.contains(&k));
            let deps_of = |kind: DependencyKind| pkg.dependencies.iter().any(|d| d.kind == kind);
            let mut path_deps = BTreeSet::new();
            for dep in &pkg.dependencies {
                if let Some(path) = &dep.path {
                    path_deps.insert(paths.resolve(path.as_std_path()).with_context(|| {
                        format!(
                            "path dependency `{}` of `{}` does not exist",
                            dep.name, pkg.name
                        )
                    })?);
                }
            }
            self.packages.insert(
                dir.clone(),
                Package {
                    name: pkg.name.to_string(),
                    version: pkg.version.to_string(),
                    dir: dir.clone(),
                    manifest_path,
                    lib,
                    has_bins: has_kind(TargetKind::Bin),
                    bins: pkg
                        .targets
                        .iter()
                        .filter(|t| t.is_bin())
                        .map(|t| t.name.clone())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                    has_build_script: has_kind(TargetKind::CustomBuild),
                    has_build_deps: deps_of(DependencyKind::Build),
                    has_dev_deps: deps_of(DependencyKind::Development),
                    links: pkg.links.clone(),
                    path_deps: path_deps.into_iter().collect(),
                    dep_names: pkg
                        .dependencies
                        .iter()
                        .map(|d| d.name.clone())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                    workspace_root: ws_root.clone(),
                },
            );
            dirs.push(dir);
        }
        Ok(dirs)
    }

    /// Path dependencies outside this workspace (`../shared-lib`, other workspaces of a
    /// monorepo) are local code too: load each through its own workspace.
    fn follow_path_deps(&mut self, paths: &mut Canonical) -> Result<()> {
        loop {
            let missing: BTreeSet<PathBuf> = self
                .packages
                .values()
                .flat_map(|p| p.path_deps.iter())
                .filter(|dir| !self.packages.contains_key(*dir))
                .cloned()
                .collect();
            let Some(dir) = missing.into_iter().next() else {
                return Ok(());
            };
            let metadata = metadata(Some(&dir.join("Cargo.toml")))?;
            let root = paths.resolve(metadata.workspace_root.as_std_path())?;
            let added = self.add_metadata(&metadata, paths)?;
            if !added.contains(&dir) {
                bail!(
                    "path dependency `{}` is not a package of its workspace",
                    dir.display()
                );
            }
            // Keep only the packages actually reached; the rest of a foreign workspace is not
            // an input of this build.
            let reached = self.reachable();
            self.packages.retain(|dir, _| reached.contains(dir));
            if root != self.root {
                self.foreign_roots.insert(root);
            }
        }
    }

    /// Keeps only the members selected by package name or bin name, and the local packages
    /// they reach: a per-image skeleton.
    pub fn prune(&mut self, packages: &[String], bins: &[String]) -> Result<()> {
        let mut selected = BTreeSet::new();
        for name in packages {
            let dir = self
                .members
                .iter()
                .find(|d| self.packages.get(*d).is_some_and(|p| &p.name == name));
            match dir {
                Some(dir) => selected.insert(dir.clone()),
                None => bail!(
                    "package `{name}` is not a member of the workspace at `{}`",
                    self.root.display()
                ),
            };
        }
        for bin in bins {
            let dir = self.members.iter().find(|d| {
                self.packages
                    .get(*d)
                    .is_some_and(|p| p.bins.iter().any(|b| b == bin))
            });
            match dir {
                Some(dir) => selected.insert(dir.clone()),
                None => bail!("no workspace member has a bin target named `{bin}`"),
            };
        }
        let reached = self.reachable_from(&selected);
        self.packages.retain(|dir, _| reached.contains(dir));
        self.members.retain(|dir| reached.contains(dir));
        let roots: BTreeSet<PathBuf> = self
            .packages
            .values()
            .map(|p| p.workspace_root.clone())
            .collect();
        self.foreign_roots.retain(|r| roots.contains(r));
        Ok(())
    }

    /// Directories of the packages reachable from the members through path dependencies.
    fn reachable(&self) -> BTreeSet<PathBuf> {
        self.reachable_from(&self.members)
    }

    fn reachable_from(&self, start: &BTreeSet<PathBuf>) -> BTreeSet<PathBuf> {
        let mut seen: BTreeSet<PathBuf> = start.clone();
        let mut stack: Vec<PathBuf> = start.iter().cloned().collect();
        while let Some(dir) = stack.pop() {
            if let Some(pkg) = self.packages.get(&dir) {
                for dep in &pkg.path_deps {
                    if seen.insert(dep.clone()) {
                        stack.push(dep.clone());
                    }
                }
            }
        }
        seen
    }
}

/// `realpath` with memory: the manifests and path dependencies of a large workspace share
/// most of their directories, so each directory is resolved once (one `lstat` per new
/// component) instead of once per path.
#[derive(Default)]
struct Canonical {
    resolved: std::collections::HashMap<PathBuf, PathBuf>,
}

impl Canonical {
    fn resolve(&mut self, path: &Path) -> Result<PathBuf> {
        if !path.is_absolute() {
            return crate::fs::canonicalize(path);
        }
        let mut out = PathBuf::new();
        for component in path.components() {
            match component {
                std::path::Component::ParentDir => {
                    // `out` has no symlinks left, so `..` is lexical from here.
                    out.pop();
                }
                std::path::Component::CurDir => {}
                std::path::Component::Normal(_) => {
                    out.push(component);
                    if let Some(known) = self.resolved.get(&out) {
                        out = known.clone();
                        continue;
                    }
                    let meta = std::fs::symlink_metadata(&out)
                        .with_context(|| format!("failed to resolve `{}`", path.display()))?;
                    let real = if meta.file_type().is_symlink() {
                        crate::fs::canonicalize(&out)?
                    } else {
                        out.clone()
                    };
                    self.resolved.insert(out, real.clone());
                    out = real;
                }
                other => out.push(other),
            }
        }
        if out.as_os_str().is_empty() {
            return crate::fs::canonicalize(path);
        }
        Ok(out)
    }
}

fn is_lib_like(kinds: &[TargetKind]) -> bool {
    kinds.iter().any(|k| {
        matches!(
            k,
            TargetKind::Lib
                | TargetKind::RLib
                | TargetKind::DyLib
                | TargetKind::CDyLib
                | TargetKind::StaticLib
                | TargetKind::ProcMacro
        )
    })
}

/// `cargo metadata --no-deps`: no resolution, so no registry access and no credentials.
fn metadata(manifest_path: Option<&Path>) -> Result<Metadata> {
    let mut cmd = MetadataCommand::new();
    cmd.no_deps();
    let mut options = vec!["--offline".to_string()];
    // prepare's `--config` and `-Z` (`--offline` is given already).
    options.extend(
        crate::cargo::global_args()
            .into_iter()
            .filter(|a| a != "--offline"),
    );
    cmd.other_options(options);
    if let Some(path) = manifest_path {
        cmd.manifest_path(path);
    }
    let shown = manifest_path.map_or_else(
        || "the current directory".to_string(),
        |p| format!("`{}`", p.display()),
    );
    cmd.exec()
        .with_context(|| format!("failed to load the workspace of {shown} with `cargo metadata`"))
}
