//! The lockfile through prepare and cook: local versions masked so a version bump changes
//! neither the skeleton nor what cook built (`cook --locked` and the real `--locked` build
//! agree), and a workspace without `Cargo.lock` resolved by cook the way the real build does.

use crate::support::*;

/// A local `itoa` member beside the registry `itoa` (renamed), so `Cargo.lock` refers to both in
/// the `"name version"` form. Bumping the local version changes neither the skeleton nor what
/// cook built: the bumped tree's `cargo build --locked` compiles nothing external.
/// (commands.rs covers `cook --locked` on the unbumped tree.)
#[test]
fn lockfile_exact_across_a_local_version_bump() {
    let p = local_itoa_beside_registry_itoa();
    let before = p.sandbox().join("skel-before");
    let digest_before = p.prepare(&before);

    p.edit("itoa/Cargo.toml", "0.5.0", "0.6.0");
    p.edit("app/Cargo.toml", "version = \"0.5\"", "version = \"0.6\"");
    p.cargo(&["metadata", "--format-version", "1", "--offline"])
        .assert_ok("relock after the bump");
    assert!(p.read("Cargo.lock").contains("0.6.0"));
    p.backdate();

    let out = e2e(&p)
        .flags(&["--locked"])
        .policies(&[MtimePolicy::PreserveOlder, MtimePolicy::Now])
        .local(&["app", "itoa"])
        .bin("app", "local itoa and 1")
        .run();
    let digest_after = out.prepare.stdout_str().trim().to_string();
    assert_eq!(
        digest_before, digest_after,
        "a local version bump changed the skeleton"
    );
    let lock = skeleton_file(&out.skeleton, "Cargo.lock");
    assert!(
        lock.contains("\"itoa 0.0.0\"") && lock.contains("\"itoa 1."),
        "the `name version` references are not rewritten consistently:\n{lock}"
    );
    assert!(!lock.contains("0.5.0") && !lock.contains("0.6.0"), "{lock}");
}

/// No `Cargo.lock`: prepare warns, cook resolves, the real build (resolving the same way)
/// compiles nothing external.
#[test]
fn no_lockfile_warns_and_cook_resolves() {
    let p = project()
        .file(
            "Cargo.toml",
            &pkg("unlocked", "itoa = \"1\"\ncfg-if = \"1\"\n"),
        )
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"unlocked {}\", itoa::Buffer::new().format(0));\n}\n",
        )
        .no_lockfile()
        .build();
    let out = e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder])
        // A `Cargo.lock` cargo wrote during cook is cargo's output, not a laid-out file.
        .outputs(&["Cargo.lock"])
        .local(&["unlocked"])
        .bin("unlocked", "unlocked 0")
        .run();
    let stderr = out.prepare.stderr_str();
    assert!(
        stderr.contains("warning:") && stderr.contains("Cargo.lock"),
        "prepare did not warn about the missing lockfile:\n{stderr}"
    );
    assert!(!skeleton_files(&out.skeleton).contains("Cargo.lock"));
}
