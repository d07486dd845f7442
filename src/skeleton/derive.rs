//! Deriving a skeleton: a fixed sequence of named steps over [`Inputs`], one per kind of file
//! the skeleton holds, each applying the rules of `manifest`, `targets`, `root`, `prune`,
//! `lockfile` and `config`. Nothing here reads a file or runs a program: the same inputs give
//! the same skeleton, byte for byte. Reading the inputs is `workspace::Inputs`'s; the
//! per-image relock is a step of `prepare`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{config, lockfile, manifest, prune, relative, root, stubs, targets, urls};
use super::{File, FileKind, Skeleton, StubPackage};
use crate::toml::{self, Table};
use crate::workspace::{FileBytes, Inputs, Package, Verbatim, Workspace};

/// Everything `prepare` decided before deriving: absolute paths, no clap types.
#[derive(Debug, Default, Clone)]
pub struct PrepareOptions {
    pub manifest_path: Option<PathBuf>,
    /// The skeleton's destination, never read back as input.
    pub output: Option<PathBuf>,
    /// Per-image skeleton: only these packages (and what they need).
    pub packages: Vec<String>,
    /// Per-image skeleton: only the packages owning these bins (and what they need).
    pub bins: Vec<String>,
    /// Local packages kept real (`--real`), besides the root manifest's list.
    pub real: Vec<String>,
}

impl PrepareOptions {
    /// Whether this is a per-image skeleton (`-p`, `--bin`).
    pub fn per_image(&self) -> bool {
        !self.packages.is_empty() || !self.bins.is_empty()
    }
}

/// A skeleton and what the user should hear about it.
#[derive(Debug)]
pub struct Derived {
    pub skeleton: Skeleton,
    pub warnings: Vec<String>,
    pub workspace_root: PathBuf,
}

/// The skeleton of `inputs` (a workspace already pruned to the selection of `options`).
pub fn derive(inputs: &Inputs, options: &PrepareOptions) -> Result<Derived> {
    let plan = Plan::new(inputs, options.per_image());
    let ws = plan.ws;
    let mut out = Layout {
        tree_root: plan.tree_root.clone(),
        files: BTreeMap::new(),
        stub_packages: Vec::new(),
    };
    // The order matters where two steps lay out one path (a patch target inside a vendored
    // directory): the later one wins, as it always has, so skeletons stay byte-identical.
    for (dir, pkg) in &ws.packages {
        package(&plan, dir, pkg, &mut out)?;
    }
    patched_outside(&plan, &mut out)?;
    virtual_root(&plan, &mut out)?;
    foreign_roots(&plan, &mut out)?;
    lockfile(&plan, &mut out)?;
    for (path, doc) in &inputs.configs {
        let text = config::sanitize_table(doc.clone());
        out.add(path, FileKind::Config, text.into_bytes())?;
    }
    for dir in &inputs.vendored {
        out.add_tree(inputs.tree(dir, Verbatim::Tree))?;
    }
    if let Some((path, bytes)) = &inputs.toolchain {
        out.add(path, FileKind::Toolchain, bytes.clone())?;
    }
    out.stub_packages.sort();
    let mut skeleton = Skeleton {
        workspace: relative(&out.tree_root, &ws.root)?,
        files: out.files,
        stub_packages: out.stub_packages,
    };
    if plan.per_image {
        prune::unused_workspace_dependencies(&mut skeleton)?;
    }
    urls::check(&skeleton.files, &plan.tree_root)?;
    let mut warnings = Vec::new();
    if inputs.lockfile.is_none() {
        warnings.push(format!(
            "no `Cargo.lock` in `{}`: cook will resolve dependencies itself, so the versions it \
             builds may differ from the real build's (commit a lockfile for exact caching)",
            ws.root.display()
        ));
    }
    Ok(Derived {
        skeleton,
        warnings,
        workspace_root: ws.root.clone(),
    })
}

/// What every step reads, decided once from the inputs.
struct Plan<'a> {
    inputs: &'a Inputs,
    ws: &'a Workspace,
    /// The directory the skeleton's paths are relative to: it spans everything laid out.
    tree_root: PathBuf,
    /// Packages whose sources become stubs (all but the patched and real ones).
    stubbed: BTreeSet<PathBuf>,
    /// The resolver the root's edition implied, pinned since editions are normalized.
    resolver: String,
    /// Without a lockfile, cook resolves, and `rust-version` steers resolver 3's choice.
    keep_rust_version: bool,
    per_image: bool,
}

impl<'a> Plan<'a> {
    fn new(inputs: &'a Inputs, per_image: bool) -> Plan<'a> {
        let locked = inputs.lockfile.is_some();
        let resolver = root::effective_resolver(&inputs.root_manifest);
        Plan {
            inputs,
            ws: &inputs.workspace,
            tree_root: tree_root(inputs),
            stubbed: inputs.stubbed(),
            resolver: root::locked_resolver(resolver, locked),
            keep_rust_version: !locked,
            per_image,
        }
    }

    fn manifest(&self, path: &Path) -> Result<Table> {
        self.inputs
            .manifests
            .get(path)
            .cloned()
            .with_context(|| format!("manifest `{}` was not read", path.display()))
    }

    /// Whether the path dependency spelled `path` (joined to its dependent's directory) is a
    /// stubbed package.
    fn is_masked(&self, path: &Path) -> bool {
        self.stubbed.contains(&crate::fs::normalize_lexically(path))
            || self
                .inputs
                .real_path(path)
                .is_some_and(|p| self.stubbed.contains(p))
    }

    fn strip_path_dep_versions(&self, doc: &mut Table, dir: &Path) {
        manifest::strip_path_dep_versions(doc, dir, &|p| self.is_masked(p));
    }
}

/// The skeleton being laid out.
struct Layout {
    tree_root: PathBuf,
    files: BTreeMap<String, File>,
    stub_packages: Vec<StubPackage>,
}

impl Layout {
    fn add(&mut self, path: &Path, kind: FileKind, contents: Vec<u8>) -> Result<()> {
        let path = relative(&self.tree_root, path)?;
        self.files.insert(path, File { kind, contents });
        Ok(())
    }

    fn add_tree(&mut self, files: &[FileBytes]) -> Result<()> {
        for (path, bytes) in files {
            self.add(path, FileKind::Verbatim, bytes.clone())?;
        }
        Ok(())
    }

    fn add_manifest(&mut self, path: &Path, doc: &Table) -> Result<()> {
        self.add(path, FileKind::Manifest, toml::to_string(doc).into_bytes())
    }
}

/// A local package: its real sources when patched or kept real, stubs otherwise; its manifest
/// normalized.
fn package(plan: &Plan, dir: &Path, pkg: &Package, out: &mut Layout) -> Result<()> {
    let ws = plan.ws;
    let mut doc = plan.manifest(&pkg.manifest_path)?;
    if plan.inputs.is_verbatim(dir) {
        out.add_tree(plan.inputs.tree(dir, Verbatim::Package))?;
        // The root loses `[workspace.package]` and `[workspace.lints]`; a verbatim
        // package must compile exactly as it really does, so it carries their values.
        if pkg.workspace_root == ws.root {
            let depth = depth(dir, &ws.root);
            manifest::inline_inherited(&mut doc, &plan.inputs.root_manifest, depth);
        }
    } else {
        stub_package(plan, dir, pkg, &mut doc, out)?;
    }
    plan.strip_path_dep_versions(&mut doc, dir);
    if dir == ws.root {
        if plan.per_image {
            prune::restrict_members(&mut doc, &ws.root, &ws.members)?;
        }
        root::normalize_workspace(&mut doc, &plan.resolver, plan.keep_rust_version);
    } else {
        manifest::drop_profiles(&mut doc);
        if doc.contains_key("workspace") {
            let own = root::effective_resolver(&doc);
            root::normalize_workspace(&mut doc, &own, plan.keep_rust_version);
        }
    }
    out.add_manifest(&pkg.manifest_path, &doc)
}

/// A stubbed package's manifest rules, and its stub sources.
fn stub_package(
    plan: &Plan,
    dir: &Path,
    pkg: &Package,
    doc: &mut Table,
    out: &mut Layout,
) -> Result<()> {
    let stubs = targets::stub_targets(pkg, doc);
    manifest::strip_package_metadata(doc, plan.keep_rust_version);
    let depth = depth(dir, &plan.tree_root);
    targets::replace_targets(doc, &pkg.name, &stubs, pkg.has_build_script, depth);
    let mut seen = BTreeMap::new();
    for stub in &stubs {
        let index = seen.entry(stub.kind).or_insert(0usize);
        let path = plan.tree_root.join(stub.path(*index));
        out.add(&path, FileKind::Stub, stub.source().as_bytes().to_vec())?;
        *index += 1;
    }
    if pkg.has_build_script {
        let path = plan.tree_root.join(stubs::BUILD_PATH);
        out.add(&path, FileKind::Stub, stubs::BUILD.as_bytes().to_vec())?;
    }
    out.stub_packages.push(StubPackage {
        name: pkg.name.clone(),
        path: relative(&plan.tree_root, dir)?,
    });
    Ok(())
}

/// Patch targets that are neither members nor path dependencies: verbatim.
fn patched_outside(plan: &Plan, out: &mut Layout) -> Result<()> {
    let ws = plan.ws;
    for dir in plan
        .inputs
        .patched
        .iter()
        .filter(|d| !ws.packages.contains_key(*d))
    {
        let path = dir.join("Cargo.toml");
        let mut doc = plan.manifest(&path)?;
        // A member that `prepare -p` pruned still inherits from this workspace's root.
        if dir.starts_with(&ws.root) {
            let depth = depth(dir, &ws.root);
            manifest::inline_inherited(&mut doc, &plan.inputs.root_manifest, depth);
        }
        out.add_tree(plan.inputs.tree(dir, Verbatim::Package))?;
        out.add_manifest(&path, &doc)?;
    }
    Ok(())
}

/// A root package that `prepare -p` pruned: the skeleton's root is a virtual manifest.
fn virtual_root(plan: &Plan, out: &mut Layout) -> Result<()> {
    let ws = plan.ws;
    if ws.packages.contains_key(&ws.root) {
        return Ok(());
    }
    let mut doc = plan.inputs.root_manifest.clone();
    root::make_virtual(&mut doc);
    if plan.per_image {
        prune::restrict_members(&mut doc, &ws.root, &ws.members)?;
    }
    plan.strip_path_dep_versions(&mut doc, &ws.root);
    root::normalize_workspace(&mut doc, &plan.resolver, plan.keep_rust_version);
    out.add_manifest(&ws.root.join("Cargo.toml"), &doc)
}

/// Roots of other workspaces owning out-of-root path dependencies: their `[workspace]` only.
fn foreign_roots(plan: &Plan, out: &mut Layout) -> Result<()> {
    let ws = plan.ws;
    for dir in ws
        .foreign_roots
        .iter()
        .filter(|r| !ws.packages.contains_key(*r))
    {
        let path = dir.join("Cargo.toml");
        let mut doc = plan.manifest(&path)?;
        plan.strip_path_dep_versions(&mut doc, dir);
        out.add_manifest(&path, &root::only_workspace(doc, plan.keep_rust_version))?;
    }
    Ok(())
}

/// The lockfile with every stubbed package's version masked.
fn lockfile(plan: &Plan, out: &mut Layout) -> Result<()> {
    let Some(text) = &plan.inputs.lockfile else {
        return Ok(());
    };
    let ws = plan.ws;
    let member_deps: BTreeMap<String, BTreeSet<String>> = ws
        .members
        .iter()
        .filter_map(|dir| ws.packages.get(dir))
        .map(|p| (p.name.clone(), p.dep_names.iter().cloned().collect()))
        .collect();
    // Patched and real packages keep their real versions, members or not.
    let mut keep: BTreeSet<String> = ws
        .packages
        .iter()
        .filter(|(d, _)| plan.inputs.is_verbatim(d))
        .map(|(_, p)| p.name.clone())
        .collect();
    for dir in plan
        .inputs
        .patched
        .iter()
        .filter(|d| !ws.packages.contains_key(*d))
    {
        let doc = plan.manifest(&dir.join("Cargo.toml"))?;
        if let Some(name) = toml::table(&doc, "package").and_then(|p| toml::as_str(p.get("name"))) {
            keep.insert(name.to_string());
        }
    }
    let path = ws.root.join("Cargo.lock");
    let masked = lockfile::mask(text, &path, &keep, &member_deps)?;
    out.add(&path, FileKind::Lockfile, masked.into_bytes())
}

/// How many directories `dir` is below `base` (0 when it is not below).
fn depth(dir: &Path, base: &Path) -> usize {
    dir.strip_prefix(base).map_or(0, |d| d.components().count())
}

/// The common ancestor of everything laid out: the workspace, out-of-root packages, ancestor
/// config and toolchain files, patched and vendored directories.
fn tree_root(inputs: &Inputs) -> PathBuf {
    let ws = &inputs.workspace;
    let mut anchors: Vec<&Path> = vec![&ws.root];
    anchors.extend(ws.packages.keys().map(PathBuf::as_path));
    anchors.extend(ws.foreign_roots.iter().map(PathBuf::as_path));
    anchors.extend(
        inputs
            .configs
            .iter()
            .filter_map(|(p, _)| p.parent().and_then(Path::parent)),
    );
    anchors.extend(inputs.toolchain.iter().filter_map(|(p, _)| p.parent()));
    anchors.extend(inputs.patched.iter().map(PathBuf::as_path));
    anchors.extend(inputs.vendored.iter().map(PathBuf::as_path));
    let mut iter = anchors.into_iter();
    let Some(first) = iter.next() else {
        return PathBuf::from("/");
    };
    let mut common = first.to_path_buf();
    for path in iter {
        while !path.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    common
}

#[cfg(test)]
mod tests;
