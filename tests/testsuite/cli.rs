//! The command-line contract: prepare's output and skeleton layout, dry run, replacing and
//! refusing directories, invocation forms, and exit codes.

use std::fs;
use std::path::Path;

use crate::support::*;

fn small() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"a\", \"b\", \"c\"]\nresolver = \"2\"\n",
        )
        .file("a/Cargo.toml", "[package]\nname = \"a\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"1\"\n")
        .file("a/src/main.rs", "fn main() {\n    println!(\"a {}\", itoa::Buffer::new().format(1));\n}\n")
        .file("b/Cargo.toml", "[package]\nname = \"b\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ncfg-if = \"1\"\n")
        .file("b/src/lib.rs", "pub fn b() {}\n")
        .file("c/Cargo.toml", "[package]\nname = \"c\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\neither = \"1\"\n")
        .file("c/src/lib.rs", "pub fn c() {}\n")
        .build()
}

#[test]
fn prepare_prints_digest_and_writes_index_and_tree() {
    let p = small();
    let before = listing(p.root());
    let skel = p.sandbox().join("skel");
    let out = prebuild(
        p.root(),
        ["prepare".as_ref(), "--skeleton".as_ref(), skel.as_os_str()],
    );
    out.assert_ok("prepare");
    parse_digest(&out.stdout_str());
    assert!(
        out.stderr_str().contains("Preparing"),
        "no `Preparing` status\n{}",
        out.describe()
    );

    let entries = top_level(&skel);
    assert_eq!(
        entries,
        ["cargo-prebuild.json".to_string(), TREE_ARCHIVE.to_string()].into()
    );
    let index = fs::read_to_string(skel.join("cargo-prebuild.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&index).expect("index is JSON");
    let files = skeleton_files(&skel);
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "a/Cargo.toml",
        "b/Cargo.toml",
        "c/Cargo.toml",
    ] {
        assert!(files.contains(file), "{file} missing from {TREE_ARCHIVE}");
    }
    assert_same_tree(&before, &listing(p.root()), "workspace after prepare");
}

#[test]
fn prepare_quiet_prints_only_the_digest() {
    let p = small();
    let skel = p.sandbox().join("skel");
    let out = prebuild(
        p.root(),
        [
            "prepare".as_ref(),
            "-q".as_ref(),
            "--skeleton".as_ref(),
            skel.as_os_str(),
        ],
    );
    out.assert_ok("prepare -q");
    parse_digest(&out.stdout_str());
    assert_eq!(out.stderr_str(), "", "-q must silence stderr");
}

#[test]
fn prepare_dry_run_lists_files_and_digest_and_writes_nothing() {
    let p = small();
    let real = p.sandbox().join("skel");
    let digest = p.prepare(&real);
    let dry = p.sandbox().join("dry");
    let out = prebuild(
        p.root(),
        [
            "prepare".as_ref(),
            "--dry-run".as_ref(),
            "--skeleton".as_ref(),
            dry.as_os_str(),
        ],
    );
    out.assert_ok("prepare --dry-run");
    assert!(!dry.exists(), "--dry-run created {}", dry.display());
    let stdout = out.stdout_str();
    assert!(
        stdout.lines().any(|l| l.contains(&digest)),
        "dry run digest differs from {digest}\n{stdout}"
    );
    for file in skeleton_files(&real) {
        assert!(
            stdout.contains(&file),
            "dry run does not list {file}\n{stdout}"
        );
    }
}

#[test]
fn prepare_replaces_an_earlier_skeleton_wholly() {
    let p = small();
    let skel = p.sandbox().join("skel");
    let first = p.prepare(&skel);
    // Drop member c: its files must disappear from the replaced skeleton.
    p.edit("Cargo.toml", ", \"c\"", "");
    fs::remove_dir_all(p.path("c")).unwrap();
    p.cargo(&["update", "-w", "--offline"])
        .assert_ok("cargo update");
    let second = p.prepare(&skel);
    assert_ne!(first, second);
    let fresh = p.sandbox().join("fresh");
    assert_eq!(p.prepare(&fresh), second);
    assert_same_tree(
        &listing(&fresh),
        &listing(&skel),
        "replaced skeleton vs a fresh one",
    );
}

#[test]
fn prepare_accepts_an_empty_existing_directory() {
    let p = small();
    let skel = p.sandbox().join("skel");
    fs::create_dir_all(&skel).unwrap();
    p.prepare(&skel);
    assert!(skel.join("cargo-prebuild.json").is_file());
}

#[test]
fn prepare_refuses_a_directory_that_is_not_a_skeleton() {
    let p = small();
    let dir = p.sandbox().join("precious");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("keep.txt"), "do not delete\n").unwrap();
    let before = listing(&dir);
    let out = prebuild(
        p.root(),
        ["prepare".as_ref(), "--skeleton".as_ref(), dir.as_os_str()],
    );
    out.assert_code(101, "prepare into a foreign directory");
    assert!(out.stderr_str().contains("error:"), "{}", out.describe());
    assert_same_tree(
        &before,
        &listing(&dir),
        "foreign directory after a refused prepare",
    );
}

#[test]
fn prepare_with_manifest_path_from_elsewhere() {
    let p = small();
    let digest = p.prepare(&p.sandbox().join("skel"));
    let manifest = p.path("Cargo.toml");
    let skel = p.sandbox().join("skel2");
    let out = prebuild(
        p.sandbox(),
        [
            "prepare".as_ref(),
            "--manifest-path".as_ref(),
            manifest.as_os_str(),
            "--skeleton".as_ref(),
            skel.as_os_str(),
        ],
    );
    out.assert_ok("prepare --manifest-path");
    assert_eq!(parse_digest(&out.stdout_str()), digest);
    assert_same_tree(
        &listing(&p.sandbox().join("skel")),
        &listing(&skel),
        "--manifest-path vs cwd",
    );
}

#[test]
fn invoked_without_the_prebuild_word() {
    let p = small();
    let digest = p.prepare(&p.sandbox().join("skel"));
    let skel = p.sandbox().join("skel2");
    let mut cmd = std::process::Command::new(bin_path());
    scrub(&mut cmd);
    cmd.current_dir(p.root())
        .args(["prepare".as_ref(), "--skeleton".as_ref(), skel.as_os_str()]);
    let out = run(&mut cmd);
    out.assert_ok("cargo-prebuild prepare");
    assert_eq!(parse_digest(&out.stdout_str()), digest);
}

#[test]
fn prepare_works_offline_with_a_lockfile() {
    let p = small();
    let digest = p.prepare(&p.sandbox().join("skel"));
    let skel = p.sandbox().join("skel-offline");
    let mut cmd = prebuild_cmd(p.root());
    cmd.env("CARGO_NET_OFFLINE", "true")
        .arg("prepare")
        .arg("--skeleton")
        .arg(&skel);
    let out = run(&mut cmd);
    out.assert_ok("prepare with CARGO_NET_OFFLINE=true");
    assert_eq!(parse_digest(&out.stdout_str()), digest);
}

/// A Docker planner stage: offline, and an empty CARGO_HOME (no index, no sources, no
/// credentials). The lockfile alone must be enough.
#[test]
fn prepare_works_offline_with_an_empty_cargo_home() {
    let p = small();
    let digest = p.prepare(&p.sandbox().join("skel"));
    let home = p.sandbox().join("empty-cargo-home");
    fs::create_dir_all(&home).unwrap();
    let skel = p.sandbox().join("skel-empty-home");
    let mut cmd = prebuild_cmd(p.root());
    cmd.env("CARGO_NET_OFFLINE", "true")
        .env("CARGO_HOME", &home)
        .arg("prepare")
        .arg("--skeleton")
        .arg(&skel);
    let out = run(&mut cmd);
    out.assert_ok("prepare offline with an empty CARGO_HOME");
    assert_eq!(parse_digest(&out.stdout_str()), digest);
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["frobnicate"][..],
        &["cook", "--skeleton", "x", "--no-such-flag"][..],
        &["prepare", "--skeleton"][..],
        &["cook", "--command", "launch-rockets", "--skeleton", "x"][..],
    ] {
        let out = prebuild(dir.path(), args);
        out.assert_code(2, &format!("usage error {args:?}"));
        assert_eq!(
            top_level(dir.path()).len(),
            0,
            "usage error {args:?} wrote files"
        );
    }
}

#[test]
fn missing_skeleton_exits_101() {
    let dir = tempfile::tempdir().unwrap();
    let builder = dir.path().join("builder");
    fs::create_dir_all(&builder).unwrap();
    let out = prebuild(
        &builder,
        [
            "cook",
            "--skeleton",
            dir.path().join("nope").to_str().unwrap(),
        ],
    );
    out.assert_code(101, "cook with a missing skeleton");
    assert!(out.stderr_str().contains("error:"), "{}", out.describe());
    assert!(
        top_level(&builder).is_empty(),
        "cook wrote into the builder"
    );
}

#[test]
fn prepare_outside_a_workspace_exits_101() {
    let dir = tempfile::tempdir().unwrap();
    let out = prebuild(dir.path(), ["prepare", "--skeleton", "skel"]);
    out.assert_code(101, "prepare outside a workspace");
    assert!(out.stderr_str().contains("error:"), "{}", out.describe());
    assert!(!dir.path().join("skel").exists());
}

/// The exit code of `cargo build <args>` run directly on the same skeleton.
fn cargos_own_code(p: &Project, skel: &Path, args: &[&str]) -> i32 {
    let tree = p.sandbox().join("direct");
    extract_tree(skel, &tree);
    // cook's `--` separates cargo's own arguments; run directly they come without it.
    let direct: Vec<&str> = args.iter().copied().filter(|a| *a != "--").collect();
    let out = cargo(&tree, ["build"].iter().chain(&direct));
    assert!(
        !out.status.success(),
        "`cargo build {args:?}` should fail\n{}",
        out.describe()
    );
    let code = out.status.code().unwrap();
    rm_rf(&tree);
    code
}

fn assert_failing_build_passes_code_through(args: &[&str]) {
    let p = small();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let expected = cargos_own_code(&p, &skel, args);
    let builder = p.sandbox().join("builder");
    fs::create_dir_all(&builder).unwrap();
    let mut cmd = prebuild_cmd(&builder);
    cmd.arg("cook").arg("--skeleton").arg(&skel).args(args);
    let out = run(&mut cmd);
    out.assert_code(expected, &format!("cook {args:?} (cargo's own code)"));
    let left = top_level(&builder);
    assert!(
        left.iter().all(|e| e == "target"),
        "a failed cook left laid-out files behind: {left:?}"
    );
}

/// rustc itself fails (an unknown rustc flag in the config): cook exits with cargo's code.
#[test]
fn failing_build_exits_with_cargos_code() {
    assert_failing_build_passes_code_through(&[
        "--config",
        "build.rustflags=[\"--no-such-rustc-flag\"]",
    ]);
}

/// An argument after `--` that cargo rejects: cargo's own usage code comes back.
#[test]
fn cargo_rejecting_passthrough_args_exits_with_cargos_code() {
    assert_failing_build_passes_code_through(&["--", "--no-such-cargo-flag"]);
}
