//! `prepare --real PKG` (and `[workspace.metadata.cargo-prebuild] real`): a stable local
//! package keeps its real sources in the skeleton, so cook compiles it and the real build
//! reuses it; the skeleton then changes when its sources do, and `diff` says so.

use std::collections::BTreeSet;
use std::fs;
use std::process::Command;

use crate::support::*;

/// `app` (bin) -> `proto` (lib, inheriting its version, edition and description from the
/// workspace, reading the description at compile time) -> itoa.
fn fixture(root_extra: &str) -> Project {
    project()
        .file(
            "Cargo.toml",
            &format!(
                "[workspace]\nmembers = [\"app\", \"proto\"]\nresolver = \"2\"\n\n[workspace.package]\nversion = \"0.3.0\"\nedition = \"2021\"\ndescription = \"generated protocol\"\n{root_extra}"
            ),
        )
        .file(
            "proto/Cargo.toml",
            "[package]\nname = \"proto\"\nversion.workspace = true\nedition.workspace = true\ndescription.workspace = true\n\n[dependencies]\nitoa = \"1\"\n",
        )
        .file(
            "proto/src/lib.rs",
            "pub fn render(n: u32) -> String {\n    format!(\"{} {}\", env!(\"CARGO_PKG_DESCRIPTION\"), itoa::Buffer::new().format(n))\n}\n",
        )
        .file(
            "app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nproto = { path = \"../proto\" }\n",
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    println!(\"{}\", proto::render(42));\n}\n",
        )
        .build()
}

fn stub_packages(skel: &std::path::Path) -> BTreeSet<String> {
    skeleton_index(skel)["stub-packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

/// Cooked with `proto` real, the real build compiles only `app` (proto's artifact from cook is
/// reused: same sources, same manifest values), and the binary prints the real output. With
/// the sources stamped after cook, proto compiles again: reuse never outlives an mtime doubt.
#[test]
fn a_real_package_compiles_in_cook_and_the_real_build_reuses_it() {
    let p = fixture("");
    p.generate_lockfile();
    p.backdate();
    let (_, skel) = p.prepare_as("skel", &["--real", "proto"]);
    assert_eq!(stub_packages(&skel), set(&["app"]));
    for (policy, compiled) in [
        (MtimePolicy::PreserveOlder, &["app"][..]),
        (MtimePolicy::Now, &["app", "proto"][..]),
    ] {
        let name = format!("{policy:?}").to_lowercase();
        let (dir, _) = p.cook_in(&skel, &name, &["--locked"]);
        copy_tree(p.root(), &dir, policy, &["target"]);
        let out = cargo(&dir, ["build", "--locked", "--message-format", "json"]);
        out.assert_ok("the real build");
        let report = BuildReport::parse(&out.stdout);
        assert!(report.external_compiled().is_empty(), "{policy:?}");
        assert_eq!(report.local_compiled(), set(compiled), "{policy:?}");
        let bin = dir.join("target/debug/app");
        let run = run(&mut Command::new(&bin));
        run.assert_ok("the binary");
        assert_eq!(run.stdout_str(), "generated protocol 42\n", "{policy:?}");
    }
}

/// The real package's sources are in the key; the stubbed one's are not.
#[test]
fn editing_a_real_package_changes_the_skeleton_and_diff_names_the_file() {
    let p = fixture("");
    p.generate_lockfile();
    let (before, old) = p.prepare_as("old", &["--real", "proto"]);
    fs::write(
        p.root().join("app/src/main.rs"),
        "fn main() {\n    println!(\"{}!\", proto::render(7));\n}\n",
    )
    .unwrap();
    let (same, _) = p.prepare_as("app-edit", &["--real", "proto"]);
    assert_eq!(
        before, same,
        "an edit in a stubbed package is no key change"
    );
    fs::write(
        p.root().join("proto/src/lib.rs"),
        "pub fn render(n: u32) -> String {\n    n.to_string()\n}\n",
    )
    .unwrap();
    let (after, new) = p.prepare_as("new", &["--real", "proto"]);
    assert_ne!(before, after, "an edit in a real package changes the key");
    let out = prebuild(
        p.root(),
        [
            std::ffi::OsStr::new("diff"),
            old.as_os_str(),
            new.as_os_str(),
        ],
    );
    out.assert_code(1, "diff of two different skeletons");
    assert!(
        out.stdout_str().contains("proto/src/lib.rs"),
        "{}",
        out.describe()
    );
}

/// The workspace's own list does what `--real` does.
#[test]
fn the_workspace_metadata_list_is_the_flag() {
    let p = fixture("\n[workspace.metadata.cargo-prebuild]\nreal = [\"proto\"]\n");
    p.generate_lockfile();
    let (listed, skel) = p.prepare_as("listed", &[]);
    assert_eq!(stub_packages(&skel), set(&["app"]));
    let (flagged, _) = p.prepare_as("flagged", &["--real", "proto"]);
    assert_eq!(listed, flagged);
}

/// A real package built against a stub could never be reused, and a name that is no local
/// package is a typo: both are errors naming the package, before anything is written.
#[test]
fn a_real_package_may_not_depend_on_a_stub_nor_be_unknown() {
    let p = fixture("");
    p.generate_lockfile();
    for (arg, says) in [
        ("app", "depends on the local package `proto`"),
        ("nope", "no local package named `nope`"),
    ] {
        let skel = p.sandbox().join(format!("skel-{arg}"));
        let out = prebuild(
            p.root(),
            [
                "prepare",
                "--real",
                arg,
                "--skeleton",
                skel.to_str().unwrap(),
            ],
        );
        out.assert_code(101, &format!("prepare --real {arg}"));
        let stderr = out.stderr_str();
        assert!(
            stderr.starts_with("error: ") && stderr.contains(says),
            "{}",
            out.describe()
        );
        assert!(!skel.exists(), "nothing written for --real {arg}");
    }
}
