//! Deriving a skeleton from a workspace: the pure function at the heart of `prepare`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::stubs::{self, Stub};
use super::{config, lockfile, manifest, prune, relative, File, FileKind, Skeleton, StubPackage};
use crate::toml::{self, Node, Table};
use crate::workspace::{Kind, Package, Workspace};

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
}

/// A skeleton and what the user should hear about it.
#[derive(Debug)]
pub struct Derived {
    pub skeleton: Skeleton,
    pub warnings: Vec<String>,
    pub workspace_root: PathBuf,
}

pub fn derive(options: &PrepareOptions) -> Result<Derived> {
    derive_from(Workspace::load(options.manifest_path.as_deref())?, options)
}

/// The skeleton of a loaded workspace model: what `derive` does after `cargo metadata`.
pub fn derive_from(mut ws: Workspace, options: &PrepareOptions) -> Result<Derived> {
    let pruned = !options.packages.is_empty() || !options.bins.is_empty();
    if pruned {
        ws.prune(&options.packages, &options.bins)?;
    }
    let mut warnings = Vec::new();
    let root_manifest_path = ws.root.join("Cargo.toml");
    let root_manifest = toml::parse(
        &crate::fs::read_to_string(&root_manifest_path)?,
        &root_manifest_path,
    )?;

    let configs = config::find_configs(&ws.root)?;
    let verbatim = patched_dirs(&ws, &root_manifest, &configs)?;
    let toolchain = config::find_toolchain(&ws.root);
    let lock_path = ws.root.join("Cargo.lock");
    let lock_text = crate::fs::read_if_exists(&lock_path)?
        .map(|b| {
            String::from_utf8(b).with_context(|| format!("`{}` is not UTF-8", lock_path.display()))
        })
        .transpose()?;
    if lock_text.is_none() {
        warnings.push(format!(
            "no `Cargo.lock` in `{}`: cook will resolve dependencies itself, so the versions it \
             builds may differ from the real build's (commit a lockfile for exact caching)",
            ws.root.display()
        ));
    }
    let keep_rust_version = lock_text.is_none();

    // The tree spans everything laid out: the workspace, out-of-root packages, ancestor
    // config and toolchain files.
    let mut anchors: Vec<PathBuf> = vec![ws.root.clone()];
    anchors.extend(ws.packages.keys().cloned());
    anchors.extend(ws.foreign_roots.iter().cloned());
    anchors.extend(
        configs
            .iter()
            .filter_map(|p| p.parent().and_then(Path::parent))
            .map(Path::to_path_buf),
    );
    anchors.extend(
        toolchain
            .iter()
            .filter_map(|p| p.parent())
            .map(Path::to_path_buf),
    );
    anchors.extend(verbatim.iter().cloned());
    let mut vendor_dirs = Vec::new();
    for path in &configs {
        let text = crate::fs::read_to_string(path)?;
        for dir in config::source_dirs(path, &text)? {
            if let Ok(dir) = std::fs::canonicalize(&dir) {
                vendor_dirs.push(dir);
            }
        }
    }
    anchors.extend(vendor_dirs.iter().cloned());
    let tree_root = common_ancestor(&anchors);

    let mut files = BTreeMap::new();
    let mut add = |path: &Path, kind: FileKind, contents: Vec<u8>| -> Result<()> {
        files.insert(relative(&tree_root, path)?, File { kind, contents });
        Ok(())
    };

    let stubbed: BTreeSet<PathBuf> = ws
        .packages
        .keys()
        .filter(|d| !verbatim.contains(*d))
        .cloned()
        .collect();
    // Path dependencies are mostly spelled relative to their dependent: a lexical check first
    // saves resolving symlinks for every one of them.
    let is_masked = |p: &Path| {
        let lexical = crate::fs::normalize_lexically(p);
        stubbed.contains(&lexical) || std::fs::canonicalize(p).is_ok_and(|p| stubbed.contains(&p))
    };
    let mut resolver = manifest::effective_resolver(&root_manifest);
    // Resolver 3 differs from 2 only in how a lockfile is generated (it prefers versions
    // compatible with `rust-version`); building from a fixed lockfile, they are the same.
    if resolver == "3" && lock_text.is_some() {
        resolver = "2".to_string();
    }

    let mut stub_packages = Vec::new();
    for (dir, pkg) in &ws.packages {
        let text = crate::fs::read_to_string(&pkg.manifest_path)?;
        let mut doc = toml::parse(&text, &pkg.manifest_path)?;
        if verbatim.contains(dir) {
            add_verbatim(dir, Verbatim::Package, options.output.as_deref(), &mut add)?;
            // The root loses `[workspace.package]` and `[workspace.lints]`; a verbatim
            // package must compile exactly as it really does, so it carries their values.
            if pkg.workspace_root == ws.root {
                let depth = dir
                    .strip_prefix(&ws.root)
                    .map_or(0, |d| d.components().count());
                manifest::inline_inherited(&mut doc, &root_manifest, depth);
            }
        } else {
            let stubs = stub_targets(pkg, &doc);
            let build_script = pkg.has_build_script;
            manifest::strip_package_metadata(&mut doc, keep_rust_version);
            let depth = dir
                .strip_prefix(&tree_root)
                .map_or(0, |d| d.components().count());
            manifest::replace_targets(&mut doc, &pkg.name, &stubs, build_script, depth);
            let mut seen = BTreeMap::new();
            for stub in &stubs {
                let index = seen.entry(stub.kind).or_insert(0usize);
                add(
                    &tree_root.join(stub.path(*index)),
                    FileKind::Stub,
                    stub.source().as_bytes().to_vec(),
                )?;
                *index += 1;
            }
            if build_script {
                add(
                    &tree_root.join(stubs::BUILD_PATH),
                    FileKind::Stub,
                    stubs::BUILD.as_bytes().to_vec(),
                )?;
            }
            stub_packages.push(StubPackage {
                name: pkg.name.clone(),
                path: relative(&tree_root, dir)?,
            });
        }
        manifest::strip_path_dep_versions(&mut doc, dir, &is_masked);
        if *dir != ws.root {
            // cargo ignores profiles outside the workspace root (with a warning).
            doc.remove("profile");
        }
        if *dir == ws.root {
            if pruned {
                prune::restrict_members(&mut doc, &ws)?;
            }
            manifest::normalize_workspace(&mut doc, &resolver, keep_rust_version);
        } else if doc.contains_key("workspace") {
            let own = manifest::effective_resolver(&doc);
            manifest::normalize_workspace(&mut doc, &own, keep_rust_version);
        }
        add(
            &pkg.manifest_path,
            FileKind::Manifest,
            toml::to_string(&doc).into_bytes(),
        )?;
    }
    // Patch targets that are neither members nor path dependencies.
    let mut patched_names = BTreeSet::new();
    for dir in verbatim.iter().filter(|d| !ws.packages.contains_key(*d)) {
        let path = dir.join("Cargo.toml");
        let mut doc = toml::parse(&crate::fs::read_to_string(&path)?, &path)?;
        if let Some(name) = toml::table(&doc, "package").and_then(|p| toml::as_str(p.get("name"))) {
            patched_names.insert(name.to_string());
        }
        // A member that `prepare -p` pruned still inherits from this workspace's root.
        if let Ok(below) = dir.strip_prefix(&ws.root) {
            manifest::inline_inherited(&mut doc, &root_manifest, below.components().count());
        }
        add_verbatim(dir, Verbatim::Package, options.output.as_deref(), &mut add)?;
        add(
            &path,
            FileKind::Manifest,
            toml::to_string(&doc).into_bytes(),
        )?;
    }
    if !ws.packages.contains_key(&ws.root) {
        let mut doc = root_manifest.clone();
        // A root package that `prepare -p` pruned: the skeleton's root is a virtual manifest.
        manifest::make_virtual(&mut doc);
        if pruned {
            prune::restrict_members(&mut doc, &ws)?;
        }
        manifest::strip_path_dep_versions(&mut doc, &ws.root, &is_masked);
        manifest::normalize_workspace(&mut doc, &resolver, keep_rust_version);
        add(
            &root_manifest_path,
            FileKind::Manifest,
            toml::to_string(&doc).into_bytes(),
        )?;
    }
    for root in &ws.foreign_roots {
        if ws.packages.contains_key(root) {
            continue;
        }
        let path = root.join("Cargo.toml");
        let mut doc = toml::parse(&crate::fs::read_to_string(&path)?, &path)?;
        manifest::strip_path_dep_versions(&mut doc, root, &is_masked);
        let ws_table = doc.remove("workspace").unwrap_or(Node::Table(Table::new()));
        let mut only_ws = Table::new();
        only_ws.insert("workspace".to_string(), ws_table);
        let resolver = manifest::effective_resolver(&doc);
        manifest::normalize_workspace(&mut only_ws, &resolver, keep_rust_version);
        add(
            &path,
            FileKind::Manifest,
            toml::to_string(&only_ws).into_bytes(),
        )?;
    }

    if let Some(text) = &lock_text {
        let member_deps: BTreeMap<String, BTreeSet<String>> = ws
            .members
            .iter()
            .filter_map(|dir| ws.packages.get(dir))
            .map(|p| (p.name.clone(), p.dep_names.iter().cloned().collect()))
            .collect();
        let mut keep: BTreeSet<String> = ws
            .packages
            .iter()
            .filter(|(d, _)| verbatim.contains(*d))
            .map(|(_, p)| p.name.clone())
            .collect();
        keep.extend(patched_names);
        add(
            &lock_path,
            FileKind::Lockfile,
            lockfile::mask(text, &lock_path, &keep, &member_deps)?.into_bytes(),
        )?;
    }
    for path in &configs {
        let text = crate::fs::read_to_string(path)?;
        add(
            path,
            FileKind::Config,
            config::sanitize(path, &text)?.into_bytes(),
        )?;
    }
    for dir in &vendor_dirs {
        add_verbatim(dir, Verbatim::Tree, options.output.as_deref(), &mut add)?;
    }
    if let Some(path) = &toolchain {
        add(path, FileKind::Toolchain, crate::fs::read(path)?)?;
    }

    stub_packages.sort();
    let mut skeleton = Skeleton {
        files,
        workspace: relative(&tree_root, &ws.root)?,
        stub_packages,
    };
    if pruned {
        prune::unused_workspace_dependencies(&mut skeleton)?;
        if lock_text.is_some() {
            prune::relock(&mut skeleton)?;
        }
    }
    super::urls::check(&skeleton.files, &tree_root)?;
    Ok(Derived {
        skeleton,
        warnings,
        workspace_root: ws.root,
    })
}

/// The stubs a package gets: one per kind of target it has and per distinct set of the
/// attributes that decide which units cargo builds for that kind, so the skeleton's unit
/// graph is the real one's, and only a package's first target of a kind (or one with new
/// `required-features`) changes it. A build script stub stands for a real one (see the
/// caller): its build-dependencies and `links` need it, and a first build script is a change
/// of kind like a first test.
fn stub_targets(pkg: &Package, manifest: &Table) -> Vec<Stub> {
    let bench = manifest::target_flags(manifest, "bench");
    let scrape = manifest::target_flags(manifest, "doc-scrape-examples");
    stubs::for_targets(&pkg.targets, |t| {
        let key = (t.kind, (t.kind != Kind::Lib).then(|| t.name.clone()));
        stubs::ManifestFlags {
            bench: bench.get(&key).copied().unwrap_or(t.kind.default_bench()),
            doc_scrape: scrape.get(&key).copied().unwrap_or(false),
        }
    })
}

/// Local crates that `[patch]` or `[replace]` point at: external crates compile against them,
/// so their real sources are dependency inputs and go in verbatim.
fn patched_dirs(
    ws: &Workspace,
    root_manifest: &Table,
    configs: &[PathBuf],
) -> Result<BTreeSet<PathBuf>> {
    let mut dirs = BTreeSet::new();
    let mut visit = |base: &Path, entries: &Table| {
        for entry in entries.values() {
            if let Node::Table(entry) = entry {
                if let Some(path) = toml::as_str(entry.get("path")) {
                    if let Ok(dir) = std::fs::canonicalize(base.join(path)) {
                        dirs.insert(dir);
                    }
                }
            }
        }
    };
    let mut visit_doc = |base: &Path, doc: &Table| {
        if let Some(patch) = toml::table(doc, "patch") {
            for source in patch.values() {
                if let Node::Table(entries) = source {
                    visit(base, entries);
                }
            }
        }
        if let Some(replace) = toml::table(doc, "replace") {
            visit(base, replace);
        }
    };
    visit_doc(&ws.root, root_manifest);
    // `[patch]` in cargo config: paths are relative to the directory holding `.cargo/`.
    for path in configs {
        let doc = toml::parse(&crate::fs::read_to_string(path)?, path)?;
        let base = path
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("/"));
        visit_doc(base, &doc);
    }
    Ok(dirs)
}

/// Adds one file to the skeleton being derived.
type AddFile<'a> = dyn FnMut(&Path, FileKind, Vec<u8>) -> Result<()> + 'a;

/// What of a directory goes into the skeleton verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verbatim {
    /// Every file (vendored crates: `.cargo-checksum.json` included).
    Tree,
    /// A package's sources: not `target/`, VCS or hidden directories, nested packages, or its
    /// manifest (normalized separately).
    Package,
}

/// Adds a directory's files in sorted order, never the skeleton's own output.
fn add_verbatim(
    dir: &Path,
    what: Verbatim,
    output: Option<&Path>,
    add: &mut AddFile<'_>,
) -> Result<()> {
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
    for entry in walker {
        let entry = entry.with_context(|| format!("failed to walk `{}`", dir.display()))?;
        let own_manifest = what == Verbatim::Package && entry.path() == dir.join("Cargo.toml");
        if entry.file_type().is_file() && !own_manifest {
            add(
                entry.path(),
                FileKind::Verbatim,
                crate::fs::read(entry.path())?,
            )?;
        }
    }
    Ok(())
}

fn common_ancestor(paths: &[PathBuf]) -> PathBuf {
    let mut iter = paths.iter();
    let Some(first) = iter.next() else {
        return PathBuf::from("/");
    };
    let mut common = first.clone();
    for path in iter {
        while !path.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    common
}
