//! The units cook produced, recorded for the gates: cargo's unit graph of the external
//! packages (so `build` can predict, before compiling, exactly which of them it compiles
//! anew) and the unit directories cook left in the target dir (so `verify` can tell, after
//! any build, which external units were compiled after cook).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::cargo::CargoCommand;

/// External units by package (`itoa v1.0.11`): one identity per unit, covering everything
/// cargo decided for it (target, profile, features, platform, mode) and for its dependencies.
pub type UnitGraph = BTreeMap<String, BTreeSet<String>>;

/// `registry+https://...#itoa@1.0.11` (or the older `itoa 1.0.11 (registry+...)`) ->
/// `itoa v1.0.11`, cargo's spelling in its logs.
pub fn package_desc(id: &str) -> String {
    if let Some((_, tail)) = id.rsplit_once('#') {
        return match tail.split_once('@') {
            Some((name, version)) => format!("{name} v{version}"),
            None => tail.to_string(),
        };
    }
    let mut words = id.split_whitespace();
    match (words.next(), words.next()) {
        (Some(name), Some(version)) => format!("{name} v{version}"),
        _ => id.to_string(),
    }
}

/// Whether a package id is a local (path) package.
pub fn is_local(id: &str) -> bool {
    id.starts_with("path+") || id.contains("(path+")
}

#[derive(Deserialize)]
struct Graph {
    units: Vec<serde_json::Value>,
}

/// The external unit graph of the build `cmd` (a `cargo build`-like command line without
/// output flags) would run: `--unit-graph`, unstable, so asked with `RUSTC_BOOTSTRAP=1`
/// (nothing is compiled). Fails if cargo refuses it.
pub fn unit_graph(cmd: &CargoCommand) -> Result<UnitGraph> {
    let mut cmd = cmd.clone();
    cmd.args(["--unit-graph", "-Z", "unstable-options", "--quiet"]);
    let output = cmd
        .std_command()
        .env("RUSTC_BOOTSTRAP", "1")
        .output()
        .with_context(|| format!("failed to run `{cmd}`"))?;
    if !output.status.success() {
        bail!(
            "`{cmd}` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    let graph: Graph = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("failed to parse the unit graph of `{cmd}`"))?;
    let mut memo: Vec<Option<String>> = vec![None; graph.units.len()];
    let mut out = UnitGraph::new();
    for index in 0..graph.units.len() {
        let id = graph.units[index]
            .get("pkg_id")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        if is_local(&id) {
            continue;
        }
        let identity = identity(&graph.units, index, &mut memo, 0)?;
        out.entry(package_desc(&id)).or_default().insert(identity);
    }
    Ok(out)
}

/// A unit's identity: the digest of its own description and its dependencies' identities.
fn identity(
    units: &[serde_json::Value],
    index: usize,
    memo: &mut Vec<Option<String>>,
    depth: usize,
) -> Result<String> {
    if let Some(Some(known)) = memo.get(index) {
        return Ok(known.clone());
    }
    let unit = units
        .get(index)
        .with_context(|| format!("the unit graph names unit {index}, which it lacks"))?;
    if depth > units.len() {
        bail!("the unit graph has a cycle");
    }
    let mut own = unit.clone();
    let mut deps = Vec::new();
    if let Some(obj) = own.as_object_mut() {
        if let Some(serde_json::Value::Array(list)) = obj.remove("dependencies") {
            for dep in list {
                let dep_index = dep.get("index").and_then(|i| i.as_u64()).unwrap_or(0);
                let name = dep.get("extern_crate_name").cloned().unwrap_or_default();
                let dep_index = usize::try_from(dep_index).unwrap_or(usize::MAX);
                deps.push(format!(
                    "{name}={}",
                    identity(units, dep_index, memo, depth + 1)?
                ));
            }
        }
    }
    deps.sort();
    let text = format!("{own}|{}", deps.join(","));
    let digest = crate::skeleton::sha256_hex(text.as_bytes());
    let short = digest.get(..16).unwrap_or(&digest).to_string();
    if let Some(slot) = memo.get_mut(index) {
        *slot = Some(short.clone());
    }
    Ok(short)
}

/// The external packages `build` compiles units of that cook did not build.
pub fn predict(cook: &UnitGraph, build: &UnitGraph) -> BTreeSet<String> {
    let empty = BTreeSet::new();
    build
        .iter()
        .filter(|(pkg, ids)| !ids.is_subset(cook.get(*pkg).unwrap_or(&empty)))
        .map(|(pkg, _)| pkg.clone())
        .collect()
}

/// Every unit directory in the target dir's profile directories,
/// `<profile dir>/.fingerprint/<pkg>-<hash>` (relative to the target dir), with the
/// fingerprint hashes it holds: a unit compiled again with other inputs gets new hashes.
pub fn target_units(target_dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for profile in crate::clean::profile_dirs(target_dir)? {
        let rel = profile.strip_prefix(target_dir).unwrap_or(&profile);
        let dir = profile.join(".fingerprint");
        let entries = std::fs::read_dir(&dir)
            .with_context(|| format!("failed to read `{}`", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("failed to read `{}`", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let mut hashes = Vec::new();
            if let Ok(files) = std::fs::read_dir(entry.path()) {
                for file in files.flatten() {
                    let Ok(bytes) = std::fs::read(file.path()) else {
                        continue;
                    };
                    let is_hash = bytes.len() == 16 && bytes.iter().all(|b| b.is_ascii_hexdigit());
                    if is_hash {
                        hashes.push(format!(
                            "{}={}",
                            file.file_name().to_string_lossy(),
                            String::from_utf8_lossy(&bytes)
                        ));
                    }
                }
            }
            hashes.sort();
            out.insert(format!("{}/{name}", rel.display()), hashes.join(","));
        }
    }
    Ok(out)
}

/// `debug/.fingerprint/itoa-0123456789abcdef` -> (`itoa`, `0123456789abcdef`).
pub fn unit_name(key: &str) -> Option<(&str, &str)> {
    let name = key.rsplit('/').next()?;
    let (pkg, hash) = name.rsplit_once('-')?;
    (hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit())).then_some((pkg, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_ids_read_in_both_spellings() {
        assert_eq!(
            package_desc("registry+https://github.com/rust-lang/crates.io-index#itoa@1.0.11"),
            "itoa v1.0.11"
        );
        assert_eq!(
            package_desc("itoa 1.0.11 (registry+https://github.com/rust-lang/crates.io-index)"),
            "itoa v1.0.11"
        );
        assert!(is_local("path+file:///w/app#0.1.0"));
        assert_eq!(
            unit_name("release/.fingerprint/cfg-if-0123456789abcdef"),
            Some(("cfg-if", "0123456789abcdef"))
        );
    }
}
