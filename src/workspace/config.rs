//! Finding the files around a workspace that shape its build: `.cargo/config.toml` and
//! `.cargo/config` in the workspace root and its ancestors, `$CARGO_HOME`'s config, the
//! nearest `rust-toolchain(.toml)`; and the local directories a config or manifest points
//! cargo at (`[source]` replacement, `[patch]`, `[replace]`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::toml::{self, Node, Table};

/// Config files cargo reads when run from `root`, nearest first, minus `$CARGO_HOME`'s.
pub fn find_configs(root: &Path) -> Result<Vec<PathBuf>> {
    let cargo_home = cargo_home().and_then(|h| std::fs::canonicalize(h).ok());
    let mut found = Vec::new();
    for dir in root.ancestors() {
        let dot_cargo = dir.join(".cargo");
        if cargo_home.as_deref() == Some(dot_cargo.as_path()) {
            continue;
        }
        for name in ["config.toml", "config"] {
            let path = dot_cargo.join(name);
            if path.is_file() {
                found.push(path);
            }
        }
    }
    Ok(found)
}

/// Every config file cargo reads when run from `dir`, in its order of precedence: the
/// hierarchy from `dir` upward, then `$CARGO_HOME`'s. For what cook reads back (target dir,
/// build target, build dir), not for the skeleton, which never holds `$CARGO_HOME`'s config.
pub fn cargo_configs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = find_configs(dir)?;
    if let Some(home) = cargo_home() {
        found.extend(
            ["config.toml", "config"]
                .iter()
                .map(|name| home.join(name))
                .filter(|path| path.is_file()),
        );
    }
    Ok(found)
}

/// `$CARGO_HOME`, or `~/.cargo`.
pub fn cargo_home() -> Option<PathBuf> {
    // An empty `CARGO_HOME` is unset, as cargo reads it.
    std::env::var_os("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// The nearest toolchain file at or above `root`, as rustup finds it (`rust-toolchain` wins
/// over `rust-toolchain.toml` in one directory).
pub fn find_toolchain(root: &Path) -> Option<PathBuf> {
    root.ancestors().find_map(|dir| {
        ["rust-toolchain", "rust-toolchain.toml"]
            .into_iter()
            .map(|name| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The directory a config file's relative paths are resolved against: the one holding its
/// `.cargo/`.
pub fn config_base(path: &Path) -> &Path {
    path.parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("/"))
}

/// Directories that `[source]` replacement reads crates from (`directory`, `local-registry`)
/// in the config file at `path`, resolved against the directory holding `.cargo/`.
pub fn source_dirs(path: &Path, config: &Table) -> Vec<PathBuf> {
    let base = config_base(path);
    let mut dirs = Vec::new();
    if let Some(sources) = toml::table(config, "source") {
        for source in sources.values() {
            let Node::Table(source) = source else {
                continue;
            };
            for key in ["directory", "local-registry"] {
                if let Some(dir) = toml::as_str(source.get(key)) {
                    dirs.push(base.join(dir));
                }
            }
        }
    }
    dirs
}

/// Adds to `dirs` the existing local directories that `[patch]` or `[replace]` of `doc` (a
/// manifest or config file) point at, resolved against `base`, symlinks resolved.
pub fn patch_dirs(base: &Path, doc: &Table, dirs: &mut BTreeSet<PathBuf>) {
    let mut visit = |entries: &Table| {
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
    if let Some(patch) = toml::table(doc, "patch") {
        for source in patch.values() {
            if let Node::Table(entries) = source {
                visit(entries);
            }
        }
    }
    if let Some(replace) = toml::table(doc, "replace") {
        visit(replace);
    }
}
