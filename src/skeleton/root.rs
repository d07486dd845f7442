//! Rules for workspace root manifests: the `[workspace]` table keeps what resolution reads
//! and pins the resolver the root's edition implied; a root whose package was pruned becomes
//! virtual; another workspace's root keeps only its `[workspace]`.

use crate::toml::{self, Node, Table};

/// `[workspace]`: drops `[workspace.package]` (only inheritable descriptive fields, all
/// stripped from members), `[workspace.metadata]` and `[workspace.lints]`, and pins the
/// resolver that the root's edition implied, since editions are normalized.
pub fn normalize_workspace(manifest: &mut Table, resolver: &str, keep_rust_version: bool) {
    let has_workspace = matches!(manifest.get("workspace"), Some(Node::Table(_)));
    let package_resolver =
        toml::table(manifest, "package").is_some_and(|p| p.contains_key("resolver"));
    if let Some(ws) = toml::table_mut(manifest, "workspace") {
        let rust_version = toml::table(ws, "package")
            .and_then(|p| p.get("rust-version"))
            .cloned();
        ws.remove("package");
        ws.remove("metadata");
        ws.remove("lints");
        if let (true, Some(rv)) = (keep_rust_version, rust_version) {
            let mut package = Table::new();
            package.insert("rust-version".to_string(), rv);
            ws.insert("package".to_string(), Node::Table(package));
        }
        if !package_resolver {
            ws.insert("resolver".to_string(), toml::string(resolver));
        }
    }
    // One place only: cargo refuses `resolver` in both `[workspace]` and the root `[package]`.
    if !has_workspace || package_resolver {
        if let Some(pkg) = toml::table_mut(manifest, "package") {
            pkg.insert("resolver".to_string(), toml::string(resolver));
        }
    }
}

/// Tables that belong to a root manifest's package, not to its workspace.
const PACKAGE_TABLES: &[&str] = &[
    "package",
    "project",
    "lib",
    "bin",
    "example",
    "test",
    "bench",
    "dependencies",
    "dev-dependencies",
    "dev_dependencies",
    "build-dependencies",
    "build_dependencies",
    "target",
    "features",
    "badges",
    "lints",
];

/// Drops the root package from a root manifest, leaving a virtual manifest (every other key,
/// unknown ones included, stays: this is a deny-list like the rest).
pub fn make_virtual(manifest: &mut Table) {
    manifest.retain(|key, _| !PACKAGE_TABLES.contains(&key.as_str()));
}

/// The resolver cargo uses for a workspace root manifest, before editions are normalized.
pub fn effective_resolver(root: &Table) -> String {
    let explicit = toml::table(root, "workspace")
        .and_then(|ws| toml::as_str(ws.get("resolver")))
        .or_else(|| toml::table(root, "package").and_then(|p| toml::as_str(p.get("resolver"))));
    if let Some(r) = explicit {
        return r.to_string();
    }
    let Some(package) = toml::table(root, "package") else {
        // A virtual manifest without `resolver` uses resolver 1.
        return "1".to_string();
    };
    let edition = match package.get("edition") {
        Some(Node::Table(t)) if t.contains_key("workspace") => toml::table(root, "workspace")
            .and_then(|ws| toml::table(ws, "package"))
            .and_then(|p| toml::as_str(p.get("edition"))),
        other => toml::as_str(other),
    };
    match edition {
        Some("2024") => "3",
        Some("2021") => "2",
        _ => "1",
    }
    .to_string()
}

/// The resolver a skeleton pins: resolver 3 differs from 2 only in how a lockfile is
/// generated (it prefers versions compatible with `rust-version`); building from a fixed
/// lockfile, they are the same.
pub fn locked_resolver(resolver: String, locked: bool) -> String {
    if resolver == "3" && locked {
        "2".to_string()
    } else {
        resolver
    }
}

/// The root manifest of another workspace that owns an out-of-root path dependency: cargo
/// reads only its `[workspace]` (to find that package's workspace), normalized with its own
/// resolver.
pub fn only_workspace(mut manifest: Table, keep_rust_version: bool) -> Table {
    let ws_table = manifest
        .remove("workspace")
        .unwrap_or(Node::Table(Table::new()));
    let mut only_ws = Table::new();
    only_ws.insert("workspace".to_string(), ws_table);
    let resolver = effective_resolver(&manifest);
    normalize_workspace(&mut only_ws, &resolver, keep_rust_version);
    only_ws
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use expect_test::expect;

    use super::*;
    use crate::skeleton::check_rule;

    fn parse(text: &str) -> Table {
        toml::parse(text, Path::new("Cargo.toml")).unwrap()
    }

    #[test]
    fn resolver_follows_root_edition() {
        let resolver = |text: &str| effective_resolver(&parse(text));
        assert_eq!(resolver("[package]\nname='a'\nedition='2024'"), "3");
        assert_eq!(resolver("[package]\nname='a'\nedition='2021'"), "2");
        assert_eq!(resolver("[package]\nname='a'"), "1");
        assert_eq!(resolver("[workspace]\nmembers=[]"), "1");
        assert_eq!(resolver("[workspace]\nresolver='2'"), "2");
        assert_eq!(resolver("[package]\nname='a'\nresolver='2'"), "2");
        assert_eq!(
            resolver(
                "[workspace.package]\nedition='2021'\n[package]\nname='a'\nedition.workspace=true"
            ),
            "2"
        );
        assert_eq!(locked_resolver("3".to_string(), true), "2");
        assert_eq!(locked_resolver("3".to_string(), false), "3");
        assert_eq!(locked_resolver("1".to_string(), true), "1");
    }

    #[test]
    fn normalize_workspace_keeps_resolution_inputs_and_pins_the_resolver() {
        let before = r#"
            [workspace]
            members = ["crates/*"]
            exclude = ["old"]
            [workspace.package]
            version = "0.4.0"
            rust-version = "1.80"
            [workspace.metadata.release]
            x = 1
            [workspace.lints.rust]
            unsafe_code = "forbid"
            [workspace.dependencies]
            itoa = "1"
            [patch.crates-io]
            itoa = { path = "vendor/itoa" }
        "#;
        check_rule(
            before,
            |m| normalize_workspace(m, "2", false),
            expect![[r#"
                [workspace]
                exclude = ["old"]
                members = ["crates/*"]
                resolver = "2"

                [workspace.dependencies]
                itoa = { version = "1" }

                [patch.crates-io]
                itoa = { path = "vendor/itoa" }
            "#]],
        );
        check_rule(
            before,
            |m| normalize_workspace(m, "3", true),
            expect![[r#"
                [workspace]
                exclude = ["old"]
                members = ["crates/*"]
                resolver = "3"

                [workspace.dependencies]
                itoa = { version = "1" }

                [workspace.package]
                rust-version = "1.80"

                [patch.crates-io]
                itoa = { path = "vendor/itoa" }
            "#]],
        );
    }

    #[test]
    fn normalize_workspace_writes_the_resolver_in_one_place() {
        // A root package that names its resolver keeps it there: cargo refuses two.
        check_rule(
            "[workspace]\n[package]\nname = 'a'\nresolver = '1'\n",
            |m| normalize_workspace(m, "1", false),
            expect![[r#"
                [package]
                name = "a"
                resolver = "1"

                [workspace]
            "#]],
        );
        // A single package without `[workspace]`.
        check_rule(
            "[package]\nname = 'a'\nedition = '2021'\n",
            |m| normalize_workspace(m, "2", false),
            expect![[r#"
                [package]
                edition = "2021"
                name = "a"
                resolver = "2"
            "#]],
        );
    }

    #[test]
    fn make_virtual_keeps_the_workspace_and_unknown_tables() {
        check_rule(
            r#"
            cargo-features = ["profile-rustflags"]
            [package]
            name = "app"
            [lib]
            path = "src/lib.rs"
            [dependencies]
            itoa = "1"
            [target.'cfg(unix)'.dependencies]
            libc = "0.2"
            [features]
            fast = []
            [workspace]
            members = ["crates/*"]
            [profile.release]
            lto = true
            [patch.crates-io]
            itoa = { path = "vendor/itoa" }
            [future-table]
            x = 1
            "#,
            make_virtual,
            expect![[r#"
                cargo-features = ["profile-rustflags"]

                [workspace]
                members = ["crates/*"]

                [future-table]
                x = 1

                [patch.crates-io]
                itoa = { path = "vendor/itoa" }

                [profile.release]
                lto = true
            "#]],
        );
    }

    #[test]
    fn only_workspace_of_another_workspaces_root() {
        check_rule(
            r#"
            [package]
            name = "other-root"
            edition = "2021"
            [dependencies]
            itoa = "1"
            [workspace]
            members = ["shared"]
            [workspace.package]
            authors = ["A"]
            "#,
            |m| *m = only_workspace(std::mem::take(m), false),
            expect![[r#"
                [workspace]
                members = ["shared"]
                resolver = "2"
            "#]],
        );
    }
}
