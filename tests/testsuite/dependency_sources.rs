//! Where dependencies come from: path dependencies outside the workspace and other workspaces of
//! a monorepo, `[patch]` (in the manifest, in the config, outside the root) and `[replace]`
//! with local copies that registry crates compile against, vendored sources offline, and git
//! dependencies. Cook compiles them all; the real build reuses every external one.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::*;

/// A path dependency outside the workspace root (`../shared-lib`, in no workspace) and a crate
/// of another workspace of the monorepo, inheriting `version`, `edition` and a dependency from
/// that workspace: both are stubbed at their relative positions (cook runs in `tree/planner`
/// with the tree laid out under `tree/`), and the real build compiles them from real sources.
#[test]
fn path_dependencies_outside_the_workspace_and_monorepo() {
    let p = project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n",
        )
        .file(
            "app/Cargo.toml",
            &pkg(
                "monoapp",
                "shared-lib = { path = \"../../shared-lib\" }\ncommon = { path = \"../../ws-b/crates/common\", version = \"2\" }\nsmallvec = \"1\"\n",
            ),
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    let v: smallvec::SmallVec<[u8; 2]> = smallvec::smallvec![1];\n    println!(\"mono {} {} {}\", shared_lib::name(), common::name(), v.len());\n}\n",
        )
        .file(
            "../shared-lib/Cargo.toml",
            &pkg("shared-lib", "cfg-if = \"1\"\n"),
        )
        .file(
            "../shared-lib/src/lib.rs",
            "cfg_if::cfg_if! { if #[cfg(unix)] { pub fn name() -> &'static str { \"real shared-lib\" } } else { pub fn name() -> &'static str { \"other\" } } }\n",
        )
        .file(
            "../ws-b/Cargo.toml",
            "[workspace]\nmembers = [\"crates/common\", \"crates/other\"]\nresolver = \"2\"\n\n[workspace.package]\nversion = \"2.0.0\"\nedition = \"2021\"\n\n[workspace.dependencies]\nitoa = \"1\"\n",
        )
        .file(
            "../ws-b/crates/common/Cargo.toml",
            "[package]\nname = \"common\"\nversion.workspace = true\nedition.workspace = true\n\n[dependencies]\nitoa.workspace = true\n",
        )
        .file(
            "../ws-b/crates/common/src/lib.rs",
            "pub fn name() -> String {\n    format!(\"real common {}\", itoa::Buffer::new().format(2))\n}\n",
        )
        .file(
            "../ws-b/crates/other/Cargo.toml",
            "[package]\nname = \"other\"\nversion.workspace = true\nedition.workspace = true\n\n[dependencies]\neither = \"1\"\n",
        )
        .file("../ws-b/crates/other/src/lib.rs", "")
        .build();
    let out = e2e(&p)
        .tree(p.sandbox(), "planner")
        .policies(&ALL_POLICIES)
        .local(&["monoapp", "shared-lib", "common"])
        .bin("monoapp", "mono real shared-lib real common 2 1")
        .run();
    assert_eq!(skeleton_index(&out.skeleton)["workspace"], "planner");
    let files = skeleton_files(&out.skeleton);
    for f in [
        "planner/Cargo.toml",
        "planner/Cargo.lock",
        "shared-lib/Cargo.toml",
        "ws-b/Cargo.toml",
        "ws-b/crates/common/Cargo.toml",
    ] {
        assert!(files.contains(f), "{f} missing: {files:#?}");
    }
    assert!(
        files.iter().all(|f| !f.starts_with("ws-b/crates/other")),
        "an unused member of the other workspace is in the skeleton: {files:#?}"
    );
}

/// `[patch.crates-io]` with a local copy of cfg-if that a registry crate (crc32fast) compiles
/// against: the patch keeps applying in cook and in the real build (the patched crate's id is a
/// `path+file` id), and crc32fast, compiled against it by cook, is not recompiled.
#[test]
fn patch_crates_io_used_by_a_registry_crate() {
    let p = project().fixture("fidelity-patch").build();
    assert!(
        p.read("Cargo.lock").contains("1.0.99"),
        "the patch is unused"
    );
    let out = patch_user(&p)
        .policies(&[MtimePolicy::PreserveOlder, MtimePolicy::Earthly])
        .run();
    assert_patched(&out, "1.0.99");
}

/// The run of the patch fixture's `patchuser`, whose output shows the patched cfg-if: the
/// patched crate is in the skeleton verbatim, so cook compiled its real sources.
fn patch_user(p: &Project) -> E2e {
    e2e(p)
        .local(&["patchuser"])
        .real_in_skeleton(&["cfg-if"])
        .bin("patchuser", "patched cfg-if crc=e8b7be43")
}

/// The patch fixture with the patched crate moved to `dest` (relative to the planner) and the
/// `[patch]` table moved to `config` (relative to the planner) when given.
fn patch_project(dest: &str, config: Option<&str>) -> Project {
    let fixture = fixtures_dir().join("fidelity-patch");
    let mut builder = project().file(
        "src/main.rs",
        &fs::read_to_string(fixture.join("src/main.rs")).unwrap(),
    );
    for rel in ["Cargo.toml", "src/lib.rs", "LICENSE-MIT"] {
        let body = fs::read_to_string(fixture.join("patched/cfg-if").join(rel)).unwrap();
        builder = builder.file(&format!("{dest}/{rel}"), &body);
    }
    let manifest = fs::read_to_string(fixture.join("Cargo.toml")).unwrap();
    let table = "[patch.crates-io]\ncfg-if = { path = \"patched/cfg-if\" }\n";
    assert!(manifest.contains(table));
    let patch = format!("[patch.crates-io]\ncfg-if = {{ path = \"{dest}\" }}\n");
    builder = match config {
        Some(config) => builder
            .file("Cargo.toml", &manifest.replace(table, ""))
            .file(config, &patch),
        None => builder.file("Cargo.toml", &manifest.replace(table, &patch)),
    };
    let p = builder.build();
    assert!(
        p.read("Cargo.lock").contains("1.0.99"),
        "the patch is unused"
    );
    p
}

/// `[patch]` in `.cargo/config.toml` (stable since cargo 1.56) rather than in the manifest:
/// the patched crate is a dependency input all the same.
#[test]
fn patch_in_cargo_config() {
    let p = patch_project("patched/cfg-if", Some(".cargo/config.toml"));
    let out = patch_user(&p).policies(&[MtimePolicy::PreserveOlder]).run();
    assert_patched(&out, "1.0.99");
}

/// A `[patch]` target outside the workspace root (`../patches/cfg-if`): in the skeleton at its
/// relative position, verbatim.
#[test]
fn patch_target_outside_the_workspace() {
    let p = patch_project("../patches/cfg-if", None);
    let out = patch_user(&p)
        .tree(p.sandbox(), "planner")
        .policies(&[MtimePolicy::PreserveOlder])
        .run();
    assert_patched(&out, "1.0.99");
    assert!(skeleton_files(&out.skeleton).contains("patches/cfg-if/src/lib.rs"));
}

/// `[replace]` of the exact registry version of cfg-if by a local copy.
#[test]
fn replace_used_by_a_registry_crate() {
    // The replacement is the patch fixture's cfg-if copy at the registry's exact version.
    let patched = fixtures_dir().join("fidelity-patch/patched/cfg-if");
    let read = |rel: &str| std::fs::read_to_string(patched.join(rel)).unwrap();
    let edited = |rel: &str, from: &str, to: &str| {
        let text = read(rel);
        assert!(text.contains(from), "{rel} lacks {from:?}");
        text.replace(from, to)
    };
    let p = project()
        .fixture("fidelity-replace")
        .file(
            "replaced/cfg-if/Cargo.toml",
            &edited("Cargo.toml", "version = \"1.0.99\"", "version = \"1.0.0\""),
        )
        .file(
            "replaced/cfg-if/src/lib.rs",
            &edited("src/lib.rs", "\"patched cfg-if\"", "\"replaced cfg-if\""),
        )
        .file("replaced/cfg-if/LICENSE-MIT", &read("LICENSE-MIT"))
        .build();
    let out = e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder])
        .local(&["replaceuser"])
        .real_in_skeleton(&["cfg-if"])
        .bin("replaceuser", "replaced cfg-if crc=e8b7be43")
        .run();
    assert_patched(&out, "1.0.0");
}

/// In every build: cfg-if comes from the local path, crc32fast from the registry, fresh.
fn assert_patched(out: &Outcome, version: &str) {
    for built in &out.builds {
        let arts = &built.report.artifacts;
        let cfg_if: Vec<_> = arts.iter().filter(|a| a.package == "cfg-if").collect();
        assert!(
            !cfg_if.is_empty()
                && cfg_if
                    .iter()
                    .all(|a| a.package_id.starts_with("path+file://")
                        && a.package_id.ends_with(version)),
            "{:?}: cfg-if is not the local copy: {cfg_if:#?}",
            built.policy
        );
        assert!(
            arts.iter()
                .any(|a| a.package == "crc32fast" && !a.local && a.fresh),
            "{:?}: crc32fast not reused from the cook\n{}",
            built.policy,
            built.output.describe()
        );
    }
}

/// `cargo vendor` and the `[source]` replacement it prints: the vendor directory is in the
/// skeleton verbatim, and cook and the real build work `--offline` with an empty `CARGO_HOME`.
#[test]
fn vendored_sources_offline_with_empty_cargo_home() {
    let p = project()
        .file(
            "Cargo.toml",
            &pkg("vendored", "itoa = \"1\"\ncfg-if = \"1\"\n"),
        )
        .file(
            "src/main.rs",
            "cfg_if::cfg_if! { if #[cfg(unix)] { const OS: &str = \"unix\"; } else { const OS: &str = \"other\"; } }\nfn main() {\n    println!(\"vendored {} {}\", OS, itoa::Buffer::new().format(9));\n}\n",
        )
        .build();
    let vendor = p.cargo(&["vendor", "--locked", "vendor"]);
    vendor.assert_ok("cargo vendor");
    let config = vendor.stdout_str();
    assert!(config.contains("[source.crates-io]"), "{config}");
    p.write(".cargo/config.toml", &config);
    p.backdate();
    let home = p.sandbox().join("empty-cargo-home");
    fs::create_dir_all(&home).unwrap();
    let out = e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder])
        .env("CARGO_HOME", &home)
        .flags(&["--offline", "--locked"])
        .local(&["vendored"])
        .bin("vendored", "vendored unix 9")
        .run();
    let files = skeleton_files(&out.skeleton);
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("vendor/itoa") && f.ends_with(".cargo-checksum.json")),
        "vendored crates missing from the skeleton: {files:#?}"
    );
    assert!(
        fs::read_dir(&home).unwrap().all(|e| {
            let name = e.unwrap().file_name();
            name != "registry" && name != "git"
        }),
        "cargo used the registry instead of the vendored sources"
    );
}

/// The `[source]` replacement in an ancestor's `.cargo/config.toml`, with the vendor directory
/// beside it, outside the workspace: both at their relative positions in the skeleton.
#[test]
fn vendored_sources_in_ancestor() {
    let p = project()
        .file("Cargo.toml", &pkg("ancvendored", "itoa = \"1\"\n"))
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"ancestor vendor {}\", itoa::Buffer::new().format(5));\n}\n",
        )
        .build();
    p.cargo(&["vendor", "--locked", "../vendor"])
        .assert_ok("cargo vendor ../vendor");
    p.write(
        "../.cargo/config.toml",
        "[source.crates-io]\nreplace-with = \"vendored-sources\"\n\n[source.vendored-sources]\ndirectory = \"vendor\"\n",
    );
    let home = p.sandbox().join("empty-cargo-home");
    fs::create_dir_all(&home).unwrap();
    let out = e2e(&p)
        .tree(p.sandbox(), "planner")
        .policies(&[MtimePolicy::PreserveOlder])
        .skip(&["empty-cargo-home"])
        .env("CARGO_HOME", &home)
        .flags(&["--offline", "--locked"])
        .local(&["ancvendored"])
        .bin("ancvendored", "ancestor vendor 5")
        .run();
    let files = skeleton_files(&out.skeleton);
    assert!(
        files.contains(".cargo/config.toml")
            && files
                .iter()
                .any(|f| f.starts_with("vendor/itoa/") && f.ends_with(".cargo-checksum.json")),
        "{files:#?}"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let out = run(Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args));
    out.assert_ok(&format!("git {args:?}"));
}

/// A git dependency from a local `file://` repository (itself depending on a registry crate):
/// cook compiles it through cargo and the real build does not (git ids start with `git+`).
#[test]
fn git_dependency_from_local_repository() {
    let p = project()
        .file("Cargo.toml", &pkg("gituser", ""))
        .file("src/main.rs", "fn main() {}\n")
        .no_lockfile()
        .build();
    let repo = p.sandbox().join("gitrepo");
    fs::create_dir_all(repo.join("src")).unwrap();
    fs::write(repo.join("Cargo.toml"), pkg("gdep", "itoa = \"1\"\n")).unwrap();
    fs::write(
        repo.join("src/lib.rs"),
        "pub fn from_git() -> String {\n    format!(\"git dep {}\", itoa::Buffer::new().format(3))\n}\n",
    )
    .unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "gdep"]);
    p.write(
        "Cargo.toml",
        &pkg(
            "gituser",
            &format!("gdep = {{ git = \"file://{}\" }}\n", repo.display()),
        ),
    );
    p.write(
        "src/main.rs",
        "fn main() {\n    println!(\"{}\", gdep::from_git());\n}\n",
    );
    p.generate_lockfile();
    p.backdate();
    let out = e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder])
        .flags(&["--locked"])
        .local(&["gituser"])
        .bin("gituser", "git dep 3")
        .run();
    for built in &out.builds {
        assert!(
            built
                .report
                .artifacts
                .iter()
                .any(|a| a.package_id.starts_with("git+file://") && a.fresh),
            "no fresh git artifact\n{}",
            built.output.describe()
        );
    }
}
