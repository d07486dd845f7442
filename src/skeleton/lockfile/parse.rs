//! Reading `Cargo.lock` into the model, resolving each dependency reference to its entry as
//! cargo's `lookup_id` does (stale references included).

use anyhow::{bail, Context, Result};
use toml_edit::{DocumentMut, Item, Value};

use super::{Entry, Lockfile};

pub(super) fn parse(text: &str) -> Result<Lockfile> {
    let doc: DocumentMut = text.parse()?;
    let header_comments = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let version = doc.get("version").and_then(Item::as_integer);
    let packages = doc.get("package").and_then(Item::as_array_of_tables);
    let mut raw = Vec::new();
    if let Some(packages) = packages {
        for table in packages.iter() {
            raw.push(RawEntry::from_table(table)?);
        }
    }
    let ids: Vec<(String, String, Option<String>)> = raw
        .iter()
        .map(|r| (r.name.clone(), r.version.clone(), r.source.clone()))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            bail!("package `{}` is specified twice in the lockfile", id.0);
        }
    }
    // Like cargo's `lookup_id`: a reference names a package by name, then version, then
    // source (without the `#rev` of git sources). A stale reference (a version no longer in
    // the file) is what cargo repairs when it re-resolves: it points at the one package of
    // that name, or, if there are several, it is dropped.
    let resolve = |spec: &str| -> Option<usize> {
        let (name, version, source) = split_id(spec);
        let same_name: Vec<usize> = (0..ids.len()).filter(|&i| ids[i].0 == name).collect();
        let exact: Vec<usize> = same_name
            .iter()
            .copied()
            .filter(|&i| {
                let (_, v, s) = &ids[i];
                version.is_none_or(|want| want == v)
                    && source
                        .is_none_or(|want| s.as_deref().map(without_rev) == Some(without_rev(want)))
            })
            .collect();
        // Several matches and no source named: cargo takes the one path package among
        // them (path sources are never written), as when a member `foo 1.2.3` sits beside
        // the registry's `foo 1.2.3`.
        let path_matches: Vec<usize> = exact
            .iter()
            .copied()
            .filter(|&i| source.is_none() && ids[i].2.is_none())
            .collect();
        match (
            exact.as_slice(),
            same_name.as_slice(),
            path_matches.as_slice(),
        ) {
            ([one], _, _) => Some(*one),
            ([], [only], _) => Some(*only),
            (_, _, [path]) => Some(*path),
            _ => None,
        }
    };
    let mut entries = Vec::new();
    for r in &raw {
        let dependencies = r
            .dependencies
            .as_ref()
            .map(|deps| deps.iter().filter_map(|d| resolve(d)).collect::<Vec<_>>());
        let replace = r.replace.as_deref().and_then(resolve);
        entries.push(Entry {
            name: r.name.clone(),
            version: r.version.clone(),
            source: r.source.clone(),
            checksum: r.checksum.clone(),
            dependencies,
            replace,
        });
    }
    let mut unused_patches = Vec::new();
    if let Some(unused) = doc
        .get("patch")
        .and_then(|p| p.get("unused"))
        .and_then(Item::as_array_of_tables)
    {
        for table in unused.iter() {
            let r = RawEntry::from_table(table)?;
            unused_patches.push(Entry {
                name: r.name,
                version: r.version,
                source: r.source,
                checksum: r.checksum,
                dependencies: None,
                replace: None,
            });
        }
    }
    let metadata = doc.get("metadata").and_then(Item::as_table).cloned();
    Ok(Lockfile {
        header_comments,
        version,
        entries,
        unused_patches,
        metadata,
    })
}

struct RawEntry {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    dependencies: Option<Vec<String>>,
    replace: Option<String>,
}

impl RawEntry {
    fn from_table(table: &toml_edit::Table) -> Result<RawEntry> {
        let get = |key: &str| table.get(key).and_then(Item::as_str).map(str::to_string);
        let name = get("name").context("package entry without `name`")?;
        let version =
            get("version").with_context(|| format!("package `{name}` without `version`"))?;
        let dependencies = table
            .get("dependencies")
            .and_then(Item::as_array)
            .map(|array| {
                array
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            });
        Ok(RawEntry {
            source: get("source"),
            checksum: get("checksum"),
            replace: get("replace"),
            name,
            version,
            dependencies,
        })
    }
}

/// A source id without the precise revision that git sources carry after `#`.
pub(super) fn without_rev(source: &str) -> &str {
    source.split('#').next().unwrap_or(source)
}

/// Splits `name [version [(source)]]`.
pub(super) fn split_id(spec: &str) -> (&str, Option<&str>, Option<&str>) {
    let mut parts = spec.splitn(3, ' ');
    let name = parts.next().unwrap_or_default();
    let version = parts.next();
    let source = parts
        .next()
        .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
    (name, version, source)
}
