//! Manifest rules: each function removes or rewrites one thing that cannot affect dependency
//! compilation, so editing it never invalidates the dependency layer. Everything else (unknown
//! and future keys included) passes through: this is a deny-list, not a schema.

use std::path::Path;

use super::stubs::StubTarget;
use super::toml::{self, Node, Table};

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

/// Target auto-discovery switches: the skeleton declares its stub targets explicitly.
const AUTO_KEYS: &[&str] = &[
    "autolib",
    "autobins",
    "autoexamples",
    "autotests",
    "autobenches",
];

const TARGET_TABLES: &[&str] = &["lib", "bin", "example", "test", "bench"];

pub const DEP_TABLES: &[&str] = &[
    "dependencies",
    "dev-dependencies",
    "dev_dependencies",
    "build-dependencies",
    "build_dependencies",
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

/// Replaces every real target with the package's stub targets.
pub fn replace_targets(
    manifest: &mut Table,
    package: &str,
    stubs: &[StubTarget],
    lib: Option<&super::super::workspace::LibKind>,
    depth: usize,
) {
    use super::super::workspace::LibKind;
    for key in TARGET_TABLES {
        manifest.remove(*key);
    }
    let Some(pkg) = toml::table_mut(manifest, "package") else {
        return;
    };
    for key in AUTO_KEYS {
        pkg.insert((*key).to_string(), Node::Value(false.into()));
    }
    let build = if stubs.contains(&StubTarget::Build) {
        toml::string(&StubTarget::Build.path_from(depth))
    } else {
        Node::Value(false.into())
    };
    pkg.insert("build".to_string(), build);

    for stub in stubs {
        let mut target = Table::new();
        target.insert("path".to_string(), toml::string(&stub.path_from(depth)));
        let key = match stub {
            StubTarget::Build => continue,
            StubTarget::Lib => {
                match lib {
                    Some(LibKind::ProcMacro) => {
                        target.insert("proc-macro".to_string(), Node::Value(true.into()));
                    }
                    Some(LibKind::CrateTypes(types)) if types.as_slice() != ["lib"] => {
                        let mut array = toml_edit::Array::new();
                        for t in types {
                            array.push(t.as_str());
                        }
                        target.insert(
                            "crate-type".to_string(),
                            Node::Value(toml::clean(&array.into())),
                        );
                    }
                    _ => {}
                }
                manifest.insert("lib".to_string(), Node::Table(target));
                continue;
            }
            StubTarget::Bin => "bin",
            StubTarget::Example => "example",
            StubTarget::Test => "test",
            StubTarget::Bench => "bench",
        };
        target.insert("name".to_string(), toml::string(&stub.name(package)));
        if matches!(stub, StubTarget::Test | StubTarget::Bench) {
            target.insert("harness".to_string(), Node::Value(false.into()));
        }
        manifest.insert(key.to_string(), Node::TableArray(vec![target]));
    }
}

/// Calls `f` on every dependency table of a manifest: `[dependencies]` and friends,
/// `[target.'cfg'.*]` and `[workspace.dependencies]` (one list, as cargo's `DepTable::KINDS`).
pub fn for_each_dep_table(manifest: &mut Table, mut f: impl FnMut(&mut Table)) {
    for key in DEP_TABLES {
        if let Some(t) = toml::table_mut(manifest, key) {
            f(t);
        }
    }
    if let Some(targets) = toml::table_mut(manifest, "target") {
        for platform in targets.values_mut() {
            if let Node::Table(platform) = platform {
                for key in DEP_TABLES {
                    if let Some(t) = toml::table_mut(platform, key) {
                        f(t);
                    }
                }
            }
        }
    }
    if let Some(ws) = toml::table_mut(manifest, "workspace") {
        if let Some(t) = toml::table_mut(ws, "dependencies") {
            f(t);
        }
    }
}

/// A path dependency on a masked local package must not require the real version, which the
/// skeleton no longer carries (`version` on a path dependency only matters when publishing).
pub fn strip_path_dep_versions(
    manifest: &mut Table,
    dir: &Path,
    is_masked: &dyn Fn(&Path) -> bool,
) {
    for_each_dep_table(manifest, |deps| {
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

/// `[workspace]`: drops `[workspace.package]` (only inheritable descriptive fields, all
/// stripped from members), `[workspace.metadata]` and `[workspace.lints]`, and pins the
/// resolver that the root's edition implied, since editions are normalized.
pub fn normalize_workspace(manifest: &mut Table, resolver: &str, keep_rust_version: bool) {
    let has_workspace = matches!(manifest.get("workspace"), Some(Node::Table(_)));
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
        ws.insert("resolver".to_string(), toml::string(resolver));
    }
    if !has_workspace {
        if let Some(pkg) = toml::table_mut(manifest, "package") {
            pkg.insert("resolver".to_string(), toml::string(resolver));
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Table {
        toml::parse(text, Path::new("Cargo.toml")).unwrap_or_default()
    }

    #[test]
    fn resolver_follows_root_edition() {
        assert_eq!(
            effective_resolver(&parse("[package]\nname='a'\nedition='2024'")),
            "3"
        );
        assert_eq!(
            effective_resolver(&parse("[package]\nname='a'\nedition='2021'")),
            "2"
        );
        assert_eq!(effective_resolver(&parse("[package]\nname='a'")), "1");
        assert_eq!(effective_resolver(&parse("[workspace]\nmembers=[]")), "1");
        assert_eq!(effective_resolver(&parse("[workspace]\nresolver='2'")), "2");
        assert_eq!(
            effective_resolver(&parse(
                "[workspace.package]\nedition='2021'\n[package]\nname='a'\nedition.workspace=true"
            )),
            "2"
        );
    }

    #[test]
    fn metadata_and_version_are_stripped_unknown_keys_kept() {
        let mut m = parse(
            "[package]\nname='a'\nversion='1.2.3'\ndescription='x'\nlinks='z'\nfuture-key=1\n[package.metadata.docs]\nx=1\n[lints.rust]\nunsafe_code='deny'\n[badges]\nx={}\n",
        );
        strip_package_metadata(&mut m, false);
        let text = toml::to_string(&m);
        assert_eq!(
            text,
            "[package]\nedition = \"2021\"\nfuture-key = 1\nlinks = \"z\"\nname = \"a\"\n"
        );
    }
}
