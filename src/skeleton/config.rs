//! Cargo config and toolchain files that shape the build: `.cargo/config.toml` and
//! `.cargo/config` in the workspace root and its ancestors (not `$CARGO_HOME`, which the build
//! machine has its own of), secrets removed; and the nearest `rust-toolchain(.toml)`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::toml::{self, Node, Table};

/// Keys that hold or lead to credentials, anywhere in a registry table.
const SECRET_KEYS: &[&str] = &[
    "token",
    "credential-provider",
    "secret-key",
    "secret-key-subject",
];

/// Config tables that only shape cargo's own user interface.
const UI_TABLES: &[&str] = &["term", "cargo-new"];

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
    std::env::var_os("CARGO_HOME")
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

/// Canonical config text with credentials and UI-only tables removed. A skeleton becomes an
/// image layer: no token may ever land in it.
pub fn sanitize(path: &Path, text: &str) -> Result<String> {
    let mut config = toml::parse(text, path)?;
    for key in UI_TABLES {
        config.remove(*key);
    }
    // Aliases for credential providers carry their command lines (and any key in them).
    config.remove("credential-alias");
    if let Some(registry) = toml::table_mut(&mut config, "registry") {
        strip_secrets(registry);
        registry.remove("global-credential-providers");
    }
    if let Some(registries) = toml::table_mut(&mut config, "registries") {
        for registry in registries.values_mut() {
            if let Node::Table(registry) = registry {
                strip_secrets(registry);
            }
        }
    }
    if let Some(http) = toml::table_mut(&mut config, "http") {
        // A proxy URL may embed `user:password@`.
        if toml::as_str(http.get("proxy")).is_some_and(|p| p.contains('@')) {
            http.remove("proxy");
        }
    }
    Ok(toml::to_string(&config))
}

/// `build.target` of the nearest config that sets it (a string or a list), or
/// `CARGO_BUILD_TARGET`: where artifacts go when no `--target` is given.
pub fn build_targets(configs: &[PathBuf]) -> Result<Vec<String>> {
    if let Ok(target) = std::env::var("CARGO_BUILD_TARGET") {
        if !target.is_empty() {
            return Ok(vec![target]);
        }
    }
    for path in configs {
        let config = toml::parse(&crate::fs::read_to_string(path)?, path)?;
        let target = toml::table(&config, "build").and_then(|b| b.get("target"));
        match target {
            Some(Node::Value(toml_edit::Value::String(s))) => return Ok(vec![s.value().clone()]),
            Some(Node::Value(toml_edit::Value::Array(a))) => {
                return Ok(a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect())
            }
            _ => {}
        }
    }
    Ok(Vec::new())
}

/// `build.target-dir` of the nearest config that sets it, resolved against the directory
/// holding that config's `.cargo/`.
pub fn build_target_dir(configs: &[PathBuf]) -> Result<Option<PathBuf>> {
    for path in configs {
        let config = toml::parse(&crate::fs::read_to_string(path)?, path)?;
        if let Some(dir) =
            toml::table(&config, "build").and_then(|b| toml::as_str(b.get("target-dir")))
        {
            let base = path
                .parent()
                .and_then(Path::parent)
                .unwrap_or(Path::new("/"));
            return Ok(Some(base.join(dir)));
        }
    }
    Ok(None)
}

/// Directories that `[source]` replacement reads crates from (`directory`, `local-registry`),
/// resolved against the directory holding `.cargo/`: vendored sources are dependency inputs.
pub fn source_dirs(path: &Path, text: &str) -> Result<Vec<PathBuf>> {
    let config = toml::parse(text, path)?;
    let base = path
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("/"));
    let mut dirs = Vec::new();
    if let Some(sources) = toml::table(&config, "source") {
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
    Ok(dirs)
}

fn strip_secrets(table: &mut Table) {
    for key in SECRET_KEYS {
        table.remove(*key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_survive() {
        let text = "[registry]\ntoken = 'cio_secret'\nglobal-credential-providers = ['cargo:token']\n[registries.corp]\nindex = 'sparse+https://x/'\ntoken = 'corp_secret'\ncredential-provider = ['x', '--key', 'k_secret']\n[http]\nproxy = 'http://u:p_secret@proxy'\n[build]\nrustflags = ['-C', 'target-cpu=native']\n";
        let out = sanitize(Path::new("config.toml"), text).unwrap();
        assert!(!out.contains("secret"), "{out}");
        assert!(out.contains("rustflags"));
        assert!(out.contains("sparse+https://x/"));
    }
}
