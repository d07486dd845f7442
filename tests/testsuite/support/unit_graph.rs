//! The exactness oracle: cargo's own unit graph (`--unit-graph`, which compiles nothing) of the
//! real tree and of the laid-out skeleton, read by the product's reader
//! (`cargo_prebuild::units`: the external units, each identified with everything cargo decided
//! for it and for its dependencies), then compared. Equal graphs mean the real build after cook
//! compiles no external unit that cook did not (none missing) and cook compiled nothing the
//! real build never uses (none extra).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use cargo_prebuild::cargo::CargoCommand;
use cargo_prebuild::units::{self, UnitGraph};

/// The external unit graph of `cargo <args> --locked` in `dir`.
pub fn unit_graph(dir: &Path, args: &[&str]) -> UnitGraph {
    let mut cmd = CargoCommand::new(dir);
    cmd.args(args).arg("--locked");
    units::unit_graph(&cmd).unwrap_or_else(|e| panic!("{e:#}"))
}

/// Runs `f` on the laid-out skeleton moved to the real tree's path (the real tree set aside
/// meanwhile), so that both graphs name a local package an external unit depends on (a
/// `[patch]` target a registry crate compiles against) by the same path.
pub fn at_real_path<T>(real: &Path, layout: &Path, f: impl FnOnce(&Path) -> T) -> T {
    let aside = real.with_extension("real");
    fs::rename(real, &aside).unwrap();
    fs::rename(layout, real).unwrap();
    let result = f(real);
    fs::rename(real, layout).unwrap();
    fs::rename(&aside, real).unwrap();
    result
}

/// Fails naming, per package, how many units only one side has.
pub fn assert_same(real: &UnitGraph, skeleton: &UnitGraph, what: &str) {
    let empty = BTreeSet::new();
    let mut differ = Vec::new();
    for pkg in real.keys().chain(skeleton.keys()).collect::<BTreeSet<_>>() {
        let r = real.get(pkg).unwrap_or(&empty);
        let s = skeleton.get(pkg).unwrap_or(&empty);
        let missing = r.difference(s).count();
        let extra = s.difference(r).count();
        if missing + extra > 0 {
            differ.push(format!(
                "{pkg}: {missing} unit(s) missing (the real build would compile them after \
                 cook), {extra} extra (cook would compile them for nothing)"
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{what}: the skeleton's external units differ from the real tree's\n{differ:#?}"
    );
    assert!(
        !real.is_empty(),
        "{what}: the real graph has no external unit, so the comparison proves nothing"
    );
}
