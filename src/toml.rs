//! A canonical TOML form: documents become a sorted tree and are written back one way only,
//! so comments, key order, quoting, inline-vs-standard tables and `"x"` vs
//! `{ version = "x" }` dependency spellings can never change a skeleton byte. Also the one
//! walk over a manifest's dependency tables, for loading and for the rules alike.

use std::collections::BTreeMap;
use std::fmt::Write;

use anyhow::{Context, Result};
use toml_edit::{DocumentMut, Item, Key, Value};

/// The dependency tables of a manifest (and of each `[target.'cfg']` table), in both
/// spellings cargo accepts.
pub const DEP_TABLES: &[&str] = &[
    "dependencies",
    "dev-dependencies",
    "dev_dependencies",
    "build-dependencies",
    "build_dependencies",
];

/// A TOML node with sorted tables and comment-free values.
#[derive(Debug, Clone)]
pub enum Node {
    /// A scalar, or an array of scalars/inline tables, rebuilt without decoration.
    Value(Value),
    Table(Table),
    /// `[[x]]` arrays of tables.
    TableArray(Vec<Table>),
}

pub type Table = BTreeMap<String, Node>;

pub fn parse(text: &str, what: &std::path::Path) -> Result<Table> {
    let doc: DocumentMut = text
        .parse()
        .with_context(|| format!("failed to parse `{}`", what.display()))?;
    Ok(table_from(doc.as_table()))
}

fn table_from(table: &toml_edit::Table) -> Table {
    table
        .iter()
        .filter_map(|(k, item)| Some((k.to_string(), node_from(item)?)))
        .collect()
}

fn node_from(item: &Item) -> Option<Node> {
    Some(match item {
        Item::None => return None,
        Item::Value(Value::InlineTable(t)) => Node::Table(
            t.iter()
                .map(|(k, v)| (k.to_string(), node_from_value(v)))
                .collect(),
        ),
        Item::Value(v) => node_from_value(v),
        Item::Table(t) => Node::Table(table_from(t)),
        Item::ArrayOfTables(a) => Node::TableArray(a.iter().map(table_from).collect()),
    })
}

fn node_from_value(value: &Value) -> Node {
    match value {
        Value::InlineTable(t) => Node::Table(
            t.iter()
                .map(|(k, v)| (k.to_string(), node_from_value(v)))
                .collect(),
        ),
        other => Node::Value(clean(other)),
    }
}

/// Rebuilds a value from its data alone, dropping comments, whitespace and quoting style.
pub fn clean(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::from(s.value().as_str()),
        Value::Integer(i) => Value::from(*i.value()),
        Value::Float(f) => Value::from(*f.value()),
        Value::Boolean(b) => Value::from(*b.value()),
        Value::Datetime(d) => Value::from(*d.value()),
        Value::Array(a) => {
            let mut out = toml_edit::Array::new();
            for v in a.iter() {
                out.push(clean(v));
            }
            out.fmt();
            Value::Array(out)
        }
        Value::InlineTable(t) => {
            let mut sorted: Vec<(&str, &Value)> = t.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            let mut out = toml_edit::InlineTable::new();
            for (k, v) in sorted {
                out.insert(k, clean(v));
            }
            out.fmt();
            Value::InlineTable(out)
        }
    }
}

pub fn string(s: &str) -> Node {
    Node::Value(Value::from(s))
}

pub fn as_str(node: Option<&Node>) -> Option<&str> {
    match node {
        Some(Node::Value(Value::String(s))) => Some(s.value().as_str()),
        _ => None,
    }
}

pub fn table_mut<'a>(table: &'a mut Table, key: &str) -> Option<&'a mut Table> {
    match table.get_mut(key) {
        Some(Node::Table(t)) => Some(t),
        _ => None,
    }
}

pub fn table<'a>(table: &'a Table, key: &str) -> Option<&'a Table> {
    match table.get(key) {
        Some(Node::Table(t)) => Some(t),
        _ => None,
    }
}

/// Which tables hold one entry per line (`name = { ... }`), decided by their path.
/// Calls `f` on every dependency table of a manifest: `[dependencies]` and friends,
/// `[target.'cfg'.*]` and `[workspace.dependencies]` (one list, as cargo's `DepTable::KINDS`).
pub fn for_each_dep_table_mut(manifest: &mut Table, mut f: impl FnMut(&mut Table)) {
    for key in DEP_TABLES {
        if let Some(t) = table_mut(manifest, key) {
            f(t);
        }
    }
    if let Some(targets) = table_mut(manifest, "target") {
        for platform in targets.values_mut() {
            if let Node::Table(platform) = platform {
                for key in DEP_TABLES {
                    if let Some(t) = table_mut(platform, key) {
                        f(t);
                    }
                }
            }
        }
    }
    if let Some(ws) = table_mut(manifest, "workspace") {
        if let Some(t) = table_mut(ws, "dependencies") {
            f(t);
        }
    }
}

/// [`for_each_dep_table_mut`] for reading.
pub fn for_each_dep_table(manifest: &Table, mut f: impl FnMut(&Table)) {
    let nested = |t: &Table, f: &mut dyn FnMut(&Table)| {
        for key in DEP_TABLES {
            if let Some(t) = table(t, key) {
                f(t);
            }
        }
    };
    nested(manifest, &mut f);
    if let Some(targets) = table(manifest, "target") {
        for platform in targets.values() {
            if let Node::Table(platform) = platform {
                nested(platform, &mut f);
            }
        }
    }
    if let Some(t) = table(manifest, "workspace").and_then(|ws| table(ws, "dependencies")) {
        f(t);
    }
}

fn inline_entries(path: &[String]) -> bool {
    let last = path.last().map(String::as_str);
    let dep_table = matches!(
        last,
        Some(
            "dependencies"
                | "dev-dependencies"
                | "dev_dependencies"
                | "build-dependencies"
                | "build_dependencies"
        )
    );
    match path.len() {
        1 => dep_table || last == Some("replace"),
        2 => path[0] == "patch" || (path[0] == "workspace" && dep_table),
        3 => path[0] == "target" && dep_table,
        _ => false,
    }
}

fn is_dep_table(path: &[String]) -> bool {
    inline_entries(path) && path.first().is_some_and(|p| p != "patch" && p != "replace")
}

/// Writes a table tree in the one canonical form.
pub fn to_string(root: &Table) -> String {
    let mut out = String::new();
    emit(&mut out, &mut Vec::new(), root, false);
    out
}

fn key(k: &str) -> String {
    Key::new(k).display_repr().to_string()
}

fn header(path: &[String]) -> String {
    path.iter().map(|k| key(k)).collect::<Vec<_>>().join(".")
}

fn inline(node: &Node) -> String {
    match node {
        Node::Value(v) => v.to_string().trim().to_string(),
        Node::Table(t) => {
            let parts: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), inline(v)))
                .collect();
            if parts.is_empty() {
                "{}".to_string()
            } else {
                format!("{{ {} }}", parts.join(", "))
            }
        }
        Node::TableArray(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|t| inline(&Node::Table(t.clone())))
                .collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

fn emit(out: &mut String, path: &mut Vec<String>, table: &Table, array_item: bool) {
    let entries_inline = inline_entries(path);
    let dep_table = is_dep_table(path);
    let values: Vec<(&String, String)> = table
        .iter()
        .filter(|(_, n)| entries_inline || matches!(n, Node::Value(_)))
        .map(|(k, n)| {
            let text = match n {
                // `foo = "1"` and `foo = { version = "1" }` are the same dependency.
                Node::Value(Value::String(s)) if dep_table => {
                    format!("{{ version = {} }}", Value::from(s.value().as_str()))
                }
                other => inline(other),
            };
            (k, text)
        })
        .collect();
    if !path.is_empty() && (array_item || !values.is_empty() || table.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        if array_item {
            let _ = writeln!(out, "[[{}]]", header(path));
        } else {
            let _ = writeln!(out, "[{}]", header(path));
        }
    }
    for (k, text) in &values {
        let _ = writeln!(out, "{} = {}", key(k), text);
    }
    if entries_inline {
        return;
    }
    // `[package]` (or a virtual manifest's `[workspace]`) first, for people reading it.
    let mut order: Vec<(&String, &Node)> = table.iter().collect();
    if path.is_empty() {
        order.sort_by_key(|(k, _)| (k.as_str() != "package", k.as_str() != "workspace"));
    }
    for (k, node) in order {
        match node {
            Node::Table(t) => {
                path.push(k.clone());
                emit(out, path, t, false);
                path.pop();
            }
            Node::TableArray(items) => {
                path.push(k.clone());
                for item in items {
                    emit(out, path, item, true);
                }
                path.pop();
            }
            Node::Value(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn canon(text: &str) -> String {
        to_string(&parse(text, Path::new("Cargo.toml")).unwrap())
    }

    #[test]
    fn formatting_comments_and_spelling_do_not_matter() {
        let a = canon(
            "[package]\nname = 'a' # the name\n\n[dependencies]\nitoa = \"1\"\nserde = { features = [\"derive\"], version = \"1\" }\n",
        );
        let b = canon(
            "# header\n[dependencies.serde]\nversion = \"1\"\nfeatures = [ 'derive', ]\n[dependencies]\nitoa = { version = \"1\" }\n[package]\nname = \"a\"\n",
        );
        assert_eq!(a, b);
        assert_eq!(
            a,
            "[package]\nname = \"a\"\n\n[dependencies]\nitoa = { version = \"1\" }\nserde = { features = [\"derive\"], version = \"1\" }\n"
        );
    }

    #[test]
    fn round_trips_through_cargo_shapes() {
        let text = "[workspace]\nmembers = [\"a\"]\n\n[[bin]]\nname = \"x\"\npath = \"x.rs\"\n\n[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n\n[profile.release.package.\"*\"]\nopt-level = 3\n";
        let once = canon(text);
        assert_eq!(canon(&once), once);
        assert!(once.contains("[target.\"cfg(unix)\".dependencies]\nlibc = { version = \"0.2\" }"));
        assert!(once.contains("[[bin]]\nname = \"x\""));
        assert!(once.contains("[profile.release.package.\"*\"]\nopt-level = 3"));
    }
}
