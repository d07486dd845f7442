//! `Cargo.lock` for the skeleton: local package versions masked to `0.0.0` (the skeleton's
//! manifests carry no version), every reference to them rewritten, and the whole file
//! re-encoded exactly as cargo encodes it, so `cargo build --locked` accepts it unchanged.
//! This module owns the model and what is done to it (masking, repairing stale member
//! edges, upgrading old formats); reading cargo's text is `parse`'s, writing it `encode`'s.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};

mod encode;
mod parse;

use parse::{parse, split_id};

pub const MASKED_VERSION: &str = "0.0.0";

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    dependencies: Option<Vec<usize>>,
    replace: Option<usize>,
}

#[derive(Debug)]
struct Lockfile {
    header_comments: Vec<String>,
    version: Option<i64>,
    entries: Vec<Entry>,
    unused_patches: Vec<Entry>,
    /// Lockfile format v1 keeps checksums here and always writes full package ids.
    metadata: Option<toml_edit::Table>,
}

/// A locked package as people name it: `(name, version, source)`; local packages have no
/// source.
pub type LockedPackage = (String, String, Option<String>);

/// Every package a lockfile pins, with the packages each depends on.
pub fn packages(text: &str, path: &Path) -> Result<Vec<(LockedPackage, Vec<String>)>> {
    let lock =
        parse(text).with_context(|| format!("failed to parse lockfile `{}`", path.display()))?;
    Ok(lock
        .entries
        .iter()
        .map(|e| {
            let deps = e
                .dependencies
                .iter()
                .flatten()
                .map(|&d| lock.entries[d].name.clone())
                .collect();
            ((e.name.clone(), e.version.clone(), e.source.clone()), deps)
        })
        .collect())
}

/// Names of the non-local (registry, git) packages a lockfile pins.
pub fn external_names(text: &str, path: &Path) -> Result<BTreeSet<String>> {
    Ok(packages(text, path)?
        .into_iter()
        .filter(|((_, _, source), _)| source.is_some())
        .map(|((name, _, _), _)| name)
        .collect())
}

/// Rewrites `text` (a `Cargo.lock`) with every local package not named in `keep` masked.
///
/// `members` maps each workspace member to the package names it declares as dependencies:
/// cargo resolves members with all features, so the lockfile lists an edge for each, and a
/// lockfile whose edge went stale (hand-edited, or a merge) is repaired as cargo repairs it.
pub fn mask(
    text: &str,
    path: &Path,
    keep: &BTreeSet<String>,
    members: &std::collections::BTreeMap<String, BTreeSet<String>>,
) -> Result<String> {
    let mut lock =
        parse(text).with_context(|| format!("failed to parse lockfile `{}`", path.display()))?;
    lock.repair_member_edges(members);
    for entry in &mut lock.entries {
        if entry.source.is_none() && !keep.contains(&entry.name) {
            entry.version = MASKED_VERSION.to_string();
        }
    }
    lock.upgrade_to_v3();
    Ok(lock.encode())
}

impl Lockfile {
    fn repair_member_edges(
        &mut self,
        members: &std::collections::BTreeMap<String, BTreeSet<String>>,
    ) {
        for i in 0..self.entries.len() {
            let entry = &self.entries[i];
            let Some(declared) = members.get(&entry.name).filter(|_| entry.source.is_none()) else {
                continue;
            };
            let listed: BTreeSet<&str> = entry
                .dependencies
                .iter()
                .flatten()
                .map(|&d| self.entries[d].name.as_str())
                .collect();
            let missing: Vec<usize> = declared
                .iter()
                .filter(|name| !listed.contains(name.as_str()))
                .filter_map(|name| {
                    let mut same =
                        (0..self.entries.len()).filter(|&j| &self.entries[j].name == name);
                    match (same.next(), same.next()) {
                        (Some(only), None) => Some(only),
                        _ => None,
                    }
                })
                .collect();
            if !missing.is_empty() {
                self.entries[i]
                    .dependencies
                    .get_or_insert_with(Vec::new)
                    .extend(missing);
            }
        }
    }

    /// Formats v1 and v2 (no `version` key) become v3, which every cargo since 1.53 reads and
    /// keeps: a lockfile rewritten by a newer cargo in a newer format, with the same packages,
    /// then gives the same skeleton. v1's `[metadata]` checksums move into the entries.
    fn upgrade_to_v3(&mut self) {
        if self.version.is_some() {
            return;
        }
        if let Some(meta) = self.metadata.take() {
            for (key, value) in meta.iter() {
                let (Some(id), Some(sum)) = (key.strip_prefix("checksum "), value.as_str()) else {
                    continue;
                };
                let (name, version, source) = split_id(id);
                if let Some(e) = self.entries.iter_mut().find(|e| {
                    e.name == name
                        && version.is_none_or(|v| v == e.version)
                        && source.is_none_or(|s| e.source.as_deref() == Some(s))
                }) {
                    if sum != "<none>" {
                        e.checksum = Some(sum.to_string());
                    }
                }
            }
        }
        self.version = Some(3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `mask` with nothing kept and no member manifests.
    fn masked(text: &str) -> String {
        mask(
            text,
            Path::new("Cargo.lock"),
            &BTreeSet::new(),
            &Default::default(),
        )
        .unwrap()
    }

    const LOCK: &str = r#"# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 4

[[package]]
name = "app"
version = "2.1.0"
dependencies = [
 "itoa 1.0.11",
 "itoa 2.0.0",
]

[[package]]
name = "itoa"
version = "1.0.11"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4312a78e4cf2566695b"

[[package]]
name = "itoa"
version = "2.0.0"
dependencies = [
 "itoa 1.0.11",
]
"#;

    #[test]
    fn identity_when_nothing_is_local() {
        let text = LOCK
            .replace(
                "name = \"app\"\nversion = \"2.1.0\"",
                "name = \"app\"\nversion = \"0.0.0\"",
            )
            .replace(
                "version = \"2.0.0\"\ndependencies",
                "version = \"0.0.0\"\ndependencies",
            )
            .replace("\"itoa 2.0.0\"", "\"itoa 0.0.0\"");
        // Already masked: re-encoding must reproduce cargo's bytes exactly.
        let out = masked(&text);
        let expected = "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.0.0\"\ndependencies = [\n \"itoa 0.0.0\",\n \"itoa 1.0.11\",\n]\n\n[[package]]\nname = \"itoa\"\nversion = \"0.0.0\"\ndependencies = [\n \"itoa 1.0.11\",\n]\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.11\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4312a78e4cf2566695b\"\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn local_versions_and_their_references_are_masked() {
        let out = masked(LOCK);
        assert!(out.contains("name = \"app\"\nversion = \"0.0.0\"\n"));
        assert!(out.contains(" \"itoa 0.0.0\",\n \"itoa 1.0.11\",\n"));
        assert!(!out.contains("2.0.0"));
        assert!(!out.contains("2.1.0"));
    }

    #[test]
    fn stale_references_are_repaired_as_cargo_repairs_them() {
        let text = "version = 3\n\n[[package]]\nname = \"a\"\nversion = \"0.1.0\"\ndependencies = [\n \"aho-corasick 1.0.1\",\n \"globset 0.4.13 (git+https://x/r?branch=fd)\",\n]\n\n[[package]]\nname = \"aho-corasick\"\nversion = \"1.1.2\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"globset\"\nversion = \"0.4.13\"\nsource = \"git+https://x/r?branch=fd#43c6a110\"\n\n[[package]]\nname = \"globset\"\nversion = \"0.4.13\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        let out = masked(text);
        assert!(out.contains(" \"aho-corasick\",\n"), "{out}");
        assert!(
            out.contains(" \"globset 0.4.13 (git+https://x/r?branch=fd)\",\n"),
            "{out}"
        );
    }

    #[test]
    fn a_plain_reference_to_a_name_shared_with_the_registry_is_the_path_package() {
        let text = "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"foo 1.2.3\",\n \"reg\",\n]\n\n[[package]]\nname = \"foo\"\nversion = \"1.2.3\"\n\n[[package]]\nname = \"foo\"\nversion = \"1.2.3\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"ab\"\n\n[[package]]\nname = \"reg\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"cd\"\ndependencies = [\n \"foo 1.2.3 (registry+https://github.com/rust-lang/crates.io-index)\",\n]\n";
        let out = masked(text);
        assert!(
            out.contains("name = \"app\"\nversion = \"0.0.0\"\ndependencies = [\n \"foo 0.0.0\",\n \"reg\",\n]"),
            "{out}"
        );
        assert!(
            out.contains("dependencies = [\n \"foo 1.2.3\",\n]"),
            "{out}"
        );
    }

    #[test]
    fn duplicate_packages_are_rejected_like_cargo() {
        let text = "version = 3\n\n[[package]]\nname = \"nix\"\nversion = \"0.25.0\"\n\n[[package]]\nname = \"nix\"\nversion = \"0.25.0\"\n";
        let err = mask(
            text,
            Path::new("Cargo.lock"),
            &BTreeSet::new(),
            &Default::default(),
        )
        .err()
        .map(|e| format!("{e:#}"));
        assert!(err.is_some_and(|e| e.contains("specified twice")));
    }

    #[test]
    fn a_members_stale_edge_is_repaired_from_its_manifest() {
        let text = "[[package]]\nname = \"fd-find\"\nversion = \"8.1.1\"\ndependencies = [\n \"dirs 2.0.2 (registry+https://github.com/rust-lang/crates.io-index)\",\n]\n\n[[package]]\nname = \"dirs-next\"\nversion = \"1.0.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        let members = [(
            "fd-find".to_string(),
            BTreeSet::from(["dirs-next".to_string()]),
        )]
        .into();
        let out = mask(text, Path::new("Cargo.lock"), &BTreeSet::new(), &members).unwrap();
        assert!(
            out.contains(
                "name = \"fd-find\"\nversion = \"0.0.0\"\ndependencies = [\n \"dirs-next\",\n]"
            ),
            "{out}"
        );
    }
}
