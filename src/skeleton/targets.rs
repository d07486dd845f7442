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
