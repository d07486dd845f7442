//! Manifest rules: each function removes or rewrites one thing that cannot affect dependency
//! compilation, so editing it never invalidates the dependency layer. Everything else (unknown
//! and future keys included) passes through: this is a deny-list, not a schema.

use std::collections::BTreeMap;
use std::path::Path;

use super::stubs::{self, Stub};
use crate::toml::{self, Node, Table, DEP_TABLES};
use crate::workspace::Kind;

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

/// Replaces every real target with the package's stub targets. Each stub keeps the
/// attributes that decide which units cargo builds for its kind (crate types, the
/// `required-features` set, `test`/`doctest`/`doc`/`bench`), written only where they differ
/// from cargo's default for the kind.
pub fn replace_targets(
    manifest: &mut Table,
    package: &str,
    stubs: &[Stub],
    build_script: bool,
    depth: usize,
) {
    for key in TARGET_TABLES {
        manifest.remove(*key);
    }
    let Some(pkg) = toml::table_mut(manifest, "package") else {
        return;
    };
    for key in AUTO_KEYS {
        pkg.insert((*key).to_string(), Node::Value(false.into()));
    }
    let build = if build_script {
        toml::string(&stubs::from_depth(stubs::BUILD_PATH, depth))
    } else {
        Node::Value(false.into())
    };
    pkg.insert("build".to_string(), build);

    let mut seen: BTreeMap<Kind, usize> = BTreeMap::new();
    for stub in stubs {
        let index = {
            let n = seen.entry(stub.kind).or_insert(0);
            *n += 1;
            *n - 1
        };
        let mut target = Table::new();
        target.insert(
            "path".to_string(),
            toml::string(&stubs::from_depth(&stub.path(index), depth)),
        );
        let default_types: &[&str] = match stub.kind {
            Kind::Lib => &["lib"],
            _ => &["bin"],
        };
        if stub.crate_types == ["proc-macro"] {
            target.insert("proc-macro".to_string(), Node::Value(true.into()));
        } else if stub.crate_types != default_types {
            let mut array = toml_edit::Array::new();
            for t in &stub.crate_types {
                array.push(t.as_str());
            }
            target.insert(
                "crate-type".to_string(),
                Node::Value(toml::clean(&array.into())),
            );
        }
        if !stub.required_features.is_empty() {
            let mut array = toml_edit::Array::new();
            for f in &stub.required_features {
                array.push(f.as_str());
            }
            target.insert(
                "required-features".to_string(),
                Node::Value(toml::clean(&array.into())),
            );
        }
        let (test, doctest, doc) = stub.kind.default_flags();
        let flags = [
            ("test", stub.test, test),
            ("doctest", stub.doctest, doctest),
            ("doc", stub.doc, doc),
            ("bench", stub.bench, stub.kind.default_bench()),
        ];
        for (key, value, default) in flags {
            if value != default {
                target.insert(key.to_string(), Node::Value(value.into()));
            }
        }
        // An example scraped for docs makes `cargo doc` resolve features with
        // dev-dependencies.
        if stub.doc_scrape {
            target.insert("doc-scrape-examples".to_string(), Node::Value(true.into()));
        }
        if stub.kind == Kind::Lib {
            manifest.insert("lib".to_string(), Node::Table(target));
            continue;
        }
        target.insert("name".to_string(), toml::string(&stub.name(package, index)));
        // Stub sources have a `main`, so tests and benches run without the harness.
        if matches!(stub.kind, Kind::Test | Kind::Bench) {
            target.insert("harness".to_string(), Node::Value(false.into()));
        }
        match manifest.get_mut(stub.kind.table()) {
            Some(Node::TableArray(list)) => list.push(target),
            _ => {
                manifest.insert(
                    stub.kind.table().to_string(),
                    Node::TableArray(vec![target]),
                );
            }
        }
    }
}

/// A boolean key (`bench`, `doc-scrape-examples`) of each target the manifest declares
/// explicitly, by kind and name (the lib under its kind alone): cargo metadata reports neither.
pub fn target_flags(manifest: &Table, key: &str) -> BTreeMap<(Kind, Option<String>), bool> {
    let flag = |t: &Table| match t.get(key) {
        Some(Node::Value(toml_edit::Value::Boolean(b))) => Some(*b.value()),
        _ => None,
    };
    let mut flags = BTreeMap::new();
    if let Some(Node::Table(lib)) = manifest.get("lib") {
        if let Some(b) = flag(lib) {
            flags.insert((Kind::Lib, None), b);
        }
    }
    for kind in [Kind::Bin, Kind::Example, Kind::Test, Kind::Bench] {
        let Some(Node::TableArray(list)) = manifest.get(kind.table()) else {
            continue;
        };
        for target in list {
            if let (Some(name), Some(b)) = (toml::as_str(target.get("name")), flag(target)) {
                flags.insert((kind, Some(name.to_string())), b);
            }
        }
    }
    flags
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
        toml::parse(text, Path::new("Cargo.toml")).unwrap()
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
