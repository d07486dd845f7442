//! `cargo prebuild build --rebuild-local`: the workspace's own crates cleaned first, so a
//! persistent target directory never reuses them whatever the mtimes; registry crates named like
//! a local one keep their artifacts.

use std::process::Command;

use crate::support::*;

fn local_fixture() -> Project {
    project()
        .file(
            "Cargo.toml",
            &pkg(
                "app",
                "greet = { path = \"greet\" }\nitoa = \"1\"\n\n[workspace]\nmembers = [\"greet\"]\n",
            ),
        )
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"{} {}\", greet::greeting(), itoa::Buffer::new().format(1));\n}\n",
        )
        .file("greet/Cargo.toml", &pkg("greet", "cfg-if = \"1\"\n"))
        .file(
            "greet/src/lib.rs",
            "pub fn greeting() -> &'static str {\n    \"version one\"\n}\n",
        )
        .build()
}

/// After a real build, another version of the local sources arrives with older mtimes (a
/// shared target dir, another branch): plain cargo keeps the stale local artifacts, `build
/// --rebuild-local` rebuilds them and nothing external.
fn rebuild_local(flags: &[&str], out_dir: &str) {
    let p = local_fixture();
    let with = |args: &[&'static str]| -> Vec<String> {
        args.iter()
            .map(|s| s.to_string())
            .chain(flags.iter().map(|s| s.to_string()))
            .collect()
    };
    let (_, skel) = p.prepare_as("skel", &[]);
    let (builder, _) = p.cook_in(&skel, "builder", flags);
    copy_tree(p.root(), &builder, MtimePolicy::Now, &["target"]);
    cargo(&builder, with(&["build"])).assert_ok("first real build");
    let exe = builder.join(out_dir).join("app");
    let ran = run(&mut Command::new(&exe));
    assert_eq!(ran.stdout_str().trim_end(), "version one 1");

    // Another version of the local sources, stamped older than the artifacts (2020-04-16).
    p.edit("greet/src/lib.rs", "version one", "version two");
    p.edit("src/main.rs", "{} {}", "{} / {}");
    copy_tree(p.root(), &builder, MtimePolicy::Earthly, &["target"]);

    // Negative control, in place (same paths), then the builder is restored: plain cargo
    // keeps the stale local artifacts.
    let backup = p.sandbox().join("backup");
    cp_a(&builder, &backup);
    let out = cargo(&builder, with(&["build", "--message-format", "json"]));
    out.assert_ok("control build");
    let report = BuildReport::parse(&out.stdout);
    assert!(
        report.local_compiled().is_empty(),
        "control: cargo rebuilt the local crates from older sources, so the scenario proves \
         nothing: {:?}",
        report.local_compiled()
    );
    let ran = run(&mut Command::new(&exe));
    assert_eq!(
        ran.stdout_str().trim_end(),
        "version one 1",
        "control: the stale binary"
    );
    rm_rf(&builder);
    cp_a(&backup, &builder);

    let out = prebuild(
        &builder,
        with(&["build", "--rebuild-local", "--message-format", "json"]),
    );
    out.assert_ok("build --rebuild-local");
    let report = BuildReport::parse(&out.stdout);
    assert_eq!(
        report.local_compiled(),
        set(&["app", "greet"]),
        "local crates rebuilt\n{}",
        out.describe()
    );
    assert!(
        report.external_compiled().is_empty(),
        "--rebuild-local recompiled external packages: {:?}",
        report.external_compiled()
    );
    let ran = run(&mut Command::new(&exe));
    ran.assert_ok("running app");
    assert_eq!(ran.stdout_str().trim_end(), "version two / 1");

    // And the rebuilt output verifies.
    prebuild(&builder, with(&["verify"])).assert_ok("verify after --rebuild-local");
}

#[test]
fn rebuild_local_rebuilds_local_crates_from_older_sources() {
    rebuild_local(&[], "target/debug");
}

#[test]
fn rebuild_local_release_for_a_target() {
    let host = host_triple();
    let flags = ["--release", "--target", host.as_str()];
    rebuild_local(&flags, &format!("target/{host}/release"));
}

/// `--rebuild-local` cleans the local `itoa`, not the registry `itoa` another member uses:
/// that is an external package, and cleaning it recompiles it.
#[test]
fn rebuild_local_keeps_a_registry_crate_named_like_a_local_one() {
    let p = local_itoa_beside_registry_itoa();
    let (_, skel) = p.prepare_as("skel", &[]);
    let (builder, _) = p.cook_in(&skel, "builder", &[]);
    copy_tree(p.root(), &builder, MtimePolicy::PreserveOlder, &["target"]);
    cargo(&builder, ["build"]).assert_ok("first real build");

    let out = prebuild(
        &builder,
        ["build", "--rebuild-local", "--message-format", "json"],
    );
    out.assert_ok("build --rebuild-local");
    let report = BuildReport::parse(&out.stdout);
    assert_eq!(report.local_compiled(), set(&["app", "itoa"]));
    assert!(
        report.external_compiled().is_empty(),
        "--rebuild-local recompiled external packages: {:?}\n{}",
        report.external_compiled(),
        out.describe()
    );
    let ran = run(&mut Command::new(builder.join("target/debug/app")));
    assert_eq!(ran.stdout_str().trim_end(), "local itoa and 1");
}
