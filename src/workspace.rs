//! The workspace as prepare sees it: one `cargo metadata --no-deps` call per workspace
//! reached (the main one, and any other workspace owning an out-of-root path dependency),
//! reduced to a small model. Nothing else touches `cargo_metadata` types. Reading the files a
//! skeleton is derived from is `inputs`; finding config and toolchain files is `config`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use cargo_metadata::{Metadata, MetadataCommand, TargetKind};

mod config;
mod inputs;

pub use config::{cargo_configs, cargo_home, find_configs, find_toolchain};
pub use inputs::{FileBytes, Inputs, Verbatim};

/// A local (path) package, as far as dependency compilation cares. Lists are sorted and
/// free of duplicates, so two models of one package compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// Directory holding `Cargo.toml` (absolute, symlinks resolved).
    pub dir: PathBuf,
    pub manifest_path: PathBuf,
    /// Every lib, bin, example, test and bench target, sorted.
    pub targets: Vec<Target>,
    pub has_build_script: bool,
    pub links: Option<String>,
    /// Package names of every declared dependency (all kinds and platforms).
    pub dep_names: Vec<String>,
    /// Directories of this package's path dependencies.
    pub path_deps: Vec<PathBuf>,
    /// Of which normal and build dependencies: what its library and build script compile
    /// against (dev-dependencies reach only its tests, examples and benches).
    pub lib_path_deps: Vec<PathBuf>,
    /// Root directory of the workspace this package belongs to.
    pub workspace_root: PathBuf,
}

/// The kinds of target a stub can stand for (build scripts are handled apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Lib,
    Bin,
    Example,
    Test,
    Bench,
}

impl Kind {
    /// cargo's defaults for the `test`, `doctest` and `doc` flags of a target of this kind.
    pub fn default_flags(self) -> (bool, bool, bool) {
        match self {
            Kind::Lib => (true, true, true),
            Kind::Bin => (true, false, true),
            Kind::Test => (true, false, false),
            Kind::Example | Kind::Bench => (false, false, false),
        }
    }

    /// cargo's default for the `bench` flag (absent from `cargo metadata`).
    pub fn default_bench(self) -> bool {
        matches!(self, Kind::Lib | Kind::Bin | Kind::Bench)
    }

    /// The manifest table that declares targets of this kind.
    pub fn table(self) -> &'static str {
        match self {
            Kind::Lib => "lib",
            Kind::Bin => "bin",
            Kind::Example => "example",
            Kind::Test => "test",
            Kind::Bench => "bench",
        }
    }
}

/// One target of a local package, with what decides which units cargo builds for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub kind: Kind,
    pub name: String,
    /// Sorted; `["proc-macro"]` for a proc-macro lib.
    pub crate_types: Vec<String>,
    /// Sorted and free of duplicates: only the set matters to cargo.
    pub required_features: Vec<String>,
    pub test: bool,
    pub doctest: bool,
    pub doc: bool,
}

impl Package {
    /// Names of the bin targets (for `prepare --bin`).
    pub fn bins(&self) -> impl Iterator<Item = &str> {
        self.targets
            .iter()
            .filter(|t| t.kind == Kind::Bin)
            .map(|t| t.name.as_str())
    }
}

/// A sorted list without duplicates, as the model keeps its lists.
pub fn sorted<T: Ord>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    items
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
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
    /// Names of the packages a per-image [`Workspace::prune`] left out.
    pub pruned_names: BTreeSet<String>,
}

impl Workspace {
    /// Loads the workspace that `manifest_path` (or the current directory) belongs to.
    pub fn load(manifest_path: Option<&Path>) -> Result<Workspace> {
        Workspace::from_metadata(&metadata(manifest_path)?)
    }

    /// The workspace `metadata` (a `cargo metadata --no-deps`) describes, with the out-of-root
    /// path dependencies it reaches (their workspaces are asked for in turn).
    pub fn from_metadata(metadata: &Metadata) -> Result<Workspace> {
        let mut paths = Canonical::default();
        let root = paths.resolve(metadata.workspace_root.as_std_path())?;
        let mut ws = Workspace {
            root: root.clone(),
            packages: BTreeMap::new(),
            members: BTreeSet::new(),
            foreign_roots: BTreeSet::new(),
            pruned_names: BTreeSet::new(),
        };
        for pkg in ws.add_metadata(metadata, &mut paths)? {
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
            let has_kind = |k: TargetKind| pkg.targets.iter().any(|t| t.kind.contains(&k));
            let mut path_deps = BTreeSet::new();
            let mut lib_path_deps = BTreeSet::new();
            for dep in &pkg.dependencies {
                if let Some(path) = &dep.path {
                    let dir = paths.resolve(path.as_std_path()).with_context(|| {
                        format!(
                            "path dependency `{}` of `{}` does not exist",
                            dep.name, pkg.name
                        )
                    })?;
                    if dep.kind != cargo_metadata::DependencyKind::Development {
                        lib_path_deps.insert(dir.clone());
                    }
                    path_deps.insert(dir);
                }
            }
            self.packages.insert(
                dir.clone(),
                Package {
                    name: pkg.name.to_string(),
                    version: pkg.version.to_string(),
                    dir: dir.clone(),
                    manifest_path,
                    targets: sorted(pkg.targets.iter().filter_map(target)),
                    has_build_script: has_kind(TargetKind::CustomBuild),
                    links: pkg.links.clone(),
                    path_deps: path_deps.into_iter().collect(),
                    lib_path_deps: lib_path_deps.into_iter().collect(),
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
                    .is_some_and(|p| p.bins().any(|b| b == bin))
            });
            match dir {
                Some(dir) => selected.insert(dir.clone()),
                None => bail!("no workspace member has a bin target named `{bin}`"),
            };
        }
        let reached = self.reachable_from(&selected);
        for (dir, pkg) in &self.packages {
            if !reached.contains(dir) {
                self.pruned_names.insert(pkg.name.clone());
            }
        }
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

/// The model of a target from `cargo metadata`; `None` for build scripts.
fn target(t: &cargo_metadata::Target) -> Option<Target> {
    let kind = if t.is_bin() {
        Kind::Bin
    } else if t.is_example() {
        Kind::Example
    } else if t.is_test() {
        Kind::Test
    } else if t.is_bench() {
        Kind::Bench
    } else if is_lib_like(&t.kind) {
        Kind::Lib
    } else {
        return None;
    };
    Some(Target {
        kind,
        name: t.name.clone(),
        crate_types: sorted(t.crate_types.iter().map(|c| c.to_string())),
        required_features: sorted(t.required_features.iter().cloned()),
        test: t.test,
        doctest: t.doctest,
        doc: t.doc,
    })
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
