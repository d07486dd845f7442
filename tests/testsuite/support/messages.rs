//! cargo's `--message-format json` output as the tests read it: the artifacts a build
//! reported, which were compiled and which fresh, and the guarantee after cook checked on them.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;
use std::process::Output;

use cargo_prebuild::cargo::Message;
use cargo_prebuild::skeleton::stubs::MARKER;
use cargo_prebuild::units::is_local;

use super::{contains, OutputExt};

#[derive(Clone, Debug)]
pub struct Artifact {
    pub package_id: String,
    /// Package name (parsed from the package id spec).
    pub package: String,
    pub local: bool,
    pub target_name: String,
    pub kind: String,
    pub test: bool,
    pub fresh: bool,
    pub executable: Option<PathBuf>,
}

impl Artifact {
    /// `bin:app`, `example:demo`, `test:it`, `bench:b`, `lib-test:core`, `bin-test:app`.
    pub fn key(&self) -> String {
        match self.kind.as_str() {
            "test" | "bench" | "example" => format!("{}:{}", self.kind, self.target_name),
            kind if self.test => format!("{kind}-test:{}", self.target_name),
            kind => format!("{kind}:{}", self.target_name),
        }
    }
}

/// cargo's JSON messages in `text`, read by the product's own message type; every line that
/// looks like one must be one.
fn messages(text: &str) -> Vec<Message> {
    text.lines()
        .filter(|l| l.starts_with('{'))
        .map(|line| Message::parse(line).unwrap_or_else(|| panic!("bad JSON message {line}")))
        .collect()
}

/// Package name from a package id spec: `registry+...#itoa@1.0.11` -> `itoa`,
/// `path+file:///x/foo#0.1.0` -> `foo`, `path+file:///x/dir#bar@0.1.0` -> `bar`.
pub fn package_name(id: &str) -> String {
    let (url, frag) = id.rsplit_once('#').unwrap_or((id, ""));
    match frag.split_once('@') {
        Some((name, _)) => name.to_string(),
        None => url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(url)
            .to_string(),
    }
}

/// Package names of a set of package ids.
pub fn package_names(ids: &BTreeSet<String>) -> BTreeSet<String> {
    ids.iter().map(|id| package_name(id)).collect()
}

/// The guarantee after cook, from the real build's JSON: no external package compiled, no
/// local unit reused from the cook (unless its real sources are in the skeleton), and exactly
/// the `local` packages compiled.
pub fn assert_exact_rebuild(
    out: &Output,
    report: &BuildReport,
    what: &str,
    real_in_skeleton: &BTreeSet<String>,
    local: &BTreeSet<String>,
) {
    let external = report.external_compiled();
    assert!(
        external.is_empty(),
        "{what}: external packages were recompiled after cook: {external:#?}\n--- stderr\n{}",
        out.stderr_str()
    );
    assert!(
        !report.external_fresh().is_empty() || report.artifacts.iter().all(|a| a.local),
        "{what}: no external artifacts at all?"
    );
    let fresh_local: Vec<String> = report
        .artifacts
        .iter()
        .filter(|a| a.local && a.fresh && !real_in_skeleton.contains(&a.package))
        .map(|a| format!("{} ({})", a.package, a.key()))
        .collect();
    assert!(
        fresh_local.is_empty(),
        "{what}: local units were taken from the cook (stubs would ship): {fresh_local:#?}"
    );
    let mut compiled = report.local_compiled();
    compiled.retain(|name| !real_in_skeleton.contains(name));
    assert_eq!(&compiled, local, "{what}: local packages compiled");
}

#[derive(Clone, Debug, Default)]
pub struct BuildReport {
    pub artifacts: Vec<Artifact>,
}

impl BuildReport {
    pub fn parse(stdout: &[u8]) -> Self {
        let text = String::from_utf8_lossy(stdout);
        let mut artifacts = Vec::new();
        for msg in messages(&text) {
            if msg.reason != "compiler-artifact" {
                continue;
            }
            let target = msg.target.expect("an artifact message names its target");
            let package_id = msg.package_id;
            artifacts.push(Artifact {
                package: package_name(&package_id),
                local: is_local(&package_id),
                target_name: target.name,
                kind: target.kind.first().cloned().unwrap_or_default(),
                test: msg.profile.is_some_and(|p| p.test),
                fresh: msg.fresh,
                executable: msg.executable,
                package_id,
            });
        }
        BuildReport { artifacts }
    }

    /// Package ids of external (registry, git) packages that were compiled, not fresh.
    pub fn external_compiled(&self) -> BTreeSet<String> {
        self.artifacts
            .iter()
            .filter(|a| !a.local && !a.fresh)
            .map(|a| a.package_id.clone())
            .collect()
    }

    pub fn external_fresh(&self) -> BTreeSet<String> {
        self.artifacts
            .iter()
            .filter(|a| !a.local && a.fresh)
            .map(|a| a.package_id.clone())
            .collect()
    }

    /// Names of local packages with at least one unit compiled.
    pub fn local_compiled(&self) -> BTreeSet<String> {
        self.artifacts
            .iter()
            .filter(|a| a.local && !a.fresh)
            .map(|a| a.package.clone())
            .collect()
    }

    /// Local units cargo considered fresh: after a cook (which only ever saw stubs) every one
    /// of these is a stub artifact about to ship.
    pub fn local_fresh(&self) -> Vec<String> {
        self.artifacts
            .iter()
            .filter(|a| a.local && a.fresh)
            .map(|a| format!("{} ({})", a.package, a.key()))
            .collect()
    }

    pub fn executables(&self) -> BTreeMap<String, PathBuf> {
        self.artifacts
            .iter()
            .filter_map(|a| a.executable.clone().map(|e| (a.key(), e)))
            .collect()
    }
}

/// `(package_id, filename)` of every artifact file in cargo's JSON messages.
pub fn artifact_files(output: &Output) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    for msg in messages(&output.stdout_str()) {
        if msg.reason != "compiler-artifact" {
            continue;
        }
        for f in msg.filenames {
            files.push((msg.package_id.clone(), f));
        }
    }
    files
}

/// Every local artifact file a build reports (rlibs, cdylibs, staticlibs, executables) is free
/// of the marker compiled into every stub.
pub fn assert_no_stub_in_outputs(output: &Output, what: &str) {
    for (id, file) in artifact_files(output) {
        if !is_local(&id) {
            continue;
        }
        let bytes = fs::read(&file).unwrap();
        assert!(
            !contains(&bytes, MARKER.as_bytes()),
            "{what}: {} (of {id}) is a stub artifact",
            file.display()
        );
    }
}
