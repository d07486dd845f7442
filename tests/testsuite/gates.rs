//! The CI gates judged against the cook record: `verify` after a plain `cargo build` (the
//! Dockerfile line `RUN cargo build --release && cargo prebuild verify --release`), verify
//! without a record, and `build`'s prediction of which external packages compile anew.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::*;

/// `app` (default member; feature `x` adds `either` and a `smallvec` feature) and `other`
/// (a member with `smallvec/union`).
fn fixture() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\nmembers = [\"other\"]\n\n[features]\nx = [\"dep:either\", \"smallvec/const_generics\"]\n\n[dependencies]\nitoa = \"1\"\nsmallvec = \"1\"\neither = { version = \"1\", optional = true }\n",
        )
        .file(
            "src/main.rs",
            "fn main() {\n    let v: smallvec::SmallVec<[u32; 4]> = (1..=3).collect();\n    println!(\"app {}\", itoa::Buffer::new().format(v.iter().sum::<u32>()));\n}\n",
        )
        .file(
            "other/Cargo.toml",
            "[package]\nname = \"other\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsmallvec = { version = \"1\", features = [\"union\"] }\n",
        )
        .file("other/src/lib.rs", "pub fn other() -> usize {\n    smallvec::SmallVec::<[u8; 2]>::new().len()\n}\n")
        .build()
}

/// prepare, cook with `flags` in `<sandbox>/<name>/app`, then copy the real tree over it.
fn cooked(p: &Project, name: &str, flags: &[&str]) -> PathBuf {
    let (_, skel) = p.prepare_as(&format!("skel-{name}"), &[]);
    let (dir, _) = p.cook_in(&skel, name, flags);
    copy_tree(p.root(), &dir, MtimePolicy::PreserveOlder, &["target"]);
    dir
}

fn external_compiled(dir: &Path, args: &[&str]) -> BTreeSet<String> {
    let mut all = vec!["build", "--message-format", "json"];
    all.extend_from_slice(args);
    let out = cargo(dir, &all);
    out.assert_ok(&format!("cargo {all:?}"));
    package_names(&BuildReport::parse(&out.stdout).external_compiled())
}

/// A plain `cargo build` that recompiled external packages, then a separate `verify` whose own
/// build is a no-op: verify still names them (from the target dir against the cook record)
/// and fails; after a build that matched cook, it passes.
#[test]
fn verify_after_a_plain_cargo_build_judges_the_target_dir() {
    let p = fixture();
    let dir = cooked(&p, "mismatched", &["--release"]);
    let compiled = external_compiled(&dir, &["--release", "--features", "x"]);
    assert!(
        compiled.contains("either") && compiled.contains("smallvec"),
        "{compiled:?}"
    );
    let out = prebuild(&dir, ["verify", "--release", "--features", "x"]);
    out.assert_code(101, "verify after a build that recompiled dependencies");
    let stderr = out.stderr_str();
    for pkg in &compiled {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(&format!("`{pkg} v")) && l.contains("compiled after cook")),
            "verify does not name {pkg}\n{}",
            out.describe()
        );
    }
    assert!(!stderr.contains("Verified"), "{}", out.describe());

    let dir = cooked(&p, "matched", &["--release"]);
    assert!(external_compiled(&dir, &["--release"]).is_empty());
    let out = prebuild(&dir, ["verify", "--release"]);
    out.assert_ok("verify after a build that matched cook");
    assert!(out.stderr_str().contains("Verified"), "{}", out.describe());
}

/// With `build.build-dir` set, cargo keeps its units there, not in the target dir: cook records
/// them from there, and verify after a plain build that recompiled dependencies names them
/// (it found nothing and passed when it looked in the target dir only).
#[test]
fn verify_judges_the_build_dir_when_one_is_configured() {
    let p = fixture();
    let build_dir = p.sandbox().join("build-dir");
    let config = format!("build.build-dir={:?}", build_dir.to_str().unwrap());
    let dir = cooked(&p, "build-dir", &["--release", "--config", &config]);
    assert!(
        build_dir.join("release/.fingerprint").is_dir(),
        "cargo keeps its units in the build dir"
    );
    let compiled = external_compiled(&dir, &["--release", "--features", "x", "--config", &config]);
    assert!(compiled.contains("smallvec"), "{compiled:?}");
    let out = prebuild(
        &dir,
        [
            "verify",
            "--release",
            "--features",
            "x",
            "--config",
            &config,
        ],
    );
    out.assert_code(101, "verify after a build that recompiled dependencies");
    assert!(
        out.stderr_str()
            .lines()
            .any(|l| l.contains("`smallvec v") && l.contains("compiled after cook")),
        "{}",
        out.describe()
    );
}

/// A stub artifact left in the target dir (not part of this build's selection) is found.
#[test]
fn verify_finds_a_stub_artifact_anywhere_in_the_target_dir() {
    let p = fixture();
    let dir = cooked(&p, "stub", &[]);
    cargo(&dir, ["build", "-p", "app"]).assert_ok("real build");
    // A stub library of `other`, built from the skeleton into this target dir.
    let stub_ws = p.sandbox().join("stub-ws");
    extract_tree(&p.sandbox().join("skel-stub"), &stub_ws);
    let mut build = cargo_cmd(&stub_ws);
    build
        .args(["build", "-p", "other", "--target-dir"])
        .arg(dir.join("target"));
    run(&mut build).assert_ok("building the stub of other");
    let out = prebuild(&dir, ["verify", "-p", "app"]);
    out.assert_code(101, "verify with a stub artifact in the target dir");
    assert!(
        out.stderr_str()
            .lines()
            .any(|l| l.contains("libother-") && l.contains("stub artifact")),
        "{}",
        out.describe()
    );
}

/// No cook record: verify (and build --verify) is an error, never a pass.
#[test]
fn verify_without_a_cook_record_is_an_error() {
    let p = fixture();
    p.cargo(&["build"]).assert_ok("plain build");
    for args in [&["verify"][..], &["build", "--verify"]] {
        let out = prebuild(p.root(), args);
        out.assert_code(101, &format!("{args:?} without a cook record"));
        assert!(
            out.stderr_str().contains("error: no cook record"),
            "{}",
            out.describe()
        );
        assert!(!out.stderr_str().contains("Verified"), "{}", out.describe());
    }
}

fn recompile_warnings(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("warning: dependencies "))
        .map(str::to_string)
        .collect()
}

/// cook selected the whole workspace, the build selects `-p other`: `smallvec` has the same
/// features either way, so nothing recompiles and `build` says nothing (it used to warn that
/// dependencies will recompile).
#[test]
fn build_says_nothing_when_no_dependency_recompiles() {
    let p = fixture();
    let dir = cooked(&p, "same-units", &["--workspace"]);
    let out = prebuild(&dir, ["build", "-p", "other", "--deny-rebuild", "--verify"]);
    out.assert_ok("build -p other after cook --workspace");
    assert!(
        recompile_warnings(&out.stderr_str()).is_empty(),
        "{}",
        out.describe()
    );
}

/// cook selected the default member, the build selects `-p other`: `smallvec` gains `union`
/// and is the one package cargo compiles anew; the warning names exactly it.
#[test]
fn build_names_exactly_the_packages_that_recompile() {
    let p = fixture();
    let dir = cooked(&p, "baseline", &[]);
    let compiled = external_compiled(&dir, &["-p", "other"]);
    assert_eq!(compiled, BTreeSet::from(["smallvec".to_string()]));

    let dir = cooked(&p, "predicted", &[]);
    let out = prebuild(&dir, ["build", "-p", "other"]);
    out.assert_ok("build -p other");
    let warnings = recompile_warnings(&out.stderr_str());
    assert_eq!(warnings.len(), 1, "{}", out.describe());
    let named: BTreeSet<String> = warnings[0]
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.contains(" v"))
        .map(|s| s.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(named, compiled, "{}", out.describe());
    assert!(
        warnings[0].starts_with("warning: dependencies will recompile: `smallvec v"),
        "{warnings:?}"
    );

    // Built once, the units are there: a second such build compiles nothing, and the warning
    // no longer says "will".
    let out = prebuild(&dir, ["build", "-p", "other", "--message-format", "json"]);
    out.assert_ok("build -p other, again");
    assert!(BuildReport::parse(&out.stdout)
        .external_compiled()
        .is_empty());
    let warnings = recompile_warnings(&out.stderr_str());
    assert!(
        warnings
            .iter()
            .all(|w| w.starts_with("warning: dependencies may recompile: `smallvec v")),
        "{}",
        out.describe()
    );
}

/// A cargo that refuses `--unit-graph` (a wrapper standing in for one that drops the flag):
/// cook records no graph, and `build` falls back to naming the difference with "may".
#[test]
fn build_says_may_without_a_unit_graph() {
    let p = fixture();
    let wrapper = p.sandbox().join("cargo-without-unit-graph.sh");
    fs::write(
        &wrapper,
        "#!/bin/sh\ncase \" $* \" in\n  *\" --unit-graph \"*)\n    echo 'error: unexpected argument --unit-graph' >&2\n    exit 1;;\nesac\nexec \"$REAL_CARGO\" \"$@\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
    let real = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let dir = p.sandbox().join("no-graph/app");
    fs::create_dir_all(&dir).unwrap();
    let mut cook = prebuild_cmd(&dir);
    cook.env("CARGO", &wrapper)
        .env("REAL_CARGO", &real)
        .args(["cook", "--workspace", "--skeleton"])
        .arg(&skel);
    run(&mut cook).assert_ok("cook with a cargo refusing --unit-graph");
    let record = cook_record(&dir.join("target"));
    assert!(record["unit-graph"].is_null(), "{record:#}");
    copy_tree(p.root(), &dir, MtimePolicy::PreserveOlder, &["target"]);
    let mut build = prebuild_cmd(&dir);
    build
        .env("CARGO", &wrapper)
        .env("REAL_CARGO", &real)
        .args(["build", "-p", "other"]);
    let out = run(&mut build);
    out.assert_ok("build -p other");
    let warnings = recompile_warnings(&out.stderr_str());
    assert_eq!(warnings.len(), 1, "{}", out.describe());
    assert!(
        warnings[0].starts_with("warning: dependencies may recompile: cook selected `--workspace`"),
        "{warnings:?}"
    );
}
