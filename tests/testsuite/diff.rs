//! The skeleton digest `prepare` prints (the index's own) and `cargo prebuild diff`, which
//! names what changed between two skeletons (or a skeleton and a workspace) in words and JSON
//! and exits 1 when they differ.

use std::path::Path;
use std::process::Output;

use crate::support::*;

fn diff_base() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/api\", \"crates/core\"]\nresolver = \"2\"\n\n[profile.release]\nopt-level = 3\n",
        )
        .file(
            "crates/api/Cargo.toml",
            &pkg(
                "api",
                "core-x = { path = \"../core\", package = \"corex\" }\nsmallvec = \"1\"\n",
            ),
        )
        .file("crates/api/src/lib.rs", "pub fn api() {}\n")
        .file(
            "crates/core/Cargo.toml",
            &pkg("corex", "itoa = \"1\"\n"),
        )
        .file("crates/core/src/lib.rs", "pub fn core() {}\n")
        .build()
}

/// `diff OLD NEW`, asserting its exit status: 0 when the skeletons are the same, 1 when they
/// differ (as `diff` and `git diff --exit-code`).
fn diff(p: &Project, old: &Path, new: &Path, json: bool) -> Output {
    let mut cmd = prebuild_cmd(p.sandbox());
    cmd.arg("diff").arg(old).arg(new);
    if json {
        cmd.args(["--format", "json"]);
    }
    let out = run(&mut cmd);
    // A skeleton side must have a digest; only a workspace side has none.
    let digest = |dir: &Path| -> Option<String> {
        dir.join("cargo-prebuild.json").is_file().then(|| {
            let index = skeleton_index(dir);
            let digest = index["digest"].as_str();
            digest
                .unwrap_or_else(|| panic!("no digest in {index:#}"))
                .to_string()
        })
    };
    let same = match (digest(old), digest(new)) {
        (Some(a), Some(b)) => a == b,
        // A workspace side: judged by what diff printed.
        _ => out.stdout_str().contains("identical") || out.stdout_str().contains("\"same\":true"),
    };
    out.assert_code(if same { 0 } else { 1 }, "diff");
    out
}

fn diff_json(p: &Project, old: &Path, new: &Path) -> serde_json::Value {
    let out = diff(p, old, new, true);
    serde_json::from_str(out.stdout_str().trim()).unwrap_or_else(|e| {
        panic!(
            "diff --format json is not one JSON value: {e}\n{}",
            out.describe()
        )
    })
}

/// Prepares before and after `edit`; asserts the human diff names `phrase` and the JSON one
/// agrees (not the same, a change with that message, both digests).
fn assert_diff_names(what: &str, edit: impl FnOnce(&Project) -> String) {
    let p = diff_base();
    let (d0, s0) = p.prepare_as("before", &[]);
    let phrase = edit(&p);
    let (d1, s1) = p.prepare_as("after", &[]);
    assert_ne!(d0, d1, "{what}: skeleton unchanged");
    let human = diff(&p, &s0, &s1, false);
    assert!(
        human.stdout_str().contains(&phrase),
        "{what}: human diff does not say {phrase:?}\n{}",
        human.describe()
    );
    let json = diff_json(&p, &s0, &s1);
    assert_eq!(json["same"], false, "{what}: {json:#}");
    assert_eq!(json["old"], d0.as_str(), "{what}: {json:#}");
    assert_eq!(json["new"], d1.as_str(), "{what}: {json:#}");
    let changes = json["changes"].as_array().expect("changes is an array");
    assert!(
        changes
            .iter()
            .any(|c| c["message"].as_str().is_some_and(|m| m.contains(&phrase))),
        "{what}: no JSON change says {phrase:?}: {json:#}"
    );
    // A workspace directory on either side works like its skeleton.
    let from_ws = diff(&p, &s0, p.root(), false);
    assert!(
        from_ws.stdout_str().contains(&phrase),
        "{what}: skeleton -> workspace diff does not say {phrase:?}\n{}",
        from_ws.describe()
    );
}

#[test]
fn prepare_prints_the_digest_of_the_index() {
    let p = diff_base();
    for (name, args) in [("whole", &[][..]), ("api", &["-p", "api"][..])] {
        let (digest, skel) = p.prepare_as(name, args);
        let index = skeleton_index(&skel);
        assert_eq!(index["digest"], digest.as_str(), "{name}: {index:#}");
    }
}

#[test]
fn diff_of_identical_skeletons_and_of_a_skeleton_and_its_workspace() {
    let p = diff_base();
    let (d0, s0) = p.prepare_as("one", &[]);
    // Unrelated edits: a source file and a description.
    p.edit(
        "crates/api/src/lib.rs",
        "pub fn api() {}",
        "pub fn api() { let _ = 1; }",
    );
    p.edit(
        "crates/core/Cargo.toml",
        "edition = \"2021\"\n",
        "edition = \"2021\"\ndescription = \"core\"\n",
    );
    let (d1, s1) = p.prepare_as("two", &[]);
    assert_eq!(d0, d1);
    for (old, new) in [(&s0, &s1), (&s0, &p.root().to_path_buf())] {
        let human = diff(&p, old, new, false);
        let text = human.stdout_str();
        assert!(
            text.contains("identical") && text.contains(&d0),
            "identical skeletons not said so\n{}",
            human.describe()
        );
        let json = diff_json(&p, old, new);
        assert_eq!(json["same"], true, "{json:#}");
        assert_eq!(json["changes"], serde_json::json!([]), "{json:#}");
        assert_eq!(json["old"], d0.as_str());
        assert_eq!(json["new"], d0.as_str());
    }
}

#[test]
fn diff_names_a_lockfile_bump() {
    assert_diff_names("itoa bump", |p| {
        let old = locked_version(&p.read("Cargo.lock"), "itoa");
        let older = if old == "1.0.10" { "1.0.9" } else { "1.0.10" };
        p.cargo(&["update", "-p", "itoa", "--precise", older])
            .assert_ok("cargo update --precise");
        format!("itoa {old} -> {older}")
    });
}

#[test]
fn diff_names_an_added_dependency_feature() {
    assert_diff_names("feature added", |p| {
        p.edit(
            "crates/api/Cargo.toml",
            "smallvec = \"1\"",
            "smallvec = { version = \"1\", features = [\"union\"] }",
        );
        "feature `union` added to smallvec in crates/api".to_string()
    });
}

#[test]
fn diff_names_a_profile_change() {
    assert_diff_names("profile change", |p| {
        p.edit(
            "Cargo.toml",
            "opt-level = 3\n",
            "opt-level = 3\nlto = true\n",
        );
        "profile.release.lto".to_string()
    });
}

#[test]
fn diff_names_a_new_member() {
    assert_diff_names("new member", |p| {
        p.edit(
            "Cargo.toml",
            "\"crates/core\"]",
            "\"crates/core\", \"crates/extra\"]",
        );
        p.write("crates/extra/Cargo.toml", &pkg("extra", ""));
        p.write("crates/extra/src/lib.rs", "");
        p.generate_lockfile();
        "new package crates/extra".to_string()
    });
}

#[test]
fn diff_names_an_added_dependency() {
    assert_diff_names("dependency added", |p| {
        p.edit(
            "crates/core/Cargo.toml",
            "itoa = \"1\"\n",
            "itoa = \"1\"\neither = \"1\"\n",
        );
        p.generate_lockfile();
        "dependencies `either` added to crates/core".to_string()
    });
}

#[test]
fn diff_names_a_toolchain_file_and_a_config_file() {
    assert_diff_names("toolchain file added", |p| {
        p.write(
            "rust-toolchain.toml",
            "[toolchain]\nchannel = \"nightly\"\n",
        );
        "toolchain file `rust-toolchain.toml`".to_string()
    });
    assert_diff_names("config file added", |p| {
        p.write(
            ".cargo/config.toml",
            "[build]\nrustflags = [\"--cfg\", \"x\"]\n",
        );
        ".cargo/config.toml".to_string()
    });
}
