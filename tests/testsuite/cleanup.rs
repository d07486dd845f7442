//! cook removes every stub artifact itself, by exact name, and nothing else: registry crates
//! named like a member survive, a `--target` layout is cleaned, and a configured `build-dir`
//! falls back to `cargo clean -p`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use walkdir::WalkDir;

use crate::support::*;

/// Local packages and lib crate names whose artifacts cook must remove.
const STUB_NAMES: &[&str] = &["demo-app", "demo_app", "demo_core", "cfg"];
/// Registry packages of the fixture, some named like a member (`cfg-if` next to `cfg`).
const REGISTRY: &[&str] = &["cfg-if", "itoa", "smallvec"];

/// A lib + bin member with a renamed lib, a build script with a build-dependency and
/// dev-dependencies, beside a member `cfg` that depends on `cfg-if`.
fn workspace() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"demo-app\", \"cfg\"]\nresolver = \"2\"\n",
        )
        .file(
            "demo-app/Cargo.toml",
            r#"[package]
name = "demo-app"
version = "0.1.0"
edition = "2021"

[lib]
name = "demo_core"

[dependencies]
cfg = { path = "../cfg" }
itoa = "1"

[build-dependencies]
itoa = "1"

[dev-dependencies]
smallvec = "1"
"#,
        )
        .file(
            "demo-app/build.rs",
            r#"fn main() {
    let mut buf = itoa::Buffer::new();
    println!("cargo:rustc-env=DEMO_BUILT={}", buf.format(7));
    println!("cargo:rerun-if-changed=build.rs");
}
"#,
        )
        .file(
            "demo-app/src/lib.rs",
            "pub fn describe() -> String {\n    format!(\"{} {}\", cfg::platform(), env!(\"DEMO_BUILT\"))\n}\n",
        )
        .file(
            "demo-app/src/main.rs",
            "fn main() {\n    println!(\"real demo on {}\", demo_core::describe());\n}\n",
        )
        .file(
            "cfg/Cargo.toml",
            "[package]\nname = \"cfg\"\nversion = \"0.2.0\"\nedition = \"2021\"\n\n[dependencies]\ncfg-if = \"1\"\n",
        )
        .file(
            "cfg/src/lib.rs",
            r#"pub fn platform() -> &'static str {
    cfg_if::cfg_if! {
        if #[cfg(unix)] {
            "unix"
        } else {
            "other"
        }
    }
}
"#,
        )
        .build()
}

const REAL_OUTPUT: &str = "real demo on unix 7";

/// prepare, then cook with `flags` (and `-v`) in a fresh builder; returns the builder and
/// cook's output.
fn cook(p: &Project, flags: &[&str]) -> (PathBuf, Output) {
    let (skel, builder) = p.skeleton_and_builder();
    let mut cmd = prebuild_cmd(&builder);
    cmd.arg("cook")
        .arg("--skeleton")
        .arg(&skel)
        .args(flags)
        .arg("-v");
    let out = run(&mut cmd);
    out.assert_ok(&format!("cook {flags:?}"));
    (builder, out)
}

fn assert_cleaned_directly(out: &Output) {
    let stderr = out.stderr_str();
    assert!(
        stderr.contains("without `cargo clean`") && !stderr.contains("Running `cargo clean"),
        "cook did not remove the stub artifacts itself\n{}",
        out.describe()
    );
}

/// Whether `name` belongs to `prefix` (the whole name, or `prefix` then `-`, `_` or `.`).
fn starts_with_name(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '_', '.']))
}

/// Name forms of a package or crate: `cfg-if`, `cfg_if`, `libcfg_if`.
fn forms(name: &str) -> [String; 3] {
    let krate = name.replace('-', "_");
    [name.to_string(), krate.clone(), format!("lib{krate}")]
}

/// Paths under `dir` whose name starts with a stub package or crate name, unless a longer
/// registry name explains it (`cfg-if-<hash>` is `cfg-if`'s, not `cfg`'s).
fn stub_leftovers(dir: &Path) -> Vec<String> {
    let stubs: Vec<String> = STUB_NAMES.iter().flat_map(|n| forms(n)).collect();
    let registry: Vec<String> = REGISTRY.iter().flat_map(|n| forms(n)).collect();
    let mut found = Vec::new();
    for entry in WalkDir::new(dir).min_depth(1) {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy();
        let Some(stub) = stubs.iter().find(|s| starts_with_name(&name, s)) else {
            continue;
        };
        let registry_owned = registry
            .iter()
            .any(|r| r.len() > stub.len() && starts_with_name(&name, r));
        if !registry_owned {
            found.push(
                entry
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .display()
                    .to_string(),
            );
        }
    }
    found.sort();
    found
}

fn assert_no_stub_artifacts(dir: &Path) {
    assert!(dir.is_dir(), "no `{}`", dir.display());
    let left = stub_leftovers(dir);
    assert!(
        left.is_empty(),
        "stub artifacts left in `{}`:\n{left:#?}",
        dir.display()
    );
}

/// Copies the real sources over the cooked builder, runs `cargo build <flags> --message-format
/// json`: no external package compiles, both members do, and the binary is the real one.
fn real_build(p: &Project, builder: &Path, flags: &[&str]) {
    copy_tree(p.root(), builder, MtimePolicy::PreserveOlder, &["target"]);
    let mut cmd = cargo_cmd(builder);
    cmd.arg("build")
        .args(flags)
        .args(["--message-format", "json"]);
    let out = run(&mut cmd);
    let what = format!("real `cargo build {}`", flags.join(" "));
    out.assert_ok(&what);
    let report = BuildReport::parse(&out.stdout);
    let local: BTreeSet<String> = ["demo-app", "cfg"].map(String::from).into();
    assert_exact_rebuild(&out, &report, &what, &BTreeSet::new(), &local);
    let exe = report
        .executables()
        .remove("bin:demo-app")
        .unwrap_or_else(|| panic!("{what}: no `demo-app` binary\n{}", out.describe()));
    check_executable(
        "bin:demo-app",
        &exe,
        &Expect::Stdout(REAL_OUTPUT.into()),
        builder,
        &what,
    );
}

/// The entries (relative to `target`) of `cfg-if`, a registry crate named like the member
/// `cfg`, in a profile directory.
fn cfg_if_entries(target: &Path, profile: &str) -> BTreeSet<String> {
    let mut entries = BTreeSet::new();
    for sub in [".fingerprint", "build", "deps"] {
        let dir = target.join(profile).join(sub);
        let Ok(read) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in read {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if forms("cfg-if").iter().any(|f| starts_with_name(&name, f)) {
                entries.insert(format!("{profile}/{sub}/{name}"));
            }
        }
    }
    entries
}

#[test]
fn cook_release_leaves_no_stub_artifacts() {
    let p = workspace();
    let (builder, out) = cook(&p, &["--release"]);
    assert_cleaned_directly(&out);
    assert!(builder.join("target/release/.fingerprint").is_dir());
    assert_no_stub_artifacts(&builder.join("target"));
    real_build(&p, &builder, &["--release"]);
}

/// `cfg` is a prefix of `cfg-if`: a glob like `cfg-*` would take the registry crate too.
#[test]
fn cook_keeps_registry_artifacts_named_like_a_member() {
    let p = workspace();
    // What a build of the skeleton leaves for `cfg-if` (unit hashes do not depend on where
    // the workspace is).
    let skel = p.sandbox().join("control-skel");
    p.prepare(&skel);
    let control = p.sandbox().join("control");
    extract_tree(&skel, &control);
    cargo(&control, ["build", "--release", "--offline"]).assert_ok("control build");
    let expected = cfg_if_entries(&control.join("target"), "release");
    assert!(
        expected.iter().any(|e| e.contains("/deps/libcfg_if-")),
        "control build has no cfg-if rlib: {expected:#?}"
    );
    assert!(
        control.join("target/release/libcfg.rlib").is_file(),
        "control build has no `cfg` stub to clean"
    );

    let (builder, out) = cook(&p, &["--release"]);
    assert_cleaned_directly(&out);
    let target = builder.join("target");
    assert_eq!(
        cfg_if_entries(&target, "release"),
        expected,
        "cfg-if artifacts after cook"
    );
    assert_no_stub_artifacts(&target);
    real_build(&p, &builder, &["--release"]);
}

/// With a `build-dir`, intermediate artifacts live outside the target dir, in a layout cargo
/// may change: cook leaves them to `cargo clean -p`.
#[test]
fn cook_with_a_build_dir_falls_back_to_cargo_clean() {
    let p = workspace();
    p.write(
        ".cargo/config.toml",
        "[build]\nbuild-dir = \"build-cache\"\n",
    );
    // A profile directory from before the build dir was set (a reused cache mount): the
    // target dir alone does not tell that the layout changed.
    fs::create_dir_all(p.sandbox().join("builder/target/release/.fingerprint")).unwrap();
    let (builder, out) = cook(&p, &["--release"]);
    let stderr = out.stderr_str();
    assert!(
        stderr.contains("Running `cargo clean --package")
            && !stderr.contains("without `cargo clean`"),
        "cook did not fall back to `cargo clean -p`\n{}",
        out.describe()
    );
    let build_dir = builder.join("build-cache");
    assert!(
        WalkDir::new(&build_dir)
            .into_iter()
            .filter_map(Result::ok)
            .any(|e| e.file_name() == ".fingerprint"),
        "the build did not use the build dir\n{}",
        out.describe()
    );
    assert_no_stub_artifacts(&build_dir);
    assert_no_stub_artifacts(&builder.join("target"));
    real_build(&p, &builder, &["--release"]);
}

/// `--target <host>` puts target units under `target/<triple>/release` and build scripts
/// under `target/release`: both are cleaned.
#[test]
fn cook_cleans_the_target_triple_layout() {
    let p = workspace();
    let host = host_triple();
    let flags = ["--release", "--all-targets", "--target", host.as_str()];
    let (builder, out) = cook(&p, &flags);
    assert_cleaned_directly(&out);
    let target = builder.join("target");
    assert!(
        target.join(&host).join("release/.fingerprint").is_dir(),
        "no `{host}/release` layout under target/"
    );
    assert_no_stub_artifacts(&target);
    real_build(&p, &builder, &flags);
}

/// `build.target-dir` set only in `$CARGO_HOME/config.toml` (a CI image's global config):
/// cook finds the target dir there as cargo does, so its record lands beside the artifacts
/// and it still cleans them itself.
#[test]
fn target_dir_from_the_cargo_home_config() {
    let p = project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"app\", \"util\"]\nresolver = \"2\"\n",
        )
        .file(
            "app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nutil = { path = \"../util\" }\n",
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    println!(\"real app {}\", util::answer());\n}\n",
        )
        .file(
            "util/Cargo.toml",
            "[package]\nname = \"util\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .file("util/src/lib.rs", "pub fn answer() -> u32 {\n    42\n}\n")
        .build();
    let home = p.sandbox().join("cargo-home");
    let shared_target = p.sandbox().join("shared-target");
    fs::create_dir_all(&home).unwrap();
    fs::write(
        home.join("config.toml"),
        format!(
            "[build]\ntarget-dir = {:?}\n",
            shared_target.display().to_string()
        ),
    )
    .unwrap();
    let (skel, builder) = p.skeleton_and_builder();
    let mut cmd = prebuild_cmd(&builder);
    cmd.env("CARGO_HOME", &home)
        .args(["cook", "--offline", "-v", "--skeleton"])
        .arg(&skel);
    let out = run(&mut cmd);
    out.assert_ok("cook with the target dir set in $CARGO_HOME's config");
    assert_cleaned_directly(&out);
    assert!(
        shared_target.join("cargo-prebuild-cook.json").is_file(),
        "the cook record is not in the target dir cargo used\n{}",
        out.describe()
    );
    assert!(
        !builder.join("target").exists(),
        "cook wrote into `target/` although the config moved the target dir\n{}",
        out.describe()
    );
    let left: Vec<String> = WalkDir::new(&shared_target)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            ["app", "util", "libutil"]
                .iter()
                .any(|s| starts_with_name(n, s))
        })
        .collect();
    assert!(
        shared_target.join("debug/.fingerprint").is_dir() && left.is_empty(),
        "stub artifacts left in the shared target dir: {left:#?}"
    );
}

/// cargo's per-package build-dir layout (unstable: `-Z build-dir-new-layout`, or its
/// `CARGO_UNSTABLE_*` variable) moves every artifact: cook leaves it to `cargo clean -p`.
#[test]
fn the_new_build_dir_layout_falls_back_to_cargo_clean() {
    let p = workspace();
    let (skel, builder) = p.skeleton_and_builder();
    let mut cmd = prebuild_cmd(&builder);
    // Stable cargo ignores the variable; cook must not guess either way.
    cmd.env("CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT", "true")
        .args(["cook", "--release", "-v", "--skeleton"])
        .arg(&skel);
    let out = run(&mut cmd);
    out.assert_ok("cook with the new build-dir layout asked for");
    let stderr = out.stderr_str();
    assert!(
        stderr.contains("CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT")
            && stderr.contains("Running `cargo clean --package"),
        "cook did not fall back to `cargo clean -p`\n{}",
        out.describe()
    );
    assert_no_stub_artifacts(&builder.join("target"));
}

/// Like `cargo clean -p`, cook sweeps only the profile it built: a reused target dir (a cache
/// mount) keeps the local crates' artifacts of its other profiles.
#[test]
fn other_profiles_keep_their_artifacts() {
    let p = workspace();
    let builder = p.sandbox().join("builder");
    let kept = [
        "target/debug/.fingerprint/demo-app-0123456789abcdef/lib-demo_core",
        "target/debug/deps/libdemo_core-0123456789abcdef.rlib",
    ];
    for rel in kept {
        let path = builder.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "a real artifact of an earlier debug build\n").unwrap();
    }
    let (builder, out) = cook(&p, &["--release"]);
    assert_cleaned_directly(&out);
    assert_no_stub_artifacts(&builder.join("target/release"));
    for rel in kept {
        assert!(
            builder.join(rel).is_file(),
            "cook --release removed `{rel}` of the debug profile\n{}",
            out.describe()
        );
    }
}
