//! A guess of the workspace model read straight from the manifests, made while
//! `cargo metadata` runs. It is never trusted: prepare uses what it derived from the guess
//! only when the guess equals the model built from `cargo metadata`, so a wrong guess costs
//! time, never fidelity. Anything unusual (out-of-root path dependencies, `[` or `**` in
//! member globs, a target without a name) gives up the guess.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{Kind, Package, Target, Workspace};
use crate::toml::{self, Node, Table};

/// The workspace that `manifest_path` (or the current directory) belongs to, as far as the
/// manifests tell, or `None` when they do not tell it plainly.
pub fn workspace(manifest_path: Option<&Path>) -> Option<Workspace> {
    let nearest = match manifest_path {
        Some(path) => std::fs::canonicalize(path).ok()?,
        None => {
            let cwd = std::env::current_dir().ok()?;
            cwd.ancestors()
                .map(|d| d.join("Cargo.toml"))
                .find(|p| p.is_file())?
                .canonicalize()
                .ok()?
        }
    };
    let nearest_doc = parse(&nearest)?;
    let nearest_dir = nearest.parent()?.to_path_buf();
    let (root, root_doc) = if nearest_doc.contains_key("workspace") {
        (nearest_dir, nearest_doc)
    } else {
        if package(&nearest_doc)?.contains_key("workspace") {
            return None;
        }
        let found = nearest_dir
            .ancestors()
            .skip(1)
            .map(|d| (d, d.join("Cargo.toml")))
            .filter(|(_, p)| p.is_file())
            .find_map(|(d, p)| {
                let doc = parse(&p)?;
                doc.contains_key("workspace")
                    .then(|| (d.to_path_buf(), doc))
            });
        found.unwrap_or((nearest_dir, nearest_doc))
    };
    let ws_table = toml::table(&root_doc, "workspace");
    let inherited = Inherited {
        root: &root,
        package: ws_table.and_then(|w| toml::table(w, "package")),
        dependencies: ws_table.and_then(|w| toml::table(w, "dependencies")),
    };

    let excluded: Vec<PathBuf> = match ws_table {
        Some(ws) => strings(ws.get("exclude"))?
            .into_iter()
            .map(|e| crate::fs::normalize_lexically(&root.join(e)))
            .collect(),
        None => Vec::new(),
    };
    let is_excluded = |dir: &Path| excluded.iter().any(|e| dir.starts_with(e));
    let mut queue: Vec<PathBuf> = Vec::new();
    if root_doc.contains_key("package") {
        queue.push(root.clone());
    }
    if let Some(ws) = ws_table {
        for pattern in strings(ws.get("members"))? {
            queue.extend(
                expand(&root, pattern)?
                    .into_iter()
                    .filter(|d| !is_excluded(d)),
            );
        }
    }
    let mut packages = BTreeMap::new();
    while let Some(dir) = queue.pop() {
        if packages.contains_key(&dir) {
            continue;
        }
        let dir = std::fs::canonicalize(&dir).ok()?;
        if packages.contains_key(&dir) {
            continue;
        }
        let manifest_path = dir.join("Cargo.toml");
        let pkg = if dir == root {
            guess_package(&root_doc, &dir, manifest_path, &inherited)?
        } else {
            guess_package(&parse(&manifest_path)?, &dir, manifest_path, &inherited)?
        };
        // Path dependencies inside the root become members; outside it (or excluded), cargo
        // loads them through their own workspace: not a plain case.
        for dep in &pkg.path_deps {
            if !dep.starts_with(&root) || is_excluded(dep) {
                return None;
            }
            queue.push(dep.clone());
        }
        packages.insert(dir, pkg);
    }
    Some(Workspace {
        members: packages.keys().cloned().collect(),
        root,
        packages,
        foreign_roots: BTreeSet::new(),
    })
}

/// `[workspace.package]` and `[workspace.dependencies]` of the root manifest.
struct Inherited<'a> {
    root: &'a Path,
    package: Option<&'a Table>,
    dependencies: Option<&'a Table>,
}

fn parse(path: &Path) -> Option<Table> {
    let text = std::fs::read_to_string(path).ok()?;
    toml::parse(&text, path).ok()
}

fn package(doc: &Table) -> Option<&Table> {
    toml::table(doc, "package").or_else(|| toml::table(doc, "project"))
}

fn strings(node: Option<&Node>) -> Option<Vec<&str>> {
    match node {
        None => Some(Vec::new()),
        Some(Node::Value(toml_edit::Value::Array(a))) => a.iter().map(|v| v.as_str()).collect(),
        Some(_) => None,
    }
}

fn flag(table: Option<&Table>, key: &str) -> Option<bool> {
    match table?.get(key) {
        Some(Node::Value(toml_edit::Value::Boolean(b))) => Some(*b.value()),
        _ => None,
    }
}

/// Directories holding a `Cargo.toml` that a `members` entry names; `*` and `?` within one
/// path component only.
fn expand(root: &Path, pattern: &str) -> Option<Vec<PathBuf>> {
    if pattern.contains('[') || pattern.contains("**") {
        return None;
    }
    let mut dirs = vec![root.to_path_buf()];
    for part in pattern.split('/').filter(|p| !p.is_empty() && *p != ".") {
        let mut next = Vec::new();
        for dir in &dirs {
            if part.contains(['*', '?']) {
                for entry in std::fs::read_dir(dir).ok()? {
                    let entry = entry.ok()?;
                    let name = entry.file_name();
                    let name = name.to_str()?;
                    if matches(part.as_bytes(), name.as_bytes()) {
                        next.push(entry.path());
                    }
                }
            } else {
                next.push(dir.join(part));
            }
        }
        dirs = next;
    }
    Some(
        dirs.into_iter()
            .filter(|d| d.join("Cargo.toml").is_file())
            .collect(),
    )
}

/// Shell-style match of one path component: `*` any run, `?` one character.
fn matches(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            matches(&pattern[1..], name) || (!name.is_empty() && matches(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => matches(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => matches(&pattern[1..], &name[1..]),
        _ => false,
    }
}

fn guess_package(
    doc: &Table,
    dir: &Path,
    manifest_path: PathBuf,
    inherited: &Inherited<'_>,
) -> Option<Package> {
    let pkg = package(doc)?;
    let name = toml::as_str(pkg.get("name"))?.to_string();
    let version = match pkg.get("version") {
        None => "0.0.0".to_string(),
        Some(Node::Table(t)) if flag(Some(t), "workspace") == Some(true) => {
            toml::as_str(inherited.package?.get("version"))?.to_string()
        }
        other => toml::as_str(other)?.to_string(),
    };

    let mut targets = Vec::new();
    let lib_table = toml::table(doc, "lib");
    let proc_macro = flag(lib_table, "proc-macro").or(flag(lib_table, "proc_macro"));
    let autolib = flag(Some(pkg), "autolib") != Some(false);
    if lib_table.is_some() || (autolib && dir.join("src/lib.rs").is_file()) {
        let crate_types = if proc_macro == Some(true) {
            vec!["proc-macro".to_string()]
        } else {
            match lib_table.and_then(|l| l.get("crate-type").or(l.get("crate_type"))) {
                None => vec!["lib".to_string()],
                Some(node) => strings(Some(node))?
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
            }
        };
        let lib_name = lib_table
            .and_then(|l| toml::as_str(l.get("name")))
            .map_or_else(|| name.replace('-', "_"), str::to_string);
        targets.push(target(Kind::Lib, lib_name, crate_types, lib_table)?);
    }
    for kind in [Kind::Bin, Kind::Example, Kind::Test, Kind::Bench] {
        targets.extend(discover(doc, pkg, dir, &name, kind)?);
    }

    let has_build_script = match pkg.get("build") {
        None => dir.join("build.rs").is_file(),
        Some(Node::Value(toml_edit::Value::Boolean(b))) => {
            *b.value() && dir.join("build.rs").is_file()
        }
        Some(_) => true,
    };

    let mut dep_names = BTreeSet::new();
    let mut path_deps = BTreeSet::new();
    let mut tables: Vec<&Table> = vec![doc];
    if let Some(targets) = toml::table(doc, "target") {
        for platform in targets.values() {
            match platform {
                Node::Table(t) => tables.push(t),
                _ => return None,
            }
        }
    }
    for table in tables {
        for key in toml::DEP_TABLES {
            let Some(deps) = toml::table(table, key) else {
                continue;
            };
            for (dep, spec) in deps {
                let (spec, base) = match spec {
                    Node::Table(t) if flag(Some(t), "workspace") == Some(true) => {
                        match inherited.dependencies?.get(dep)? {
                            Node::Table(w) => (Some(w), inherited.root),
                            _ => (None, inherited.root),
                        }
                    }
                    Node::Table(t) => (Some(t), dir),
                    _ => (None, dir),
                };
                let real_name = spec
                    .and_then(|s| toml::as_str(s.get("package")))
                    .unwrap_or(dep);
                dep_names.insert(real_name.to_string());
                if let Some(path) = spec.and_then(|s| toml::as_str(s.get("path"))) {
                    path_deps.insert(std::fs::canonicalize(base.join(path)).ok()?);
                }
            }
        }
    }

    Some(Package {
        name,
        version,
        dir: dir.to_path_buf(),
        manifest_path,
        targets: super::sorted(targets),
        has_build_script,
        links: toml::as_str(pkg.get("links")).map(str::to_string),
        dep_names: dep_names.into_iter().collect(),
        path_deps: path_deps.into_iter().collect(),
        workspace_root: inherited.root.to_path_buf(),
    })
}

/// A target of `kind` as cargo models it, with the flags its manifest table (if any) sets.
fn target(
    kind: Kind,
    name: String,
    crate_types: Vec<String>,
    table: Option<&Table>,
) -> Option<Target> {
    let (test, doctest, doc) = kind.default_flags();
    let required = match table.and_then(|t| t.get("required-features")) {
        None => Vec::new(),
        node => strings(node)?.into_iter().map(str::to_string).collect(),
    };
    Some(Target {
        kind,
        name,
        crate_types: super::sorted(crate_types),
        required_features: super::sorted(required),
        test: flag(table, "test").unwrap_or(test),
        doctest: flag(table, "doctest").unwrap_or(doctest),
        doc: flag(table, "doc").unwrap_or(doc),
    })
}

/// The targets of one kind: the explicit tables, then the inferred ones that no explicit
/// target already builds (same name or same source file).
fn discover(
    doc: &Table,
    pkg: &Table,
    dir: &Path,
    package: &str,
    kind: Kind,
) -> Option<Vec<Target>> {
    let (folder, auto) = match kind {
        Kind::Bin => ("src/bin", "autobins"),
        Kind::Example => ("examples", "autoexamples"),
        Kind::Test => ("tests", "autotests"),
        Kind::Bench => ("benches", "autobenches"),
        Kind::Lib => return Some(Vec::new()),
    };
    let mut targets = Vec::new();
    let mut names = BTreeSet::new();
    let mut claimed = BTreeSet::new();
    match doc.get(kind.table()) {
        None => {}
        Some(Node::TableArray(explicit)) => {
            for table in explicit {
                let target_name = toml::as_str(table.get("name"))?;
                let path = match toml::as_str(table.get("path")) {
                    Some(path) => crate::fs::normalize_lexically(&dir.join(path)),
                    None => {
                        let mut candidates = vec![
                            dir.join(format!("{folder}/{target_name}.rs")),
                            dir.join(format!("{folder}/{target_name}/main.rs")),
                        ];
                        if kind == Kind::Bin && target_name == package {
                            candidates.insert(0, dir.join("src/main.rs"));
                        }
                        candidates.into_iter().find(|p| p.is_file())?
                    }
                };
                let crate_types = match table.get("crate-type").or(table.get("crate_type")) {
                    Some(node) if kind == Kind::Example => strings(Some(node))?
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                    _ => vec!["bin".to_string()],
                };
                names.insert(target_name.to_string());
                claimed.insert(path);
                targets.push(target(
                    kind,
                    target_name.to_string(),
                    crate_types,
                    Some(table),
                )?);
            }
        }
        Some(_) => return None,
    }
    if flag(Some(pkg), auto) != Some(false) {
        let mut inferred = Vec::new();
        let main = dir.join("src/main.rs");
        if kind == Kind::Bin && main.is_file() {
            inferred.push((package.to_string(), main));
        }
        if let Ok(entries) = std::fs::read_dir(dir.join(folder)) {
            for entry in entries {
                let path = entry.ok()?.path();
                if path.extension().is_some_and(|e| e == "rs") && path.is_file() {
                    let stem = path.file_stem()?.to_str()?.to_string();
                    inferred.push((stem, path));
                } else if path.join("main.rs").is_file() {
                    let dir_name = path.file_name()?.to_str()?.to_string();
                    inferred.push((dir_name, path.join("main.rs")));
                }
            }
        }
        for (target_name, path) in inferred {
            if !claimed.contains(&path) && names.insert(target_name.clone()) {
                targets.push(target(kind, target_name, vec!["bin".to_string()], None)?);
            }
        }
    }
    Some(targets)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn component_globs() {
        assert!(matches(b"*", b"abc"));
        assert!(matches(b"m*", b"m0001"));
        assert!(matches(b"m?0", b"mx0"));
        assert!(!matches(b"m?0", b"m0"));
        assert!(matches(b"*-sys", b"foo-sys"));
        assert!(!matches(b"*-sys", b"foo-sy"));
    }
}
