//! Toolchain files: the skeleton carries `rust-toolchain(.toml)` (in the workspace or an
//! ancestor) and cook, run through the rustup proxy, compiles with the toolchain it pins,
//! unless the user chose one (`RUSTUP_TOOLCHAIN`, `cargo +toolchain`).

use std::fs;
use std::path::Path;

use crate::support::*;

fn toolchain_project(file: &str, body: &str) -> Project {
    project()
        .file(file, body)
        .file("Cargo.toml", &pkg("pinned", "itoa = \"1\"\n"))
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"pinned {}\", itoa::Buffer::new().format(5));\n}\n",
        )
        .build()
}

/// The toolchain project cooked and built through the rustup proxy, as a user's shell runs
/// `cargo`, so the toolchain file (or the user's choice) decides.
fn pinned(p: &Project) -> E2e {
    e2e(p)
        .policies(&[MtimePolicy::PreserveOlder])
        .through_rustup_proxy()
        .local(&["pinned"])
        .bin("pinned", "pinned 5")
}

/// `rustc -vV` as recorded by cargo itself in a target directory.
fn rustc_info(target: &Path) -> String {
    fs::read_to_string(target.join(".rustc_info.json"))
        .unwrap_or_else(|e| panic!("{}/.rustc_info.json: {e}", target.display()))
}

/// `channel = "nightly"` in `rust-toolchain.toml`; `cargo prebuild cook` run through the rustup
/// proxy in the empty builder (where the proxy picks the default, stable, and exports
/// `RUSTUP_TOOLCHAIN`): nightly must compile the dependencies, as it will in the real build.
#[test]
fn toolchain_file_pins_nightly_during_cook() {
    let p = toolchain_project(
        "rust-toolchain.toml",
        "[toolchain]\nchannel = \"nightly\"\n",
    );
    let out = pinned(&p).run();
    let target = out.ws_dir.join("target");
    let info = rustc_info(&target);
    assert!(
        info.contains("-nightly") && !info.contains("1.95.0 ("),
        "cargo's rustc in the built tree is not nightly: {info}"
    );
    let record = cook_record(&target);
    let rustc = record["rustc"]
        .as_str()
        .expect("the cook record names rustc");
    assert!(
        rustc.contains("nightly"),
        "the cook record names another toolchain: {rustc}"
    );
    assert!(
        skeleton_files(&out.skeleton).contains("rust-toolchain.toml"),
        "toolchain file missing from the skeleton"
    );
}

/// The legacy `rust-toolchain` file in an ancestor of the workspace: it goes into the
/// skeleton at its relative position and decides cook's toolchain.
#[test]
fn legacy_toolchain_file_in_ancestor() {
    let p = toolchain_project("../rust-toolchain", "nightly\n");
    let out = pinned(&p).tree(p.sandbox(), "planner").run();
    assert!(
        skeleton_files(&out.skeleton).contains("rust-toolchain"),
        "ancestor toolchain file missing: {:#?}",
        skeleton_files(&out.skeleton)
    );
    assert_eq!(skeleton_index(&out.skeleton)["workspace"], "planner");
    let info = rustc_info(&out.ws_dir.join("target"));
    assert!(info.contains("-nightly"), "not nightly: {info}");
}

/// A toolchain the user chose explicitly (`RUSTUP_TOOLCHAIN=stable`, which the proxy reports
/// as `RUSTUP_TOOLCHAIN_SOURCE=env`) wins over the skeleton's toolchain file.
#[test]
fn toolchain_chosen_by_user_wins() {
    let p = toolchain_project(
        "rust-toolchain.toml",
        "[toolchain]\nchannel = \"nightly\"\n",
    );
    let out = pinned(&p).env("RUSTUP_TOOLCHAIN", "stable").run();
    let target = out.ws_dir.join("target");
    let info = rustc_info(&target);
    assert!(
        !info.contains("nightly"),
        "cook ignored the user's RUSTUP_TOOLCHAIN=stable: {info}"
    );
    let record = cook_record(&target);
    let rustc = record["rustc"]
        .as_str()
        .expect("the cook record names rustc");
    assert!(
        rustc.contains("release: ") && !rustc.contains("nightly"),
        "cook record: {rustc}"
    );
}

/// `cargo +nightly prebuild cook` (the proxy reports `RUSTUP_TOOLCHAIN_SOURCE=cli`) wins over
/// a toolchain file pinning stable.
#[test]
fn toolchain_chosen_with_plus_wins() {
    let p = toolchain_project("rust-toolchain.toml", "[toolchain]\nchannel = \"stable\"\n");
    let out = pinned(&p).plus_toolchain("nightly").run();
    let info = rustc_info(&out.ws_dir.join("target"));
    assert!(info.contains("-nightly"), "cook ignored +nightly: {info}");
}
