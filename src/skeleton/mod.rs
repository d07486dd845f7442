//! The skeleton: a sorted map of relative paths to file contents, plus a small index, that
//! holds exactly what affects dependency compilation. This module owns the value, its index
//! and its digest. Deriving it is `derive`, a pipeline of steps over `workspace::Inputs` whose
//! rules live by what they touch: `manifest` (a package's manifest), `targets` (its targets;
//! stub sources are `stubs`), `root` (workspace root manifests), `prune` (per-image
//! skeletons), `lockfile`, `config` (cargo config); `urls` refuses credentials. On disk,
//! `store` stages a skeleton and switches it in, `read` reads one back, `archive` is the
//! tree's tar form. `lock_check` checks a lockfile as cargo would when it loads it.

mod archive;
mod config;
mod derive;
pub(crate) mod lock_check;
pub(crate) mod lockfile;
mod manifest;
mod prune;
mod read;
mod root;
mod store;
pub mod stubs;
mod targets;
mod urls;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::toml::DEP_TABLES;
pub use config::{build_target_dir, build_targets, sanitize as sanitize_config};
pub use derive::{derive, Derived, PrepareOptions};
pub use lockfile::MASKED_VERSION;
pub use store::Staged;

/// Name of the index file at the top of a skeleton directory.
pub const INDEX_FILE: &str = "cargo-prebuild.json";
/// The archive, inside a skeleton directory, holding the files cook lays out.
pub const TREE_ARCHIVE: &str = "tree.tar";
/// Version of the skeleton format; cook refuses skeletons of another format. Format 2 holds
/// the tree in one archive (format 1 held it in a `tree/` directory).
pub const FORMAT: u32 = 2;

/// What a file in the skeleton is, so cook and people know how it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// A normalized `Cargo.toml`.
    Manifest,
    /// The normalized `Cargo.lock`.
    Lockfile,
    /// A cargo config file, secrets removed.
    Config,
    /// `rust-toolchain` or `rust-toolchain.toml`, verbatim.
    Toolchain,
    /// A generated stub target source.
    Stub,
    /// A real source file copied verbatim (patched or vendored crates).
    Verbatim,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub kind: FileKind,
    pub contents: Vec<u8>,
}

/// A local package whose sources are stubs: cook cleans its artifacts after building.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StubPackage {
    pub name: String,
    /// Directory relative to the skeleton tree root, `/`-separated.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Skeleton {
    /// Relative `/`-separated path (from the tree root) to file. Sorted, so every listing,
    /// digest and write happens in one order whatever the filesystem's order.
    pub files: BTreeMap<String, File>,
    /// Workspace root relative to the tree root (`.` unless out-of-root packages or ancestor
    /// config files widen the tree).
    pub workspace: String,
    pub stub_packages: Vec<StubPackage>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Index {
    format: u32,
    digest: String,
    workspace: String,
    stub_packages: Vec<StubPackage>,
    files: Vec<IndexEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct IndexEntry {
    path: String,
    kind: FileKind,
    sha256: String,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

impl Skeleton {
    fn entries(&self) -> Vec<IndexEntry> {
        self.files
            .iter()
            .map(|(path, file)| IndexEntry {
                path: path.clone(),
                kind: file.kind,
                sha256: sha256_hex(&file.contents),
            })
            .collect()
    }

    /// Digest over everything cook uses: the format, the layout and every file.
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(format!("cargo-prebuild skeleton format {FORMAT}\n"));
        hasher.update(format!("workspace {}\n", self.workspace));
        for pkg in &self.stub_packages {
            hasher.update(format!("stub-package {} {}\n", pkg.name, pkg.path));
        }
        for entry in self.entries() {
            hasher.update(format!(
                "file {:?} {} {}\n",
                entry.kind, entry.sha256, entry.path
            ));
        }
        format!("sha256:{}", hex(&hasher.finalize()))
    }

    fn index_json(&self) -> Result<Vec<u8>> {
        let index = Index {
            format: FORMAT,
            digest: self.digest(),
            workspace: self.workspace.clone(),
            stub_packages: self.stub_packages.clone(),
            files: self.entries(),
        };
        let mut json = serde_json::to_vec_pretty(&index)?;
        json.push(b'\n');
        Ok(json)
    }
}

/// Whether a manifest table name holds dependencies.
pub fn is_dep_table(name: &str) -> bool {
    crate::toml::DEP_TABLES.contains(&name)
}

/// A skeleton path must stay inside the tree: no `..`, no absolute paths.
pub fn check_relative(path: &str) -> Result<()> {
    let ok = !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !ok {
        bail!("skeleton path `{path}` is not a plain relative path");
    }
    Ok(())
}

/// Creates the directories between `base` and `file`'s parent, recording those it made.
pub fn create_dirs(base: &Path, file: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    let Some(parent) = file.parent() else {
        return Ok(());
    };
    let mut missing = Vec::new();
    let mut cur = parent;
    while !cur.exists() {
        missing.push(cur.to_path_buf());
        match cur.parent() {
            Some(p) if p.starts_with(base) || base.starts_with(p) => cur = p,
            _ => break,
        }
    }
    for dir in missing.into_iter().rev() {
        crate::fs::create_dir_all(&dir)?;
        created.push(dir);
    }
    Ok(())
}

/// `/`-separated relative path from `base` to `path` (both absolute).
pub fn relative(base: &Path, path: &Path) -> Result<String> {
    let rel = path
        .strip_prefix(base)
        .with_context(|| format!("`{}` is not under `{}`", path.display(), base.display()))?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Ok(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}

/// Joins `/`-separated relative paths, treating `.` as empty.
pub fn join(base: &str, rel: &str) -> String {
    match (base, rel) {
        (".", r) | ("", r) => r.to_string(),
        (b, ".") | (b, "") => b.to_string(),
        (b, r) => format!("{b}/{r}"),
    }
}

/// Checks a rule by the manifest text it gives: `before` parsed, the rule applied, the
/// canonical text compared with the `after` snapshot (`UPDATE_EXPECT=1` rewrites it).
#[cfg(test)]
fn check_rule(
    before: &str,
    rule: impl FnOnce(&mut crate::toml::Table),
    after: expect_test::Expect,
) {
    let mut doc = crate::toml::parse(before, Path::new("Cargo.toml")).unwrap();
    rule(&mut doc);
    after.assert_eq(&crate::toml::to_string(&doc));
}
