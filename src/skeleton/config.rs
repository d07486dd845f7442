//! Cargo config files in the skeleton: the workspace's own (found by `workspace::config`;
//! not `$CARGO_HOME`'s, which the build machine has its own of) with secrets and UI-only
//! tables removed. Also reads back the `build.target` and `build.target-dir` cook needs.

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

/// Canonical config text with credentials and UI-only tables removed. A skeleton becomes an
/// image layer: no token may ever land in it.
pub fn sanitize(path: &Path, text: &str) -> Result<String> {
    Ok(sanitize_table(toml::parse(text, path)?))
}

/// [`sanitize`] on a parsed config file.
pub fn sanitize_table(mut config: Table) -> String {
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
    toml::to_string(&config)
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

    #[test]
    fn sanitize_keeps_what_builds() {
        crate::skeleton::check_rule(
            r#"
            [build]
            rustflags = ["-C", "target-cpu=native"]   # shapes every artifact
            [term]
            color = "always"
            [cargo-new]
            vcs = "none"
            [registries.corp]
            index = "sparse+https://registry.example/"
            token = "corp_secret"
            [http]
            proxy = "http://proxy:3128"
            [source.crates-io]
            replace-with = "vendored"
            [source.vendored]
            directory = "vendor"
            "#,
            |c| {
                *c = crate::toml::parse(&sanitize_table(std::mem::take(c)), Path::new("c")).unwrap()
            },
            expect_test::expect![[r#"
                [build]
                rustflags = ["-C", "target-cpu=native"]

                [http]
                proxy = "http://proxy:3128"

                [registries.corp]
                index = "sparse+https://registry.example/"

                [source.crates-io]
                replace-with = "vendored"

                [source.vendored]
                directory = "vendor"
            "#]],
        );
    }
}
