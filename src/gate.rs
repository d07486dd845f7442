//! The gates' judgement against the cook record: which external packages a build is about to
//! compile anew (cook's unit graph against the build's, before compiling), and which external
//! units and stub artifacts the target dir holds that cook did not leave there (after any
//! build, so `cargo build && cargo prebuild verify` is a gate).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Result;

use crate::context::BuildContext;
use crate::record::{Mismatch, Record, GRAPH_KINDS};
use crate::shell::Shell;
use crate::skeleton::stubs::STUB_DIR;
use crate::units::{self, package_desc};
use crate::verify::Findings;

/// Sharpens the mismatches with cargo's unit graph, when cook recorded one and cargo gave the
/// build's (`graph`, asked for only when cook recorded one): the selection, feature, profile and target differences then say exactly which
/// external packages compile anew, and go unsaid when none does. Without the graphs they say
/// "may", and so do they when an earlier build left units of those packages in the target dir
/// (cargo may find the ones it plans among them, fresh).
pub fn predict(
    cook: &Record,
    ctx: &BuildContext,
    graph: Option<Result<units::UnitGraph>>,
    mismatches: &mut Vec<Mismatch>,
    shell: &Shell,
) -> Result<()> {
    let changed = match (&cook.unit_graph, graph) {
        (Some(cooked), Some(Ok(graph))) => Some(units::predict(cooked, &graph)),
        (_, Some(Err(err))) => {
            shell.verbose("Skipped", format!("the unit graph: {err:#}"));
            None
        }
        _ => None,
    };
    let Some(changed) = changed else {
        for m in mismatches.iter_mut() {
            if GRAPH_KINDS.contains(&m.what.as_str()) {
                m.certain = false;
            }
        }
        return Ok(());
    };
    if changed.is_empty() {
        mismatches.retain(|m| !GRAPH_KINDS.contains(&m.what.as_str()));
        return Ok(());
    }
    // A package an earlier build compiled units of may be fresh: "will" names only the others.
    let built_later = built_after_cook(cook, &ctx.build_dir()?)?;
    let sure: Vec<&String> = changed
        .iter()
        .filter(|pkg| !built_later.contains(pkg.split(' ').next().unwrap_or(pkg)))
        .collect();
    let certain = !sure.is_empty();
    let shown: Vec<&String> = if certain {
        sure
    } else {
        changed.iter().collect()
    };
    let named: Vec<String> = shown.iter().map(|p| format!("`{p}`")).collect();
    let named = named.join(", ");
    let mut explained = false;
    for m in mismatches.iter_mut() {
        if GRAPH_KINDS.contains(&m.what.as_str()) {
            m.message = format!("{named} ({})", m.message);
            m.certain = certain;
            explained = true;
        }
    }
    if !explained {
        mismatches.push(Mismatch {
            what: "units".to_string(),
            message: format!(
                "{named}: cargo plans units of them that cook did not build (their profile, \
                 features or target settings differ from cook's)"
            ),
            certain,
        });
    }
    Ok(())
}

/// Names of the packages with unit directories in the target dir that cook did not leave.
fn built_after_cook(cook: &Record, units_dir: &Path) -> Result<BTreeSet<String>> {
    let Some(cooked) = &cook.units else {
        return Ok(BTreeSet::new());
    };
    Ok(units::target_units(units_dir)?
        .into_iter()
        .filter(|(key, hashes)| cooked.get(key) != Some(hashes))
        .filter_map(|(key, _)| units::unit_name(&key).map(|(name, _)| name.to_string()))
        .collect())
}

/// The unit hash of an artifact path (`deps/libitoa-<hash>.rlib`, `build/x-<hash>/...`).
pub fn unit_hash(path: &Path) -> Option<String> {
    crate::seed::unit_of(path).map(|(_, hash)| hash)
}

/// Adds to `findings` every external unit in the target dir that cook did not leave there
/// (compiled after cook, by this build or an earlier one) and every stub artifact there.
pub fn judge_target_dir(cook: &Record, ctx: &BuildContext, findings: &mut Findings) -> Result<()> {
    let ws = ctx.workspace()?;
    let target_dir = &ws.target_directory;
    let units_dir = ctx.build_dir()?;
    if let Some(cooked) = &cook.units {
        let external = ctx.external_packages()?;
        for (key, hashes) in units::target_units(&units_dir)? {
            if cooked.get(&key) == Some(&hashes) {
                continue;
            }
            let Some((name, hash)) = units::unit_name(&key) else {
                continue;
            };
            let id = findings.unit_packages.get(hash);
            let is_external = match id {
                Some(id) => !units::is_local(id),
                None => external.contains(name) && !ws.members.iter().any(|m| m == name),
            };
            if !is_external {
                continue;
            }
            let pkg = id.map_or_else(|| name.to_string(), |id| package_desc(id));
            if findings.recompiled.contains_key(&pkg) {
                continue; // this build compiled it: cargo's own reason is already there
            }
            let why = if cooked.contains_key(&key) {
                "compiled again after cook, with other inputs"
            } else {
                "compiled after cook, by a build whose settings differ from cook's (cook built \
                 no such unit)"
            };
            findings
                .recompiled
                .insert(pkg, format!("{why}: `{}`", units_dir.join(&key).display()));
        }
    }
    for stub in stub_artifacts(target_dir, &units_dir)? {
        if !findings.stubs.contains(&stub) {
            findings.stubs.push(stub);
        }
    }
    Ok(())
}

/// Artifacts in the target dir (and the build dir, if one is configured) whose dep-info names a
/// stub source: `X: .../.cargo-prebuild-stub/...` lines of the `.d` files cargo writes beside
/// them.
fn stub_artifacts(target_dir: &Path, units_dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let needle = format!("/{STUB_DIR}/");
    let mut found = Vec::new();
    // Profile directories are found by their `.fingerprint`, which a build dir moves out of
    // the target dir: the target dir's uplifted artifacts sit at the same relative paths.
    let mut profiles = Vec::new();
    for profile in crate::clean::profile_dirs(units_dir)? {
        if let Ok(rel) = profile.strip_prefix(units_dir) {
            profiles.push(target_dir.join(rel));
        }
        profiles.push(profile);
    }
    profiles.sort();
    profiles.dedup();
    for profile in profiles {
        for dir in [
            profile.clone(),
            profile.join("deps"),
            profile.join("examples"),
        ] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_none_or(|e| e != "d") {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                for line in text.lines() {
                    let Some((artifact, sources)) = line.split_once(": ") else {
                        continue;
                    };
                    let artifact = std::path::PathBuf::from(artifact);
                    let is_d = artifact.extension().is_some_and(|e| e == "d");
                    if sources.contains(&needle)
                        && !is_d
                        && artifact.is_file()
                        && !found.contains(&artifact)
                    {
                        found.push(artifact);
                    }
                }
            }
        }
    }
    found.sort();
    Ok(found)
}
