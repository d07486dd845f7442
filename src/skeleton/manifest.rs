//! Rules for a package manifest: each function removes or rewrites one thing that cannot
//! affect dependency compilation, so editing it never invalidates the dependency layer.
//! Everything else (unknown and future keys included) passes through: this is a deny-list,
//! not a schema. Targets are `targets`' rules, the `[workspace]` table `root`'s.

use std::path::Path;

use super::stubs;
use crate::toml::{self, Node, Table};

/// `[package]` keys that only describe or publish a package. All are inheritable from
/// `[workspace.package]`, which is dropped whole for the same reason.
const DESCRIPTIVE_PACKAGE_KEYS: &[&str] = &[
    "authors",
    "categories",
    "default-run",
    "description",
    "documentation",
    "exclude",
    "homepage",
    "include",
    "keywords",
    "license",
    "license-file",
    "metadata",
    "publish",
    "readme",
    "repository",
];

/// Edition given to every skeleton package: only stub code is compiled under it, and the
/// resolver it would imply is written out explicitly instead.
pub const STUB_EDITION: &str = "2021";

/// Drops descriptive fields, `[badges]`, `[lints]` (a `deny` lint must not fail a stub, and
/// lints never change how dependencies compile) and the local version (masked to cargo's
/// default `0.0.0`, with the lockfile rewritten to match, so a version bump is not a miss).
pub fn strip_package_metadata(manifest: &mut Table, keep_rust_version: bool) {
    manifest.remove("badges");
    manifest.remove("lints");
    if let Some(package) = toml::table_mut(manifest, "package") {
        for key in DESCRIPTIVE_PACKAGE_KEYS {
            package.remove(*key);
        }
        package.remove("version");
        if !keep_rust_version {
            package.remove("rust-version");
        }
        package.insert("edition".to_string(), toml::string(STUB_EDITION));
    }
}

/// A path dependency on a masked local package must not require the real version, which the
/// skeleton no longer carries (`version` on a path dependency only matters when publishing).
pub fn strip_path_dep_versions(
    manifest: &mut Table,
    dir: &Path,
    is_masked: &dyn Fn(&Path) -> bool,
) {
    toml::for_each_dep_table_mut(manifest, |deps| {
        for dep in deps.values_mut() {
            let Node::Table(dep) = dep else { continue };
            let Some(path) = toml::as_str(dep.get("path")) else {
                continue;
            };
            if is_masked(&dir.join(path)) {
                dep.remove("version");
            }
        }
    });
}

/// Drops `[profile]` from a manifest that is not the workspace root's: cargo ignores profiles
/// there (with a warning), so they cannot change a build.
pub fn drop_profiles(manifest: &mut Table) {
    manifest.remove("profile");
}

/// `[package]` keys whose inherited value is a path relative to the workspace root.
const INHERITED_PATHS: &[&str] = &["license-file", "readme"];

/// Replaces `key.workspace = true` in `[package]` and `[lints] workspace = true` by the root's
/// values, for a package `depth` directories below the root that keeps its real manifest.
pub fn inline_inherited(manifest: &mut Table, root: &Table, depth: usize) {
    let ws = toml::table(root, "workspace");
    let ws_package = ws.and_then(|w| toml::table(w, "package"));
    if let Some(package) = toml::table_mut(manifest, "package") {
        for (key, value) in package.iter_mut() {
            let inherits = matches!(value, Node::Table(t) if t.contains_key("workspace"));
            let Some(inherited) = ws_package.and_then(|p| p.get(key)).filter(|_| inherits) else {
                continue;
            };
            *value = match toml::as_str(Some(inherited)) {
                Some(path) if INHERITED_PATHS.contains(&key.as_str()) => {
                    toml::string(&stubs::from_depth(path, depth))
                }
                _ => inherited.clone(),
            };
        }
    }
    let inherits_lints =
        toml::table(manifest, "lints").is_some_and(|l| l.contains_key("workspace"));
    if let Some(lints) = ws.and_then(|w| w.get("lints")).filter(|_| inherits_lints) {
        manifest.insert("lints".to_string(), lints.clone());
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::skeleton::check_rule;

    #[test]
    fn strip_package_metadata_keeps_what_builds_and_unknown_keys() {
        let before = r#"
            [package]
            name = "app"
            version = "1.2.3"   # masked: a bump must not miss the cache
            edition = "2018"
            rust-version = "1.70"
            description = "x"
            authors = ["A <a@example.com>"]
            readme = "README.md"
            links = "z"
            build = "build.rs"
            future-key = 1
            [package.metadata.docs.rs]
            all-features = true
            [lints.rust]
            unsafe_code = "deny"
            [badges]
            maintenance = { status = "passively-maintained" }
            [dependencies]
            itoa = "1"
        "#;
        check_rule(
            before,
            |m| strip_package_metadata(m, false),
            expect![[r#"
                [package]
                build = "build.rs"
                edition = "2021"
                future-key = 1
                links = "z"
                name = "app"

                [dependencies]
                itoa = { version = "1" }
            "#]],
        );
        // Without a lockfile, cook resolves, and `rust-version` steers that resolution.
        check_rule(
            before,
            |m| strip_package_metadata(m, true),
            expect![[r#"
                [package]
                build = "build.rs"
                edition = "2021"
                future-key = 1
                links = "z"
                name = "app"
                rust-version = "1.70"

                [dependencies]
                itoa = { version = "1" }
            "#]],
        );
    }

    #[test]
    fn strip_path_dep_versions_only_for_masked_packages() {
        let before = r#"
            [dependencies]
            stubbed = { path = "../stubbed", version = "0.4" }
            patched = { path = "../patched", version = "0.4" }
            itoa = { version = "1" }
            [target.'cfg(unix)'.build-dependencies]
            stubbed = { path = "../stubbed", version = "0.4" }
            [workspace.dependencies]
            stubbed = { path = "crates/stubbed", version = "0.4" }
        "#;
        let dir = Path::new("/ws/app");
        check_rule(
            before,
            |m| {
                strip_path_dep_versions(m, dir, &|p| {
                    p == Path::new("/ws/app/../stubbed") || p == Path::new("/ws/app/crates/stubbed")
                })
            },
            expect![[r#"
                [workspace.dependencies]
                stubbed = { path = "crates/stubbed" }

                [dependencies]
                itoa = { version = "1" }
                patched = { path = "../patched", version = "0.4" }
                stubbed = { path = "../stubbed" }

                [target."cfg(unix)".build-dependencies]
                stubbed = { path = "../stubbed" }
            "#]],
        );
    }

    #[test]
    fn drop_profiles_outside_the_root() {
        check_rule(
            "[package]\nname = 'a'\n[profile.release]\nopt-level = 3\n[profile.dev.package.'*']\nopt-level = 1\n",
            drop_profiles,
            expect![[r#"
                [package]
                name = "a"
            "#]],
        );
    }

    #[test]
    fn inline_inherited_gives_a_verbatim_package_the_roots_values() {
        let root = crate::toml::parse(
            r#"
            [workspace.package]
            version = "0.4.0"
            edition = "2021"
            readme = "README.md"
            license-file = "LICENSE"
            [workspace.lints.rust]
            unsafe_code = "forbid"
            "#,
            Path::new("Cargo.toml"),
        )
        .unwrap();
        check_rule(
            r#"
            [package]
            name = "patched"
            version.workspace = true
            edition.workspace = true
            readme.workspace = true
            license-file.workspace = true
            description.workspace = true   # not in the root: left for cargo to report
            [lints]
            workspace = true
            "#,
            |m| inline_inherited(m, &root, 2),
            expect![[r#"
                [package]
                edition = "2021"
                license-file = "../../LICENSE"
                name = "patched"
                readme = "../../README.md"
                version = "0.4.0"

                [package.description]
                workspace = true

                [lints.rust]
                unsafe_code = "forbid"
            "#]],
        );
    }
}
