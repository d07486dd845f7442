//! What a skeleton is derived from, read from disk in one place: the workspace model, every
//! manifest and cargo config file derivation rewrites (parsed), the lockfile and toolchain
//! file, the files of the directories that go in verbatim, and where path dependencies
//! really lead. `skeleton::derive` reads this value and touches no file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{config, Workspace};
use crate::toml::{self, Table};

/// What of a directory goes into the skeleton verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbatim {
    /// Every file (vendored crates: `.cargo-checksum.json` included).
    Tree,
    /// A package's sources: not `target/`, VCS or hidden directories, nested packages, or its
    /// manifest (normalized separately).
    Package,
}

/// A file's absolute path and contents.
pub type FileBytes = (PathBuf, Vec<u8>);

/// Everything derivation reads, loaded once.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub workspace: Workspace,
    /// The workspace root's `Cargo.toml` (a root package's is in `manifests` too).
    pub root_manifest: Table,
    /// By path: each package's manifest, and those of patched directories and other
    /// workspaces' roots that are not packages here.
    pub manifests: BTreeMap<PathBuf, Table>,
    /// `Cargo.lock` of the workspace root, if there is one.
    pub lockfile: Option<String>,
    /// Cargo config files of the root and its ancestors, nearest first.
    pub configs: Vec<(PathBuf, Table)>,
    /// The toolchain file rustup would use, with its bytes.
    pub toolchain: Option<FileBytes>,
    /// Local directories `[patch]` or `[replace]` point at (symlinks resolved): external
    /// crates compile against them, so their real sources are dependency inputs.
    pub patched: BTreeSet<PathBuf>,
    /// Local packages kept real (`prepare --real`, `[workspace.metadata.cargo-prebuild] real`):
    /// their sources go in verbatim, like patched ones, so cook compiles them for real.
    pub real: BTreeSet<PathBuf>,
    /// Directories `[source]` replacement reads crates from (symlinks resolved), in config
    /// order.
    pub vendored: Vec<PathBuf>,
    /// The files of each patched (`Package`) and vendored (`Tree`) directory, sorted by name.
    trees: BTreeMap<(PathBuf, Verbatim), Vec<FileBytes>>,
    /// Path dependencies that do not name a stubbed package as spelled, by their joined
    /// spelling, with symlinks resolved (those that exist).
    real_paths: BTreeMap<PathBuf, PathBuf>,
}

impl Inputs {
    /// Reads what deriving `workspace`'s skeleton needs, with the packages named in `real`
    /// (and in the root manifest's `[workspace.metadata.cargo-prebuild] real`) kept real.
    /// `output`, the skeleton's destination, is never read as input.
    pub fn read(workspace: Workspace, output: Option<&Path>, real: &[String]) -> Result<Inputs> {
        let root = workspace.root.clone();
        let root_path = root.join("Cargo.toml");
        let root_manifest = read_toml(&root_path)?;
        let real = real_packages(&workspace, &root_manifest, real)?;
        let mut configs = Vec::new();
        for path in config::find_configs(&root)? {
            let doc = read_toml(&path)?;
            configs.push((path, doc));
        }
        let mut patched = BTreeSet::new();
        config::patch_dirs(&root, &root_manifest, &mut patched);
        // `[patch]` in cargo config: paths are relative to the directory holding `.cargo/`.
        for (path, doc) in &configs {
            config::patch_dirs(config::config_base(path), doc, &mut patched);
        }
        let lock_path = root.join("Cargo.lock");
        let lockfile = crate::fs::read_if_exists(&lock_path)?
            .map(|b| {
                String::from_utf8(b)
                    .with_context(|| format!("`{}` is not UTF-8", lock_path.display()))
            })
            .transpose()?;
        let vendored: Vec<PathBuf> = configs
            .iter()
            .flat_map(|(path, doc)| config::source_dirs(path, doc))
            .filter_map(|dir| std::fs::canonicalize(dir).ok())
            .collect();
        let mut inputs = Inputs {
            workspace,
            root_manifest,
            manifests: BTreeMap::new(),
            lockfile,
            configs,
            toolchain: None,
            patched,
            real,
            vendored,
            trees: BTreeMap::new(),
            real_paths: BTreeMap::new(),
        };
        inputs.read_manifests(&root_path)?;
        for dir in inputs
            .patched
            .union(&inputs.real)
            .cloned()
            .collect::<Vec<_>>()
        {
            let files = read_tree(&dir, Verbatim::Package, output)?;
            inputs.trees.insert((dir, Verbatim::Package), files);
        }
        for dir in inputs.vendored.clone() {
            let files = read_tree(&dir, Verbatim::Tree, output)?;
            inputs.trees.insert((dir, Verbatim::Tree), files);
        }
        if let Some(path) = config::find_toolchain(&root) {
            let bytes = crate::fs::read(&path)?;
            inputs.toolchain = Some((path, bytes));
        }
        inputs.resolve_path_deps();
        Ok(inputs)
    }

    /// Directories of the local packages whose sources are no dependency input: all but the
    /// patched and real ones. Derivation stubs them.
    pub fn stubbed(&self) -> BTreeSet<PathBuf> {
        self.workspace
            .packages
            .keys()
            .filter(|d| !self.is_verbatim(d))
            .cloned()
            .collect()
    }

    /// Whether the package in `dir` goes in with its real sources (patched or kept real).
    pub fn is_verbatim(&self, dir: &Path) -> bool {
        self.patched.contains(dir) || self.real.contains(dir)
    }

    /// The files of `dir` that go in verbatim as `what`, sorted by path.
    pub fn tree(&self, dir: &Path, what: Verbatim) -> &[FileBytes] {
        self.trees
            .get(&(dir.to_path_buf(), what))
            .map_or(&[], Vec::as_slice)
    }

    /// Where the path dependency spelled `path` (joined to its manifest's directory) leads,
    /// symlinks resolved; `None` when it does not exist or its spelling names a stubbed
    /// package already.
    pub fn real_path(&self, path: &Path) -> Option<&Path> {
        self.real_paths.get(path).map(PathBuf::as_path)
    }

    fn read_manifests(&mut self, root_path: &Path) -> Result<()> {
        let ws = &self.workspace;
        let mut paths: Vec<PathBuf> = ws
            .packages
            .values()
            .map(|p| p.manifest_path.clone())
            .collect();
        paths.extend(
            self.patched
                .iter()
                .chain(&ws.foreign_roots)
                .filter(|d| !ws.packages.contains_key(*d))
                .map(|d| d.join("Cargo.toml")),
        );
        for path in paths {
            if self.manifests.contains_key(&path) {
                continue;
            }
            let doc = if path == root_path {
                self.root_manifest.clone()
            } else {
                read_toml(&path)?
            };
            self.manifests.insert(path, doc);
        }
        Ok(())
    }

    /// Resolves the path dependencies of every manifest whose path dependencies derivation
    /// checks. Most are spelled relative to their dependent and name a package directory as
    /// written: a lexical check first saves resolving symlinks for every one of them.
    fn resolve_path_deps(&mut self) {
        let stubbed = self.stubbed();
        let ws = &self.workspace;
        let mut manifests: Vec<(&Path, &Table)> = Vec::new();
        for (dir, pkg) in &ws.packages {
            if let Some(doc) = self.manifests.get(&pkg.manifest_path) {
                manifests.push((dir, doc));
            }
        }
        if !ws.packages.contains_key(&ws.root) {
            manifests.push((&ws.root, &self.root_manifest));
        }
        for root in ws
            .foreign_roots
            .iter()
            .filter(|r| !ws.packages.contains_key(*r))
        {
            if let Some(doc) = self.manifests.get(&root.join("Cargo.toml")) {
                manifests.push((root, doc));
            }
        }
        let mut real_paths = BTreeMap::new();
        for (dir, doc) in manifests {
            toml::for_each_dep_table(doc, |deps| {
                for dep in deps.values() {
                    let toml::Node::Table(dep) = dep else {
                        continue;
                    };
                    let Some(path) = toml::as_str(dep.get("path")) else {
                        continue;
                    };
                    let joined = dir.join(path);
                    if stubbed.contains(&crate::fs::normalize_lexically(&joined))
                        || real_paths.contains_key(&joined)
                    {
                        continue;
                    }
                    if let Ok(real) = std::fs::canonicalize(&joined) {
                        real_paths.insert(joined, real);
                    }
                }
            });
        }
        self.real_paths = real_paths;
    }
}

/// The directories of the packages to keep real: `names`, then the root manifest's
/// `[workspace.metadata.cargo-prebuild] real`. Each must name a local package, and one kept
/// real may depend (normally or to build) only on external and other real packages: against a
/// stub, cook's artifact could never be reused by the real build.
fn real_packages(ws: &Workspace, root: &Table, names: &[String]) -> Result<BTreeSet<PathBuf>> {
    let mut names: Vec<String> = names.to_vec();
    let listed = toml::table(root, "workspace")
        .and_then(|w| toml::table(w, "metadata"))
        .and_then(|m| toml::table(m, "cargo-prebuild"))
        .and_then(|c| c.get("real"));
    if let Some(listed) = listed {
        let toml::Node::Value(toml_edit::Value::Array(list)) = listed else {
            anyhow::bail!(
                "`workspace.metadata.cargo-prebuild.real` in `{}` must be a list of package names",
                ws.root.join("Cargo.toml").display()
            );
        };
        names.extend(list.iter().filter_map(|v| v.as_str().map(str::to_string)));
    }
    let mut dirs = BTreeSet::new();
    for name in &names {
        let Some(dir) = ws
            .packages
            .iter()
            .find(|(_, p)| &p.name == name)
            .map(|(d, _)| d)
        else {
            // A per-image skeleton may have pruned it: then the image does not need it.
            if ws.pruned_names.contains(name) {
                continue;
            }
            anyhow::bail!("`--real {name}`: no local package named `{name}` in the workspace");
        };
        dirs.insert(dir.clone());
    }
    for dir in &dirs {
        let Some(pkg) = ws.packages.get(dir) else {
            continue;
        };
        for dep in &pkg.lib_path_deps {
            if let Some(stubbed) = ws.packages.get(dep).filter(|_| !dirs.contains(dep)) {
                anyhow::bail!(
                    "`--real {}`: it depends on the local package `{}`, which would be a stub, so \
                     cook's build of it could never be reused; keep `{}` real too",
                    pkg.name,
                    stubbed.name,
                    stubbed.name
                );
            }
        }
    }
    Ok(dirs)
}

fn read_toml(path: &Path) -> Result<Table> {
    toml::parse(&crate::fs::read_to_string(path)?, path)
}

/// A directory's files in sorted order, never the skeleton's own output.
fn read_tree(dir: &Path, what: Verbatim, output: Option<&Path>) -> Result<Vec<FileBytes>> {
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 {
                return true;
            }
            if output.is_some_and(|o| o == e.path()) {
                return false;
            }
            let name = e.file_name().to_string_lossy();
            !(what == Verbatim::Package
                && e.file_type().is_dir()
                && (name.starts_with('.')
                    || name == "target"
                    || e.path().join("Cargo.toml").is_file()))
        });
    let mut files = Vec::new();
    for entry in walker {
        let entry = entry.with_context(|| format!("failed to walk `{}`", dir.display()))?;
        let own_manifest = what == Verbatim::Package && entry.path() == dir.join("Cargo.toml");
        if entry.file_type().is_file() && !own_manifest {
            files.push((entry.path().to_path_buf(), crate::fs::read(entry.path())?));
        }
    }
    Ok(files)
}

#[cfg(test)]
impl Inputs {
    /// Inputs held in memory only, for derivation tests: no config, toolchain, patch or
    /// vendored directory, and nothing read from disk.
    pub fn in_memory(
        workspace: Workspace,
        root_manifest: Table,
        manifests: BTreeMap<PathBuf, Table>,
        lockfile: Option<String>,
    ) -> Inputs {
        Inputs {
            workspace,
            root_manifest,
            manifests,
            lockfile,
            configs: Vec::new(),
            toolchain: None,
            patched: BTreeSet::new(),
            real: BTreeSet::new(),
            vendored: Vec::new(),
            trees: BTreeMap::new(),
            real_paths: BTreeMap::new(),
        }
    }
}
