//! Rules for a package's targets: every real target gives way to stubs that keep exactly
//! what decides which units cargo builds, so adding a second test or editing a bin's source
//! never changes the skeleton.

use std::collections::BTreeMap;

use super::stubs::{self, Stub};
use crate::toml::{self, Node, Table};
use crate::workspace::{Kind, Package};

/// Target auto-discovery switches: the skeleton declares its stub targets explicitly.
const AUTO_KEYS: &[&str] = &[
    "autolib",
    "autobins",
    "autoexamples",
    "autotests",
    "autobenches",
];

const TARGET_TABLES: &[&str] = &["lib", "bin", "example", "test", "bench"];

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

/// The stubs a package gets: one per kind of target it has and per distinct set of the
/// attributes that decide which units cargo builds for that kind, so the skeleton's unit
/// graph is the real one's, and only a package's first target of a kind (or one with new
/// `required-features`) changes it. A build script stub stands for a real one (see
/// `derive`): its build-dependencies and `links` need it, and a first build script is a
/// change of kind like a first test.
pub fn stub_targets(pkg: &Package, manifest: &Table) -> Vec<Stub> {
    let bench = target_flags(manifest, "bench");
    let scrape = target_flags(manifest, "doc-scrape-examples");
    stubs::for_targets(&pkg.targets, |t| {
        let key = (t.kind, (t.kind != Kind::Lib).then(|| t.name.clone()));
        stubs::ManifestFlags {
            bench: bench.get(&key).copied().unwrap_or(t.kind.default_bench()),
            doc_scrape: scrape.get(&key).copied().unwrap_or(false),
        }
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use expect_test::expect;

    use super::*;
    use crate::skeleton::check_rule;
    use crate::workspace::Target;

    fn target(kind: Kind, name: &str, crate_types: &[&str], required: &[&str]) -> Target {
        let (test, doctest, doc) = kind.default_flags();
        Target {
            kind,
            name: name.to_string(),
            crate_types: crate_types.iter().map(|s| s.to_string()).collect(),
            required_features: required.iter().map(|s| s.to_string()).collect(),
            test,
            doctest,
            doc,
        }
    }

    fn package(targets: Vec<Target>, has_build_script: bool) -> Package {
        Package {
            name: "app".to_string(),
            version: "1.2.3".to_string(),
            dir: PathBuf::from("/ws/crates/app"),
            manifest_path: PathBuf::from("/ws/crates/app/Cargo.toml"),
            targets: crate::workspace::sorted(targets),
            has_build_script,
            links: None,
            dep_names: Vec::new(),
            path_deps: Vec::new(),
            lib_path_deps: Vec::new(),
            workspace_root: PathBuf::from("/ws"),
        }
    }

    /// `stub_targets` then `replace_targets`, as derivation applies them.
    fn stubbed(pkg: &Package, manifest: &mut Table) {
        let stubs = stub_targets(pkg, manifest);
        replace_targets(manifest, &pkg.name, &stubs, pkg.has_build_script, 2);
    }

    #[test]
    fn targets_become_one_stub_per_kind_and_unit_attributes() {
        let pkg = package(
            vec![
                target(Kind::Lib, "app", &["cdylib", "rlib"], &[]),
                target(Kind::Bin, "app", &["bin"], &[]),
                target(Kind::Bin, "app-cli", &["bin"], &[]),
                target(Kind::Bin, "gui", &["bin"], &["gui"]),
                target(Kind::Test, "it", &["bin"], &[]),
                target(Kind::Test, "more", &["bin"], &[]),
                target(Kind::Bench, "speed", &["bin"], &[]),
                target(Kind::Example, "demo", &["bin"], &[]),
            ],
            true,
        );
        let before = r#"
            [package]
            name = "app"
            build = "build.rs"
            autobins = true
            [lib]
            crate-type = ["cdylib", "rlib"]
            bench = false
            [[bin]]
            name = "app-cli"
            path = "src/cli.rs"
            [[bin]]
            name = "gui"
            required-features = ["gui"]
            [[bench]]
            name = "speed"
            bench = false
            [[example]]
            name = "demo"
            doc-scrape-examples = true
            [dependencies]
            itoa = "1"
        "#;
        check_rule(
            before,
            |m| stubbed(&pkg, m),
            expect![[r#"
            [package]
            autobenches = false
            autobins = false
            autoexamples = false
            autolib = false
            autotests = false
            build = "../../.cargo-prebuild-stub/build.rs"
            name = "app"

            [[bench]]
            bench = false
            harness = false
            name = "app-prebuild-stub-bench"
            path = "../../.cargo-prebuild-stub/bench.rs"

            [[bin]]
            name = "app-prebuild-stub"
            path = "../../.cargo-prebuild-stub/main.rs"

            [[bin]]
            name = "app-prebuild-stub-2"
            path = "../../.cargo-prebuild-stub/main-2.rs"
            required-features = ["gui"]

            [dependencies]
            itoa = { version = "1" }

            [[example]]
            doc-scrape-examples = true
            name = "app-prebuild-stub-example"
            path = "../../.cargo-prebuild-stub/example.rs"

            [lib]
            bench = false
            crate-type = ["cdylib", "rlib"]
            path = "../../.cargo-prebuild-stub/lib.rs"

            [[test]]
            harness = false
            name = "app-prebuild-stub-test"
            path = "../../.cargo-prebuild-stub/test.rs"
        "#]],
        );
    }

    #[test]
    fn a_proc_macro_without_build_script() {
        let pkg = package(
            vec![target(Kind::Lib, "derive_app", &["proc-macro"], &[])],
            false,
        );
        check_rule(
            "[package]\nname = 'app'\n[lib]\nproc-macro = true\nname = 'derive_app'\n",
            |m| stubbed(&pkg, m),
            expect![[r#"
                [package]
                autobenches = false
                autobins = false
                autoexamples = false
                autolib = false
                autotests = false
                build = false
                name = "app"

                [lib]
                path = "../../.cargo-prebuild-stub/lib.rs"
                proc-macro = true
            "#]],
        );
    }

    #[test]
    fn target_flags_reads_explicit_flags_only() {
        let manifest = crate::toml::parse(
            "[lib]\nbench = false\n[[bench]]\nname = 'b'\nbench = true\n[[bin]]\nname = 'x'\n",
            Path::new("Cargo.toml"),
        )
        .unwrap();
        let flags = target_flags(&manifest, "bench");
        assert_eq!(
            flags.into_iter().collect::<Vec<_>>(),
            [
                ((Kind::Lib, None), false),
                ((Kind::Bench, Some("b".to_string())), true)
            ]
        );
    }
}
