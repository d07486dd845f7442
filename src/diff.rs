//! `diff`: explain a cache miss in dependency terms. Compares two skeletons (or a skeleton and
//! a workspace) and names each change the way a person thinks of it: "itoa 1.0.10 -> 1.0.11",
//! "feature `derive` added to serde in crates/api", "profile.release.lto changed".

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::skeleton::{self, lockfile, FileKind, PrepareOptions, Skeleton};
use crate::toml::{self, Node, Table};

/// One dependency-relevant difference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    /// `package`, `dependency`, `feature`, `profile`, `member`, `config`, `toolchain`, ...
    pub kind: String,
    /// The file (relative to the skeleton tree) the change is in.
    pub file: String,
    pub message: String,
}

/// Loads a skeleton directory, or derives one from a workspace directory or manifest.
pub fn load(path: &Path) -> Result<Skeleton> {
    if path.join(skeleton::INDEX_FILE).is_file() {
        return Skeleton::read(path);
    }
    let manifest = if path.is_dir() {
        path.join("Cargo.toml")
    } else {
        path.to_path_buf()
    };
    let options = PrepareOptions {
        manifest_path: Some(manifest),
        ..PrepareOptions::default()
    };
    Ok(crate::prepare::derive(&options)
        .with_context(|| format!("`{}` is neither a skeleton nor a workspace", path.display()))?
        .skeleton)
}

pub fn diff(old: &Skeleton, new: &Skeleton) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    let paths: BTreeSet<&String> = old.files.keys().chain(new.files.keys()).collect();
    for path in paths {
        let (a, b) = (old.files.get(path), new.files.get(path));
        if a.map(|f| &f.contents) == b.map(|f| &f.contents) {
            continue;
        }
        let kind = a.or(b).map(|f| f.kind).unwrap_or(FileKind::Verbatim);
        let text = |f: Option<&skeleton::File>| {
            f.map(|f| String::from_utf8_lossy(&f.contents).into_owned())
        };
        let (ta, tb) = (text(a), text(b));
        match kind {
            FileKind::Lockfile => lock_changes(path, ta.as_deref(), tb.as_deref(), &mut changes)?,
            FileKind::Manifest => {
                manifest_changes(path, ta.as_deref(), tb.as_deref(), &mut changes)?
            }
            FileKind::Config => {
                toml_changes("config", path, ta.as_deref(), tb.as_deref(), &mut changes)?
            }
            FileKind::Toolchain => changes.push(change(
                "toolchain",
                path,
                format!(
                    "toolchain file `{path}` {}",
                    presence(a.is_some(), b.is_some())
                ),
            )),
            FileKind::Stub => changes.push(change(
                "target",
                path,
                stub_message(path, a.is_some(), b.is_some()),
            )),
            FileKind::Verbatim => changes.push(change(
                "source",
                path,
                format!(
                    "{} `{path}` (patched or vendored sources)",
                    presence(a.is_some(), b.is_some())
                ),
            )),
        }
    }
    // A new or removed package says it all; its stub targets need no lines of their own.
    let moved: BTreeSet<String> = changes
        .iter()
        .filter(|c| c.kind == "member")
        .map(|c| c.file.trim_end_matches("Cargo.toml").to_string())
        .collect();
    changes.retain(|c| c.kind != "target" || !moved.iter().any(|m| c.file.starts_with(m.as_str())));
    if old.workspace != new.workspace {
        changes.push(change(
            "layout",
            ".",
            format!(
                "workspace moved in the tree: `{}` -> `{}`",
                old.workspace, new.workspace
            ),
        ));
    }
    changes.sort();
    changes.dedup();
    Ok(changes)
}

fn change(kind: &str, file: &str, message: String) -> Change {
    Change {
        kind: kind.to_string(),
        file: file.to_string(),
        message,
    }
}

fn presence(old: bool, new: bool) -> &'static str {
    match (old, new) {
        (false, true) => "added",
        (true, false) => "removed",
        _ => "changed",
    }
}

fn stub_message(path: &str, old: bool, new: bool) -> String {
    let dir = path.split("/.cargo-prebuild-stub/").next().unwrap_or(path);
    let file = path.rsplit('/').next().unwrap_or(path);
    let what = match file {
        "lib.rs" => "a library target",
        "main.rs" => "binary targets",
        "build.rs" => "a build script that matters (build-dependencies or `links`)",
        _ => "test/example/bench targets (dev-dependencies)",
    };
    format!(
        "`{}` {} {what}",
        package_dir(dir),
        if new && !old { "gained" } else { "lost" }
    )
}

fn package_dir(dir: &str) -> &str {
    if dir.is_empty() || dir == "Cargo.toml" {
        "the root package"
    } else {
        dir
    }
}

/// Locked packages by `(name, source)`: their versions, each with its dependencies' names.
type LockIndex = BTreeMap<(String, Option<String>), Vec<(String, Vec<String>)>>;

fn lock_changes(
    path: &str,
    old: Option<&str>,
    new: Option<&str>,
    out: &mut Vec<Change>,
) -> Result<()> {
    let read = |text: Option<&str>| -> Result<LockIndex> {
        let mut map = LockIndex::new();
        if let Some(text) = text {
            for ((name, version, source), deps) in lockfile::packages(text, Path::new(path))? {
                map.entry((name, source)).or_default().push((version, deps));
            }
        }
        Ok(map)
    };
    let (a, b) = (read(old)?, read(new)?);
    let keys: BTreeSet<&(String, Option<String>)> = a.keys().chain(b.keys()).collect();
    for key in keys {
        let (name, source) = key;
        let local = if source.is_none() { " (local)" } else { "" };
        let va: BTreeSet<&String> = a.get(key).into_iter().flatten().map(|(v, _)| v).collect();
        let vb: BTreeSet<&String> = b.get(key).into_iter().flatten().map(|(v, _)| v).collect();
        let gone: Vec<&&String> = va.difference(&vb).collect();
        let came: Vec<&&String> = vb.difference(&va).collect();
        match (gone.as_slice(), came.as_slice()) {
            ([], []) => {
                if a.get(key) != b.get(key) {
                    out.push(change(
                        "package",
                        path,
                        format!("{name}{local}: its locked dependencies changed"),
                    ));
                }
            }
            ([old], [new]) => out.push(change(
                "package",
                path,
                format!("{name} {old} -> {new}{local}"),
            )),
            _ => {
                for v in gone {
                    out.push(change(
                        "package",
                        path,
                        format!("{name} {v} removed{local}"),
                    ));
                }
                for v in came {
                    out.push(change("package", path, format!("{name} {v} added{local}")));
                }
            }
        }
    }
    Ok(())
}

/// Flattens a TOML tree into dotted keys and rendered values.
fn flatten(prefix: &str, table: &Table, out: &mut BTreeMap<String, String>) {
    for (k, node) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match node {
            Node::Table(t) if !t.is_empty() => flatten(&key, t, out),
            other => {
                out.insert(key, render(other));
            }
        }
    }
}

fn render(node: &Node) -> String {
    let mut t = Table::new();
    t.insert("v".to_string(), node.clone());
    toml::to_string(&t)
        .trim_start_matches("v = ")
        .trim_end()
        .to_string()
}

fn parse(path: &str, text: Option<&str>) -> Result<Table> {
    text.map_or(Ok(Table::new()), |t| toml::parse(t, Path::new(path)))
}

fn toml_changes(
    kind: &str,
    path: &str,
    old: Option<&str>,
    new: Option<&str>,
    out: &mut Vec<Change>,
) -> Result<()> {
    if old.is_none() || new.is_none() {
        out.push(change(
            kind,
            path,
            format!("{} `{path}`", presence(old.is_some(), new.is_some())),
        ));
        return Ok(());
    }
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten("", &parse(path, old)?, &mut a);
    flatten("", &parse(path, new)?, &mut b);
    for key in a.keys().chain(b.keys()).collect::<BTreeSet<_>>() {
        match (a.get(key), b.get(key)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) => out.push(change(
                kind,
                path,
                format!("`{path}`: {key} changed: {x} -> {y}"),
            )),
            (Some(x), None) => out.push(change(
                kind,
                path,
                format!("`{path}`: {key} removed (was {x})"),
            )),
            (None, Some(y)) => out.push(change(kind, path, format!("`{path}`: {key} added: {y}"))),
            (None, None) => {}
        }
    }
    Ok(())
}

fn manifest_changes(
    path: &str,
    old: Option<&str>,
    new: Option<&str>,
    out: &mut Vec<Change>,
) -> Result<()> {
    let dir = path.strip_suffix("/Cargo.toml").unwrap_or(".");
    let place = if dir == "." {
        "the root manifest".to_string()
    } else {
        dir.to_string()
    };
    match (old, new) {
        (None, Some(_)) => {
            out.push(change("member", path, format!("new package {dir}")));
            return Ok(());
        }
        (Some(_), None) => {
            out.push(change("member", path, format!("package {dir} removed")));
            return Ok(());
        }
        _ => {}
    }
    let (a, b) = (parse(path, old)?, parse(path, new)?);
    let (mut fa, mut fb) = (BTreeMap::new(), BTreeMap::new());
    flatten("", &a, &mut fa);
    flatten("", &b, &mut fb);
    let keys: BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
    let mut deps_seen = BTreeSet::new();
    for key in keys {
        let (x, y) = (fa.get(key), fb.get(key));
        if x == y {
            continue;
        }
        if let Some((table, dep, field)) = dependency_key(key) {
            if field == "features" {
                let list = |v: Option<&String>| -> BTreeSet<String> {
                    v.map(|v| {
                        v.trim_matches(['[', ']'])
                            .split(',')
                            .map(|s| s.trim().trim_matches('"').to_string())
                            .filter(|s| !s.is_empty())
                            .collect()
                    })
                    .unwrap_or_default()
                };
                let (la, lb) = (list(x), list(y));
                for f in lb.difference(&la) {
                    out.push(change(
                        "feature",
                        path,
                        format!("feature `{f}` added to {dep} in {place}"),
                    ));
                }
                for f in la.difference(&lb) {
                    out.push(change(
                        "feature",
                        path,
                        format!("feature `{f}` removed from {dep} in {place}"),
                    ));
                }
                continue;
            }
            let had = fa
                .keys()
                .any(|k| dependency_key(k).is_some_and(|(t, d, _)| t == table && d == dep));
            let has = fb
                .keys()
                .any(|k| dependency_key(k).is_some_and(|(t, d, _)| t == table && d == dep));
            if had != has {
                if deps_seen.insert((table.clone(), dep.clone())) {
                    let verb = if has { "added to" } else { "removed from" };
                    out.push(change(
                        "dependency",
                        path,
                        format!("{table} `{dep}` {verb} {place}"),
                    ));
                }
                continue;
            }
            out.push(change(
                "dependency",
                path,
                format!("{table} `{dep}` in {place}: {field} {}", describe(x, y)),
            ));
            continue;
        }
        let kind = key.split('.').next().unwrap_or("manifest");
        let kind = match kind {
            "profile" => "profile",
            "features" => "feature",
            "patch" | "replace" => "patch",
            "workspace" => "workspace",
            _ => "manifest",
        };
        let scope = if kind == "profile" {
            String::new()
        } else {
            format!(" in {place}")
        };
        out.push(change(
            kind,
            path,
            format!("{key}{scope} {}", describe(x, y)),
        ));
    }
    Ok(())
}

fn describe(old: Option<&String>, new: Option<&String>) -> String {
    match (old, new) {
        (Some(x), Some(y)) => format!("changed: {x} -> {y}"),
        (Some(x), None) => format!("removed (was {x})"),
        (None, Some(y)) => format!("added: {y}"),
        (None, None) => "unchanged".to_string(),
    }
}

/// `dependencies.serde.features` -> (`dependencies`, `serde`, `features`), also under
/// `target.<cfg>.` and `workspace.`.
fn dependency_key(key: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = key.split('.').collect();
    let (table_len, is_dep) = match parts.as_slice() {
        ["target", _, table, ..] if crate::skeleton::is_dep_table(table) => (3, true),
        ["workspace", "dependencies", ..] => (2, true),
        [table, ..] if crate::skeleton::is_dep_table(table) => (1, true),
        _ => (0, false),
    };
    if !is_dep || parts.len() <= table_len {
        return None;
    }
    let table = parts[..table_len].join(".");
    let dep = parts[table_len].to_string();
    let field = if parts.len() > table_len + 1 {
        parts[table_len + 1..].join(".")
    } else {
        "spec".to_string()
    };
    Some((table, dep, field))
}

/// Prints the changes; returns whether the two sides differ (their digests do).
pub fn print(changes: &[Change], json: bool, old: &Skeleton, new: &Skeleton) -> Result<bool> {
    let mut out = std::io::stdout().lock();
    let differ = old.digest() != new.digest();
    if json {
        let value = serde_json::json!({
            "old": old.digest(),
            "new": new.digest(),
            "same": old.digest() == new.digest(),
            "changes": changes,
        });
        writeln!(out, "{value}")?;
        return Ok(differ);
    }
    if !differ {
        writeln!(
            out,
            "skeletons are identical ({}): the dependency layer is a cache hit",
            new.digest()
        )?;
        return Ok(false);
    }
    writeln!(
        out,
        "{} -> {}: {} dependency-relevant change(s)",
        old.digest(),
        new.digest(),
        changes.len()
    )?;
    for c in changes {
        writeln!(out, "  {}", c.message)?;
    }
    Ok(true)
}
