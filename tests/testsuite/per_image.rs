//! Per-image skeletons (`prepare -p`/`--bin`): other members pruned, the lockfile reduced to
//! what the image builds, `cook --locked` accepted, and a key that ignores unrelated members.

use std::collections::BTreeSet;
use std::process::Command;

use crate::support::*;

/// Members a (bin a, on local `common`), b (bin b, with an optional dependency only its own
/// feature enables), common.
fn three_members() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"a\", \"b\", \"common\"]\nresolver = \"2\"\n",
        )
        .file(
            "a/Cargo.toml",
            &pkg(
                "a",
                "common = { path = \"../common\" }\nitoa = \"1\"\n",
            ),
        )
        .file(
            "a/src/main.rs",
            "fn main() {\n    println!(\"a {} {}\", common::name(), itoa::Buffer::new().format(7));\n}\n",
        )
        .file(
            "b/Cargo.toml",
            &pkg(
                "b",
                "smallvec = \"1\"\neither = { version = \"1\", optional = true }\n\n[features]\nfancy = [\"dep:either\"]\n",
            ),
        )
        .file(
            "b/src/main.rs",
            "fn main() {\n    println!(\"b {}\", smallvec::SmallVec::<[u8; 1]>::new().len());\n}\n",
        )
        .file(
            "common/Cargo.toml",
            &pkg("common", "cfg-if = \"1\"\n"),
        )
        .file(
            "common/src/lib.rs",
            "pub fn name() -> &'static str {\n    cfg_if::cfg_if! {\n        if #[cfg(unix)] { \"unix\" } else { \"other\" }\n    }\n}\n",
        )
        .build()
}

#[test]
fn per_image_skeleton_prunes_other_members_and_cooks_locked() {
    let p = three_members();
    let full_lock = p.read("Cargo.lock");
    assert!(
        full_lock.contains("name = \"either\"") && full_lock.contains("name = \"smallvec\""),
        "fixture: the full lockfile holds b's dependencies\n{full_lock}"
    );
    let (bin_digest, skel) = p.prepare_as("skel-bin-a", &["--bin", "a"]);
    let (pkg_digest, skel_p) = p.prepare_as("skel-p-a", &["-p", "a"]);
    assert_eq!(
        bin_digest, pkg_digest,
        "`--bin a` and `-p a` select the same"
    );
    assert_same_tree(&listing(&skel), &listing(&skel_p), "--bin a vs -p a");

    let files = skeleton_files(&skel);
    assert!(
        !files.iter().any(|f| f.starts_with("b/")),
        "b kept: {files:?}"
    );
    assert!(files.contains("a/Cargo.toml") && files.contains("common/Cargo.toml"));
    let lock = skeleton_file(&skel, "Cargo.lock");
    let pkgs: BTreeSet<String> = locked_packages(&lock)
        .into_iter()
        .map(|e| e.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(
        pkgs,
        set(&["a", "cfg-if", "common", "itoa"]),
        "pruned lockfile (b, smallvec and b's optional either gone)\n{lock}"
    );
    let root = skeleton_file(&skel, "Cargo.toml");
    assert!(
        !root.contains("\"b\""),
        "root manifest still names b:\n{root}"
    );

    // The digest prepare prints is the skeleton's own.
    let index = skeleton_index(&skel);
    assert_eq!(index["digest"], bin_digest.as_str(), "index digest");

    let (builder, _) = p.cook_in(&skel, "builder", &["--locked", "-p", "a"]);
    copy_tree(p.root(), &builder, MtimePolicy::PreserveOlder, &["target"]);
    let out = cargo(
        &builder,
        ["build", "--locked", "-p", "a", "--message-format", "json"],
    );
    out.assert_ok("real build --locked -p a");
    let report = BuildReport::parse(&out.stdout);
    assert!(
        report.external_compiled().is_empty(),
        "external recompiled after a per-image cook: {:?}\n{}",
        report.external_compiled(),
        out.stderr_str()
    );
    assert_eq!(report.local_compiled(), set(&["a", "common"]));
    assert_eq!(
        package_names(&report.external_fresh()),
        set(&["cfg-if", "itoa"])
    );
    let exe = report.executables()["bin:a"].clone();
    let ran = run(&mut Command::new(exe));
    ran.assert_ok("running a");
    assert_eq!(ran.stdout_str().trim_end(), "a unix 7");

    // Built as cooked: `build --deny-rebuild --verify` has nothing to say.
    let out = prebuild(
        &builder,
        ["build", "--locked", "-p", "a", "--deny-rebuild", "--verify"],
    );
    out.assert_ok("build -p a --deny-rebuild --verify");
    assert!(
        !out.stderr_str().contains("warning:") && out.stderr_str().contains("Verified"),
        "{}",
        out.describe()
    );
}

#[test]
fn per_image_skeleton_key_ignores_unrelated_members() {
    let p = three_members();
    let (d0, s0) = p.prepare_as("skel-0", &["--bin", "a"]);
    let (w0, _) = p.prepare_as("skel-w0", &[]);

    // A new dependency of b (lockfile regenerated): a's skeleton is unchanged.
    p.edit(
        "b/Cargo.toml",
        "smallvec = \"1\"\n",
        "smallvec = \"1\"\nstatic_assertions = \"1\"\n",
    );
    p.generate_lockfile();
    assert!(p
        .read("Cargo.lock")
        .contains("name = \"static_assertions\""));
    let (d1, s1) = p.prepare_as("skel-1", &["--bin", "a"]);
    let (w1, _) = p.prepare_as("skel-w1", &[]);
    assert_ne!(w0, w1, "the whole-workspace skeleton must change");
    assert_same_tree(
        &listing(&s0),
        &listing(&s1),
        "`--bin a` skeleton after editing b",
    );
    assert_eq!(d0, d1, "`--bin a` digest changed by a dependency of b");

    // b's own optional dependency feature flipped on by b: still unchanged for a.
    p.edit(
        "b/Cargo.toml",
        "fancy = [\"dep:either\"]",
        "default = [\"fancy\"]\nfancy = [\"dep:either\"]",
    );
    let (d2, _) = p.prepare_as("skel-2", &["--bin", "a"]);
    assert_eq!(d0, d2, "`--bin a` digest changed by b's features");

    // A new dependency of common, which a reaches: the skeleton changes.
    p.edit(
        "common/Cargo.toml",
        "cfg-if = \"1\"\n",
        "cfg-if = \"1\"\neither = \"1\"\n",
    );
    p.cargo(&["update", "-w"]).assert_ok("cargo update -w");
    let (d3, s3) = p.prepare_as("skel-3", &["--bin", "a"]);
    assert_ne!(
        d0, d3,
        "`--bin a` digest unchanged by a dependency of common"
    );
    let lock = skeleton_file(&s3, "Cargo.lock");
    assert!(lock.contains("name = \"either\""), "{lock}");
    let out = prebuild(p.root(), ["diff".as_ref(), s0.as_os_str(), s3.as_os_str()]);
    out.assert_code(1, "diff of differing skeletons");
    assert!(
        out.stdout_str().contains("either"),
        "diff does not name the new dependency\n{}",
        out.describe()
    );
}
