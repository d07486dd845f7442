//! `diff` of TOML files (manifests, config): flattened to dotted keys, then named in
//! dependency terms ("feature `derive` added to serde in crates/api").

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Result;

use super::{change, presence, Change};
use crate::toml::{self, Node, Table};

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

pub(super) fn toml_changes(
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

pub(super) fn manifest_changes(
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
