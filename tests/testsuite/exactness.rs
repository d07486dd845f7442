//! Exactness, judged by cargo's own unit graph: for each fixture and each flag set, the
//! external units (each with its dependencies) of the laid-out skeleton equal the real tree's. A unit
//! only the real tree has is compiled again after cook; one only the skeleton has is wasted
//! cook time.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use cargo_prebuild::units::UnitGraph;

use crate::support::unit_graph::{assert_same, at_real_path, unit_graph};
use crate::support::*;

/// A triple other than the host's: the unit graph needs no standard library for it.
const OTHER_TARGET: &str = "aarch64-unknown-linux-gnu";

/// The flag sets every fixture is judged under; `-p` sets are added per fixture.
fn flag_sets() -> Vec<Vec<&'static str>> {
    let sets: &[&[&str]] = &[
        &["build"],
        &["build", "--release"],
        &["build", "--release", "--workspace", "--all-features"],
        &["build", "--all-targets"],
        &["build", "--release", "--no-default-features"],
        &["test", "--no-run"],
        &["test", "--no-run", "--release", "--workspace"],
        &["build", "--target", OTHER_TARGET],
        &[
            "build",
            "--config",
            "profile.ci.inherits=\"release\"",
            "--profile",
            "ci",
        ],
        &["check"],
        &["check", "--all-targets"],
        &["clippy", "--all-targets"],
        &["doc"],
    ];
    sets.iter().map(|s| s.to_vec()).collect()
}

/// Prepares (optionally per image) and lays the skeleton out with `cook --no-build` in an
/// empty directory; returns the workspace directory of that layout.
fn lay_out(project: &Project, name: &str, prepare_args: &[&str]) -> PathBuf {
    let skel = project.sandbox().join(format!("skel-{name}"));
    let mut args: Vec<&OsStr> = vec!["prepare".as_ref(), "--skeleton".as_ref(), skel.as_ref()];
    args.extend(prepare_args.iter().map(OsStr::new));
    prebuild(project.root(), &args).assert_ok("prepare");
    let builder = project.sandbox().join(format!("builder-{name}"));
    std::fs::create_dir_all(&builder).unwrap();
    prebuild(
        &builder,
        [
            OsStr::new("cook"),
            "--skeleton".as_ref(),
            skel.as_os_str(),
            "--no-build".as_ref(),
        ],
    )
    .assert_ok("cook --no-build");
    // The oracle swaps the layout with the real workspace: both must be the tree's root.
    assert_eq!(skeleton_index(&skel)["workspace"], ".");
    // Before anything else runs cargo there: the skeleton's lockfile must be accepted as it
    // is (`cook --locked`), not repaired by an earlier command.
    cargo(&builder, ["metadata", "--locked", "--format-version", "1"])
        .assert_ok("cargo metadata --locked in the laid-out skeleton");
    builder
}

/// The graphs of `sets` in the real workspace, then in `layout` moved to its path.
fn graphs(project: &Project, layout: &Path, sets: &[Vec<&str>]) -> Vec<(UnitGraph, UnitGraph)> {
    let real: Vec<UnitGraph> = sets
        .iter()
        .map(|set| unit_graph(project.root(), set))
        .collect();
    let skeleton: Vec<UnitGraph> = at_real_path(project.root(), layout, |dir| {
        sets.iter().map(|set| unit_graph(dir, set)).collect()
    });
    real.into_iter().zip(skeleton).collect()
}

/// Judges the full skeleton under every flag set, and `--release -p <pkg>` on the full and the
/// per-image skeleton for each package in `per_image`.
fn judge(project: &Project, per_image: &[&str]) {
    let layout = lay_out(project, "full", &[]);
    let sets = flag_sets();
    for (set, (real, skeleton)) in sets.iter().zip(graphs(project, &layout, &sets)) {
        assert_same(&real, &skeleton, &format!("`cargo {}`", set.join(" ")));
    }
    for pkg in per_image {
        let set = vec!["build", "--release", "-p", pkg];
        let what = format!("`cargo {}`", set.join(" "));
        let (real, full) = graphs(project, &layout, std::slice::from_ref(&set)).remove(0);
        assert_same(&real, &full, &format!("{what} (full skeleton)"));
        let image = lay_out(project, pkg, &["-p", pkg]);
        let (real, pruned) = graphs(project, &image, &[set]).remove(0);
        assert_same(
            &real,
            &pruned,
            &format!("{what} (skeleton of `prepare -p {pkg}`)"),
        );
    }
}

/// (`fidelity-replace` needs files its own test generates; the replaced crate is judged by
/// `dependency_sources::replace_used_by_a_registry_crate`.)
#[test]
fn committed_fixtures() {
    for (fixture, per_image) in [
        ("dev-targets", &[][..]),
        ("inherit", &["server"][..]),
        ("key-base", &[][..]),
        ("fidelity-patch", &[][..]),
    ] {
        let p = project().fixture(fixture).build();
        judge(&p, per_image);
    }
}

/// A member `itoa 1.0.11` beside the registry's `itoa 1.0.11`: cargo writes the member's
/// reference as plain `"itoa 1.0.11"`, meaning the path package.
#[test]
fn member_with_a_registry_packages_name_and_version() {
    let p = project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"app\", \"itoa\"]\nresolver = \"2\"\n",
        )
        .file(
            "app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = { path = \"../itoa\" }\nitoa-reg = { package = \"itoa\", version = \"=1.0.11\" }\n",
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    println!(\"{} {}\", itoa::local(), itoa_reg::Buffer::new().format(1));\n}\n",
        )
        .file(
            "itoa/Cargo.toml",
            "[package]\nname = \"itoa\"\nversion = \"1.0.11\"\nedition = \"2021\"\n",
        )
        .file("itoa/src/lib.rs", "pub fn local() -> &'static str {\n    \"local\"\n}\n")
        .build();
    assert!(p.read("Cargo.lock").contains(" \"itoa 1.0.11\",\n"));
    judge(&p, &["app"]);
}

/// Each kind of target a package has, with the attributes that decide its units: a
/// proc-macro with its own test and dev-dependency, a package whose test has no
/// dev-dependencies under `panic = "abort"`, a lib that is never tested, and targets gated by
/// `required-features`.
#[test]
fn stubs_mirror_the_target_kinds() {
    let p = project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"pm\", \"tool\", \"quiet\", \"gated\"]\nresolver = \"2\"\n\n[profile.dev]\npanic = \"abort\"\n\n[profile.release]\npanic = \"abort\"\n",
        )
        .file(
            "pm/Cargo.toml",
            "[package]\nname = \"pm\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n\n[dev-dependencies]\nitoa = \"1\"\n",
        )
        .file("pm/src/lib.rs", "")
        .file("pm/tests/expand.rs", "#[test]\nfn t() {\n    let _ = itoa::Buffer::new();\n}\n")
        .file(
            "tool/Cargo.toml",
            "[package]\nname = \"tool\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsmallvec = \"1\"\npm = { path = \"../pm\" }\n\n[[test]]\nname = \"cli\"\n",
        )
        .file("tool/src/main.rs", "fn main() {\n    let _v: smallvec::SmallVec<[u8; 1]> = smallvec::SmallVec::new();\n}\n")
        .file("tool/tests/cli.rs", "#[test]\nfn runs() {}\n")
        .file(
            "quiet/Cargo.toml",
            "[package]\nname = \"quiet\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\ntest = false\ndoctest = false\nbench = false\n\n[dependencies]\ncfg-if = \"1\"\n\n[dev-dependencies]\nstatic_assertions = \"1\"\n",
        )
        .file("quiet/src/lib.rs", "")
        .file(
            "gated/Cargo.toml",
            "[package]\nname = \"gated\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[features]\nslow = []\n\n[dependencies]\nitoa = \"1\"\n\n[dev-dependencies]\neither = \"1\"\n\n[lib]\ntest = false\ndoctest = false\n\n[[test]]\nname = \"heavy\"\nrequired-features = [\"slow\"]\n\n[[bench]]\nname = \"speed\"\nharness = false\nrequired-features = [\"slow\"]\n\n[[example]]\nname = \"demo\"\nrequired-features = [\"slow\"]\n",
        )
        .file("gated/src/lib.rs", "")
        .file("gated/tests/heavy.rs", "")
        .file("gated/benches/speed.rs", "fn main() {}\n")
        .file("gated/examples/demo.rs", "fn main() {}\n")
        .build();
    judge(&p, &["tool"]);
}

/// A root manifest that is also a package inheriting from `[workspace.package]`, and
/// `prepare -p` of a member that does not reach it.
#[test]
fn per_image_skeleton_beside_a_root_package() {
    let p = project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.package]\nedition = \"2021\"\nversion = \"0.2.0\"\n\n[package]\nname = \"root-app\"\nedition.workspace = true\nversion.workspace = true\n\n[[bin]]\nname = \"root-app\"\npath = \"src/app.rs\"\n\n[dependencies]\neither = \"1\"\n",
        )
        .file("src/app.rs", "fn main() {}\n")
        .file(
            "crates/a/Cargo.toml",
            "[package]\nname = \"a\"\nedition.workspace = true\nversion.workspace = true\n\n[dependencies]\nitoa = \"1\"\nb = { path = \"../b\" }\n",
        )
        .file("crates/a/src/main.rs", "fn main() {}\n")
        .file(
            "crates/b/Cargo.toml",
            "[package]\nname = \"b\"\nedition.workspace = true\nversion.workspace = true\n\n[dependencies]\ncfg-if = \"1\"\n",
        )
        .file("crates/b/src/lib.rs", "")
        .build();
    judge(&p, &["a", "b"]);
}

/// cargo-hakari's layout (and tokio's: its crates patched over crates.io): a member patched
/// over crates.io, inheriting its edition, version and lints from the workspace, also when
/// `prepare -p` prunes it.
#[test]
fn patched_member_inheriting_from_the_workspace() {
    let p = project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"app\", \"other\", \"workspace-hack\"]\nresolver = \"2\"\n\n[workspace.package]\nedition = \"2021\"\nversion = \"0.1.0\"\ndescription = \"inherited\"\n\n[workspace.lints.rust]\nunsafe_code = \"forbid\"\n\n[patch.crates-io]\nworkspace-hack = { path = \"workspace-hack\" }\n",
        )
        .file(
            "app/Cargo.toml",
            "[package]\nname = \"app\"\nedition.workspace = true\nversion.workspace = true\n\n[dependencies]\nworkspace-hack = { version = \"0.1\", path = \"../workspace-hack\" }\nitoa = \"1\"\n",
        )
        .file("app/src/main.rs", "fn main() {}\n")
        .file(
            "workspace-hack/Cargo.toml",
            "[package]\nname = \"workspace-hack\"\nedition.workspace = true\nversion.workspace = true\ndescription.workspace = true\n\n[lints]\nworkspace = true\n\n[dependencies]\nsmallvec = { version = \"1\", features = [\"union\"] }\n",
        )
        .file("workspace-hack/src/lib.rs", "")
        .file(
            "other/Cargo.toml",
            "[package]\nname = \"other\"\nedition.workspace = true\nversion.workspace = true\n\n[dependencies]\ncfg-if = \"1\"\n",
        )
        .file("other/src/main.rs", "fn main() {}\n")
        .build();
    // `-p other` prunes the patched member, which the skeleton still carries verbatim.
    judge(&p, &["app", "other"]);
}

/// An example with `doc-scrape-examples = true` makes `cargo doc` resolve features with
/// dev-dependencies (bevy); `cargo metadata` does not say so, the manifest does.
#[test]
fn scraped_example_unifies_dev_features_for_doc() {
    let p = project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsmallvec = \"1\"\n\n[dev-dependencies]\nsmallvec = { version = \"1\", features = [\"union\"] }\n\n[[example]]\nname = \"demo\"\ndoc-scrape-examples = true\n",
        )
        .file("src/lib.rs", "")
        .file("examples/demo.rs", "fn main() {}\n")
        .build();
    judge(&p, &[]);
}

/// `resolver` in the root `[package]` of a workspace (gitoxide): cargo refuses it in both
/// places, so the skeleton writes it where the manifest has it.
#[test]
fn resolver_in_the_root_package() {
    let p = project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\nresolver = \"2\"\n\n[workspace]\nmembers = [\"b\"]\n\n[dependencies]\nb = { path = \"b\" }\n",
        )
        .file("src/main.rs", "fn main() {}\n")
        .file(
            "b/Cargo.toml",
            "[package]\nname = \"b\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"1\"\n",
        )
        .file("b/src/lib.rs", "")
        .build();
    judge(&p, &["b"]);
}
