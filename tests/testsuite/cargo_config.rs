//! Cargo configuration reaches cook: `.cargo/config(.toml)` of the workspace and its ancestors
//! (rustflags, `[env]`, aliases, `[target.<triple>]`), and the output directories they move
//! (`target-dir`, `build-dir`, `build.target`) are cleaned of every stub artifact.

use cargo_prebuild::skeleton::stubs::MARKER;
use std::fs;
use std::path::Path;
use walkdir::WalkDir;

use crate::support::*;

/// `.cargo/config` (legacy name) in an ancestor of the workspace and `.cargo/config.toml` in the
/// workspace both reach cook: `build.rustflags` from both (cargo joins them), `[env]` read by a
/// dependency's build script (libc reruns on `RUST_LIBC_UNSTABLE_FREEBSD_VERSION`) and by a
/// local one, and an alias the real build can use.
#[test]
fn config_hierarchy_ancestor_legacy_and_workspace() {
    let p = project()
        .file(
            "../.cargo/config",
            "[build]\nrustflags = [\"--cfg\", \"prebuild_ancestor\"]\n\n[alias]\nbb = \"build --bins\"\n",
        )
        .file(
            ".cargo/config.toml",
            "[build]\nrustflags = [\"--cfg\", \"prebuild_test\"]\n\n[env]\nRUST_LIBC_UNSTABLE_FREEBSD_VERSION = \"14\"\nFIDELITY_CONFIG_ENV = \"from-config-env\"\n",
        )
        .file(
            "Cargo.toml",
            &pkg("configured", "libc = \"0.2\"\nitoa = \"1\"\n"),
        )
        .file(
            "build.rs",
            "fn main() {\n    println!(\"cargo:rerun-if-env-changed=FIDELITY_CONFIG_ENV\");\n    println!(\"cargo:rustc-env=SEEN_ENV={}\", std::env::var(\"FIDELITY_CONFIG_ENV\").unwrap_or_default());\n}\n",
        )
        .file(
            "src/main.rs",
            r#"#![allow(unexpected_cfgs)]
fn main() {
    let pid = unsafe { libc::getpid() };
    println!(
        "cfgs {} {} env {} {} {}",
        cfg!(prebuild_test),
        cfg!(prebuild_ancestor),
        env!("SEEN_ENV"),
        itoa::Buffer::new().format(1),
        pid > 0
    );
}
"#,
        )
        .build();
    let out = e2e(&p)
        .tree(p.sandbox(), "planner")
        .policies(&[MtimePolicy::PreserveOlder])
        .local(&["configured"])
        .bin("configured", "cfgs true true env from-config-env 1 true")
        .run();
    let files = skeleton_files(&out.skeleton);
    for f in [".cargo/config", "planner/.cargo/config.toml"] {
        assert!(
            files.contains(f),
            "{f} missing from the skeleton: {files:#?}"
        );
    }
    assert!(skeleton_file(&out.skeleton, ".cargo/config").contains("bb"));
    assert!(skeleton_file(&out.skeleton, "planner/.cargo/config.toml")
        .contains("RUST_LIBC_UNSTABLE_FREEBSD_VERSION"));

    // The alias, in the built tree: nothing external to compile either.
    let alias = run(cargo_cmd(&out.ws_dir).args(["bb", "--message-format", "json"]));
    alias.assert_ok("cargo bb (alias from the ancestor config)");
    let report = BuildReport::parse(&alias.stdout);
    assert!(
        report.external_compiled().is_empty(),
        "{}",
        alias.describe()
    );
    assert!(!report.external_fresh().is_empty(), "{}", alias.describe());
}

/// `[target.<host>] rustflags` (which replace `build.rustflags` when both are set) reach cook.
#[test]
fn config_target_table_rustflags() {
    let host = host_triple();
    let p = project()
        .file(
            ".cargo/config.toml",
            &format!(
                "[build]\nrustflags = [\"--cfg\", \"shadowed_build_flag\"]\n\n[target.{host}]\nrustflags = [\"--cfg\", \"prebuild_target\"]\n"
            ),
        )
        .file("Cargo.toml", &pkg("tgtflags", "itoa = \"1\"\ncfg-if = \"1\"\n"))
        .file(
            "src/main.rs",
            "#![allow(unexpected_cfgs)]\ncfg_if::cfg_if! { if #[cfg(prebuild_target)] { const T: bool = true; } else { const T: bool = false; } }\nfn main() {\n    println!(\"target {} build {} {}\", T, cfg!(shadowed_build_flag), itoa::Buffer::new().format(2));\n}\n",
        )
        .build();
    e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder])
        .local(&["tgtflags"])
        .bin("tgtflags", "target true build false 2")
        .run();
}

fn two_member_project(config_path: &str, config: &str) -> Project {
    project()
        .file(config_path, config)
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"lib\", \"app\"]\nresolver = \"2\"\n",
        )
        .file("lib/Cargo.toml", &pkg("anclib", "itoa = \"1\"\n"))
        .file(
            "lib/src/lib.rs",
            "pub fn n() -> String {\n    itoa::Buffer::new().format(12).to_string()\n}\n",
        )
        .file(
            "app/Cargo.toml",
            &pkg("ancapp", "anclib = { path = \"../lib\" }\ncfg-if = \"1\"\n"),
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    println!(\"outputs {}\", anclib::n());\n}\n",
        )
        .build()
}

/// After cook: no artifact of the stub packages `anclib`/`ancapp` under `dir`.
fn assert_stub_artifacts_cleaned(dir: &Path) {
    assert!(dir.is_dir(), "no output directory {}", dir.display());
    let mut stubs = Vec::new();
    for entry in WalkDir::new(dir) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        let named = name.contains("anclib") || name.contains("ancapp");
        if named || contains(&fs::read(entry.path()).unwrap(), MARKER.as_bytes()) {
            stubs.push(entry.path().display().to_string());
        }
    }
    assert!(stubs.is_empty(), "cook left stub artifacts: {stubs:#?}");
}

/// `target-dir` and `build-dir` set in an ancestor's config are relative to that ancestor, so
/// outputs land outside the workspace; cook's cleanup (`cargo clean -p`) must find and remove
/// every stub artifact there. (workspace_shapes.rs covers the same keys in the workspace's config.)
#[test]
fn config_output_dirs_in_ancestor() {
    let p = two_member_project(
        "../.cargo/config.toml",
        "[build]\ntarget-dir = \"out/target\"\nbuild-dir = \"out/build\"\n",
    );
    let out = e2e(&p)
        .tree(p.sandbox(), "planner")
        .outputs(&["out"])
        .skip(&["out"])
        .policies(&[MtimePolicy::PreserveOlder, MtimePolicy::Now])
        .local(&["anclib", "ancapp"])
        .bin("ancapp", "outputs 12")
        .run();
    assert!(
        !out.ws_dir.join("target").exists(),
        "the ancestor's target-dir was ignored"
    );
    assert_stub_artifacts_cleaned(&out.snapshot.join("out"));
}

/// `build.target` in the config (no `--target` flag): artifacts live under
/// `target/<triple>/`, and cook's cleanup must remove the stubs' there too.
#[test]
fn config_build_target_cleanup() {
    let host = host_triple();
    let p = two_member_project(
        ".cargo/config.toml",
        &format!("[build]\ntarget = \"{host}\"\n"),
    );
    let out = e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder])
        .local(&["anclib", "ancapp"])
        .bin("ancapp", "outputs 12")
        .run();
    assert!(out.snapshot.join("target").join(&host).is_dir());
    assert_stub_artifacts_cleaned(&out.snapshot.join("target"));
}
