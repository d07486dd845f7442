//! The exactness judge: cargo's own unit graph (`--unit-graph`, which compiles nothing) of the
//! real tree and of the laid-out skeleton, reduced to the external (non-path) units and the
//! edges between them. Equal graphs mean the real build after cook compiles no external unit
//! that cook did not (none missing) and cook compiled nothing the real build never uses (none
//! extra).

use std::collections::BTreeSet;
use std::path::Path;

use super::{cargo_cmd, run};

/// External units (as stable keys) and the edges between them.
#[derive(Debug, PartialEq, Eq)]
pub struct UnitGraph {
    pub units: BTreeSet<String>,
    pub edges: BTreeSet<(String, String)>,
}

/// `cargo <args> --unit-graph -Z unstable-options` in `dir`. Stable cargo takes the unstable
/// flag under `RUSTC_BOOTSTRAP=1`, so this needs no nightly toolchain.
pub fn unit_graph(dir: &Path, args: &[&str]) -> UnitGraph {
    let mut cmd = cargo_cmd(dir);
    cmd.args(args)
        .args(["--unit-graph", "-Z", "unstable-options", "--locked"])
        .env("RUSTC_BOOTSTRAP", "1");
    let out = run(&mut cmd);
    assert!(
        out.status.success(),
        "cargo {args:?} --unit-graph in {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&out.stdout, dir)
}

/// The graph of cargo's JSON, external units only; paths under `root` are masked so the two
/// trees compare.
pub fn parse(json: &[u8], root: &Path) -> UnitGraph {
    let v: serde_json::Value = serde_json::from_slice(json).expect("unit graph JSON");
    let units = v["units"].as_array().expect("units");
    let root = root.to_string_lossy();
    let keys: Vec<Option<String>> = units
        .iter()
        .map(|u| {
            let id = u["pkg_id"].as_str().unwrap_or_default();
            if id.starts_with("path+") {
                return None;
            }
            let key = serde_json::json!({
                "pkg": id,
                "kind": u["target"]["kind"],
                "name": u["target"]["name"],
                "profile": u["profile"],
                "features": u["features"],
                "mode": u["mode"],
                "platform": u["platform"],
            });
            Some(key.to_string().replace(&*root, "<root>"))
        })
        .collect();
    let mut graph = UnitGraph {
        units: keys.iter().flatten().cloned().collect(),
        edges: BTreeSet::new(),
    };
    for (unit, key) in units.iter().zip(&keys) {
        let Some(key) = key else { continue };
        for dep in unit["dependencies"].as_array().into_iter().flatten() {
            let index = dep["index"].as_u64().expect("dependency index") as usize;
            if let Some(Some(dep_key)) = keys.get(index) {
                graph.edges.insert((key.clone(), dep_key.clone()));
            }
        }
    }
    graph
}

/// Fails naming every unit and edge only one side has.
pub fn assert_same(real: &UnitGraph, skeleton: &UnitGraph, what: &str) {
    let missing: Vec<&String> = real.units.difference(&skeleton.units).collect();
    let extra: Vec<&String> = skeleton.units.difference(&real.units).collect();
    let missing_edges = real.edges.difference(&skeleton.edges).count();
    let extra_edges = skeleton.edges.difference(&real.edges).count();
    assert!(
        missing.is_empty() && extra.is_empty() && missing_edges == 0 && extra_edges == 0,
        "{what}: the skeleton's external units differ from the real tree's\n\
         missing (the real build would compile them after cook): {missing:#?}\n\
         extra (cook would compile them for nothing): {extra:#?}\n\
         edges missing: {missing_edges}, edges extra: {extra_edges}"
    );
    assert!(
        !real.units.is_empty(),
        "{what}: the real graph has no external unit, so the comparison proves nothing"
    );
}
