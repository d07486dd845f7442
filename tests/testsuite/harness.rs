//! Checks of the test harness itself, so a passing end-to-end test means what it says.

use std::fs;

use filetime::FileTime;

use crate::support::*;

#[test]
fn package_names_from_ids() {
    assert_eq!(
        package_name("registry+https://github.com/rust-lang/crates.io-index#itoa@1.0.11"),
        "itoa"
    );
    assert_eq!(package_name("path+file:///tmp/x/crates/base#0.1.0"), "base");
    assert_eq!(
        package_name("path+file:///tmp/x/helper#renamed-helper@0.1.0"),
        "renamed-helper"
    );
}

#[test]
fn report_classifies_artifacts() {
    let lines = [
        r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#itoa@1.0.18","target":{"kind":["lib"],"name":"itoa"},"profile":{"test":false},"fresh":true,"executable":null}"#,
        r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#either@1.19.0","target":{"kind":["lib"],"name":"either"},"profile":{"test":false},"fresh":false,"executable":null}"#,
        r#"{"reason":"compiler-artifact","package_id":"path+file:///b/app#0.1.0","target":{"kind":["bin"],"name":"app"},"profile":{"test":false},"fresh":false,"executable":"/b/target/debug/app"}"#,
        r#"{"reason":"compiler-artifact","package_id":"path+file:///b/app#0.1.0","target":{"kind":["bin"],"name":"app"},"profile":{"test":true},"fresh":true,"executable":"/b/target/debug/deps/app-1"}"#,
        r#"{"reason":"build-finished","success":true}"#,
    ];
    let report = BuildReport::parse(lines.join("\n").as_bytes());
    assert_eq!(
        report.external_compiled(),
        ["registry+https://github.com/rust-lang/crates.io-index#either@1.19.0".to_string()].into()
    );
    assert_eq!(report.local_compiled(), ["app".to_string()].into());
    assert_eq!(report.local_fresh(), vec!["app (bin-test:app)".to_string()]);
    let exes = report.executables();
    assert_eq!(
        exes.keys().cloned().collect::<Vec<_>>(),
        ["bin-test:app", "bin:app"]
    );
}

#[test]
fn copy_policies_stamp_as_named() {
    let p = project()
        .file("a.txt", "a")
        .file("d/b.txt", "b")
        .no_lockfile()
        .build();
    let src_mtime =
        FileTime::from_last_modification_time(&fs::metadata(p.path("d/b.txt")).unwrap());
    assert!(src_mtime < FileTime::from_unix_time(FileTime::now().unix_seconds() - 3600, 0));
    let mtime = |policy, name: &str| {
        let dst = p.sandbox().join(name);
        copy_tree(p.root(), &dst, policy, &[]);
        FileTime::from_last_modification_time(&fs::metadata(dst.join("d/b.txt")).unwrap())
    };
    assert_eq!(mtime(MtimePolicy::PreserveOlder, "p"), src_mtime);
    assert_eq!(
        mtime(MtimePolicy::Earthly, "e"),
        FileTime::from_unix_time(EARTHLY_EPOCH, 0)
    );
    assert!(mtime(MtimePolicy::Now, "n") > src_mtime);
}

/// Negative control: when a builder's target/ already holds artifacts for the same local
/// sources, cargo reports them fresh, which is exactly what the end-to-end check rejects.
#[test]
fn reused_local_units_are_visible_as_fresh() {
    let p = project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"ctl\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"1\"\n",
        )
        .file("src/main.rs", "fn main() {\n    println!(\"{}\", itoa::Buffer::new().format(1));\n}\n")
        .build();
    let builder = p.sandbox().join("builder");
    copy_tree(p.root(), &builder, MtimePolicy::PreserveOlder, &[]);
    cargo(&builder, ["build", "--message-format", "json"]).assert_ok("first build");
    restamp(&builder.join("target"), FileTime::now());
    copy_tree(p.root(), &builder, MtimePolicy::PreserveOlder, &["target"]);
    let out = cargo(&builder, ["build", "--message-format", "json"]);
    out.assert_ok("second build");
    let report = BuildReport::parse(&out.stdout);
    assert!(report.external_compiled().is_empty());
    assert_eq!(report.local_fresh(), vec!["ctl (bin:ctl)".to_string()]);
}

/// The words the harness looks for in a stub's output are the ones the product's stub binary
/// prints, and the marker it looks for in artifacts is compiled into every stub.
#[test]
fn stub_words_and_marker_are_the_products() {
    use cargo_prebuild::skeleton::stubs::{BIN, LIB, MARKER};
    assert!(
        BIN.contains(STUB_SAYS),
        "a stub bin no longer says {STUB_SAYS:?}"
    );
    for stub in [BIN, LIB] {
        assert!(stub.contains(&format!("*b\"{MARKER}\"")), "{stub}");
    }
}

/// Negative control for `check_executable`: a stub's test executables (built from the stub
/// lib, which prints nothing of its own) carry the product's marker, the bytes the harness
/// looks for in every executable the real build produces.
#[test]
fn stub_test_executables_carry_the_marker() {
    use cargo_prebuild::skeleton::stubs::MARKER;
    let p = project()
        .file("Cargo.toml", &pkg("ctl", "itoa = \"1\"\n"))
        .file("src/lib.rs", "pub fn f() {}\n")
        .file("src/main.rs", "fn main() {}\n")
        .build();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let tree = skeleton_tree(&skel);
    let out = cargo(
        &tree,
        ["test", "--no-run", "--offline", "--message-format", "json"],
    );
    out.assert_ok("cargo test --no-run on the skeleton's tree");
    let exes = BuildReport::parse(&out.stdout).executables();
    assert!(exes.contains_key("lib-test:ctl"), "{exes:?}");
    for (key, exe) in &exes {
        assert!(
            contains(&fs::read(exe).unwrap(), MARKER.as_bytes()),
            "{key} ({}) lacks the stub marker",
            exe.display()
        );
    }
}
