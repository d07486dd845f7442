//! Other cargo commands cooked on the same skeleton (`--command check|clippy|test|doc|zigbuild`
//! and cargo-chef's spellings), `--fetch-only`, and `--locked`.

use std::fs;

use walkdir::WalkDir;

use crate::support::*;

#[test]
fn cook_check() {
    let p = dev_targets();
    e2e(&p)
        .command("check")
        .policies(&FAST_POLICIES)
        .local(&["devlib"])
        .no_executables()
        .run();
}

#[test]
fn cook_clippy() {
    let p = dev_targets();
    e2e(&p)
        .command("clippy")
        .policies(&FAST_POLICIES)
        .local(&["devlib"])
        .no_executables()
        .run();
}

#[test]
fn cook_doc() {
    let p = dev_targets();
    e2e(&p)
        .command("doc")
        .policies(&FAST_POLICIES)
        .local(&["devlib"])
        .no_executables()
        .run();
}

/// `cook --command test` then `cargo test --no-run`: the real test binaries run real tests.
#[test]
fn cook_test_no_run() {
    let p = dev_targets();
    e2e(&p)
        .command("test")
        .policies(&FAST_POLICIES)
        .local(&["devlib"])
        .with(dev_targets_tested)
        .with(dev_targets_examples)
        .run();
}

/// A download-only layer: with its own CARGO_HOME, `--fetch-only` downloads everything the
/// real build needs (which then works `--offline`) and compiles nothing.
#[test]
fn cook_fetch_only() {
    let p = dev_targets();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let home = p.sandbox().join("cargo-home");
    fs::create_dir_all(&home).unwrap();
    let builder = p.sandbox().join("builder");
    fs::create_dir_all(&builder).unwrap();

    let mut cook = prebuild_cmd(&builder);
    cook.env("CARGO_HOME", &home)
        .arg("cook")
        .arg("--skeleton")
        .arg(&skel)
        .arg("--fetch-only");
    run(&mut cook).assert_ok("cook --fetch-only");
    let left = top_level(&builder);
    assert!(
        left.iter().all(|e| e == "target"),
        "fetch-only left laid-out files: {left:?}"
    );
    let compiled: Vec<_> = WalkDir::new(&builder)
        .into_iter()
        .map(|e| e.unwrap().path().to_path_buf())
        .filter(|p| p.extension().is_some_and(|x| x == "rlib" || x == "rmeta"))
        .collect();
    assert!(compiled.is_empty(), "fetch-only compiled: {compiled:?}");

    copy_tree(p.root(), &builder, MtimePolicy::PreserveOlder, &[]);
    let mut build = cargo_cmd(&builder);
    build
        .env("CARGO_HOME", &home)
        .args(["build", "--all-targets", "--offline", "--locked"]);
    run(&mut build).assert_ok("offline build after fetch-only");
}

/// `cook --locked` works wherever `cargo build --locked` works on the real tree: here a local
/// crate shares its name with a registry crate another member depends on.
#[test]
fn cook_locked_with_local_crate_named_like_a_registry_crate() {
    let p = local_itoa_beside_registry_itoa();
    p.cargo(&["build", "--locked", "--offline"])
        .assert_ok("the real tree builds --locked");
    rm_rf(&p.path("target"));
    e2e(&p)
        .flags(&["--locked"])
        .policies(&FAST_POLICIES)
        .local(&["app", "itoa"])
        .bin("app", "local itoa and 1")
        .run();
}

/// `--message-format json` and `-q` reach cargo: JSON on stdout, no statuses on stderr.
#[test]
fn cook_forwards_message_format_and_quiet() {
    let p = project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"fmt\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"1\"\n",
        )
        .file("src/main.rs", "fn main() {}\n")
        .build();
    let (skel, builder) = p.skeleton_and_builder();
    let mut cook = prebuild_cmd(&builder);
    cook.arg("cook")
        .arg("--skeleton")
        .arg(&skel)
        .args(["-q", "--message-format", "json"]);
    let out = run(&mut cook);
    out.assert_ok("cook -q --message-format json");
    let report = BuildReport::parse(&out.stdout);
    assert!(
        report
            .artifacts
            .iter()
            .any(|a| a.package == "itoa" && !a.local),
        "no JSON artifact for itoa on stdout\n{}",
        out.describe()
    );
    let stderr = out.stderr_str();
    assert!(
        !stderr.contains("Compiling") && !stderr.contains("Cooking"),
        "-q did not silence statuses\n{}",
        out.describe()
    );
}

/// `cargo zigbuild` (cargo-zigbuild, zig as linker and C compiler; `.ci/run` installs it from
/// PyPI) changes every fingerprint: a plain cook would be rebuilt whole. Cooked with
/// `--command zigbuild`, the real `cargo zigbuild` compiles only the local crate.
#[test]
fn zigbuild_cook() {
    if !have_tools(&["cargo-zigbuild"], "pip install cargo-zigbuild") {
        return;
    }
    let host = host_triple();
    let p = project()
        .file("Cargo.toml", "[package]\nname = \"zigged\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"1\"\n")
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"zigged {}\", itoa::Buffer::new().format(9));\n}\n",
        )
        .build();
    e2e(&p)
        .command("zigbuild")
        .flags(&["--release", "--target", &host])
        .local(&["zigged"])
        .bin("zigged", "zigged 9")
        .run();
}

/// `--check`, `--clippy` and `--zigbuild` are cargo-chef's spellings of `--command`.
#[test]
fn cargo_chef_command_spellings() {
    let p = project()
        .file("Cargo.toml", "[package]\nname = \"spelled\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"1\"\n")
        .file("src/main.rs", "fn main() {}\n")
        .build();
    let (skel, builder) = p.skeleton_and_builder();
    let out = prebuild(
        &builder,
        [
            "cook".as_ref(),
            "--check".as_ref(),
            "-v".as_ref(),
            "--skeleton".as_ref(),
            skel.as_os_str(),
        ],
    );
    out.assert_ok("cook --check");
    assert!(
        out.stderr_str().contains("Running `cargo check"),
        "{}",
        out.describe()
    );
    let out = prebuild(
        &builder,
        [
            "cook".as_ref(),
            "--clippy".as_ref(),
            "--command".as_ref(),
            "build".as_ref(),
            "--skeleton".as_ref(),
            skel.as_os_str(),
        ],
    );
    out.assert_code(2, "cook --clippy --command build");
}
