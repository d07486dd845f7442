//! `diff`: explain a cache miss in dependency terms. Compares two skeletons (or a skeleton and
//! a workspace) and names each change the way a person thinks of it: "itoa 1.0.10 -> 1.0.11",
//! "feature `derive` added to serde in crates/api", "profile.release.lto changed".

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::skeleton::{self, lockfile, FileKind, PrepareOptions, Skeleton};

mod toml_changes;

use toml_changes::{manifest_changes, toml_changes};

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
                    "{} `{path}` (sources that go in whole: patched, vendored or `--real` packages)",
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
