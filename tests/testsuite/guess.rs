//! prepare's head start: while `cargo metadata` runs, the skeleton is derived from a
//! workspace model guessed from the manifests, and kept only when the guess equals cargo's
//! model. Whatever the guess, the skeleton must be the one derived from cargo's model alone.

use cargo_prebuild::skeleton::{self, PrepareOptions};

use crate::support::*;

/// What prepare did with its guess, from its `-v` output.
#[derive(Debug, PartialEq)]
enum Guess {
    Used,
    Discarded,
    None,
}

/// Runs `prepare -v --dry-run` and checks its digest against the derivation from
/// `cargo metadata` alone (in-process, no guess); returns what became of the guess.
fn prepare_against_metadata(p: &Project) -> Guess {
    let out = prebuild(p.root(), ["prepare", "-v", "--dry-run"]);
    out.assert_ok("prepare --dry-run");
    let stdout = out.stdout_str();
    let digest = stdout.lines().last().unwrap_or_default().to_string();
    assert!(is_digest(&digest), "no digest in {stdout:?}");

    let reference = skeleton::derive(&PrepareOptions {
        manifest_path: Some(p.path("Cargo.toml")),
        ..PrepareOptions::default()
    })
    .unwrap_or_else(|e| panic!("derive from cargo metadata: {e:#}"));
    assert_eq!(
        digest,
        reference.skeleton.digest(),
        "prepare's skeleton differs from the one derived from cargo metadata alone\n{}",
        out.describe()
    );

    let stderr = out.stderr_str();
    if stderr.contains("Guessed the workspace model from the manifests: used") {
        Guess::Used
    } else if stderr.contains("Guessed a workspace model unlike cargo's: discarded") {
        Guess::Discarded
    } else {
        Guess::None
    }
}

const LIB: &str = "pub fn f() {}\n";
const MAIN: &str = "fn main() {}\n";

/// The shapes real workspaces have: globs and explicit members, excluded directories,
/// inherited versions and dependencies (renamed, with paths), proc-macro and cdylib crates,
/// bins in `src/bin`, build scripts, dev- and target-specific dependencies, `links`.
#[test]
fn guess_matches_cargo_on_common_shapes() {
    let p = project()
        .file(
            "Cargo.toml",
            r#"[workspace]
resolver = "2"
members = ["crates/*", "tools/cli"]
exclude = ["crates/old"]

[workspace.package]
version = "1.2.3"
edition = "2021"

[workspace.dependencies]
core-x = { path = "crates/core" }
macros = { path = "crates/macros" }
"#,
        )
        .file(
            "crates/core/Cargo.toml",
            "[package]\nname = \"core-x\"\nversion.workspace = true\nedition.workspace = true\nlinks = \"corex\"\nbuild = \"build.rs\"\n\n[build-dependencies]\nmacros.workspace = true\n",
        )
        .file("crates/core/src/lib.rs", LIB)
        .file("crates/core/build.rs", MAIN)
        .file(
            "crates/macros/Cargo.toml",
            "[package]\nname = \"macros\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n",
        )
        .file("crates/macros/src/lib.rs", LIB)
        .file(
            "crates/ffi/Cargo.toml",
            "[package]\nname = \"ffi\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\", \"rlib\"]\ntest = false\n\n[features]\nfast = []\n\n[[bench]]\nname = \"speed\"\nharness = false\nrequired-features = [\"fast\"]\n\n[dependencies]\ncorelib = { path = \"../core\", package = \"core-x\" }\n\n[target.'cfg(unix)'.dependencies]\nmacros = { path = \"../macros\" }\n\n[dev-dependencies]\nmacros.workspace = true\n",
        )
        .file("crates/ffi/src/lib.rs", LIB)
        .file("crates/old/Cargo.toml", "[package]\nname = \"old\"\nversion = \"0.1.0\"\n")
        .file("crates/old/src/lib.rs", LIB)
        .file(
            "tools/cli/Cargo.toml",
            "[package]\nname = \"cli\"\nversion.workspace = true\nedition.workspace = true\n\n[dependencies]\ncore-x.workspace = true\n\n[[bin]]\nname = \"extra\"\npath = \"extra.rs\"\n\n[[bin]]\nname = \"cli-main\"\npath = \"src/main.rs\"\n",
        )
        .file("tools/cli/src/main.rs", MAIN)
        .file("tools/cli/src/bin/one.rs", MAIN)
        .file("tools/cli/src/bin/two/main.rs", MAIN)
        .file("tools/cli/extra.rs", MAIN)
        .file("tools/cli/tests/smoke.rs", LIB)
        .file("tools/cli/tests/multi/main.rs", MAIN)
        .file("tools/cli/examples/demo.rs", MAIN)
        .file("crates/macros/tests/expand.rs", LIB)
        .file("crates/ffi/benches/speed.rs", MAIN)
        .build();
    assert_eq!(prepare_against_metadata(&p), Guess::Used);
}

/// A root package whose path dependency is a member only by being inside the root.
#[test]
fn guess_matches_cargo_on_a_root_package_with_implicit_members() {
    let p = project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[dependencies]\nutil = { path = \"libs/util\" }\n",
        )
        .file("src/main.rs", MAIN)
        .file(
            "libs/util/Cargo.toml",
            "[package]\nname = \"util\"\nversion = \"0.2.0\"\nedition = \"2021\"\n",
        )
        .file("libs/util/src/lib.rs", LIB)
        .build();
    assert_eq!(prepare_against_metadata(&p), Guess::Used);
}

#[test]
fn guess_matches_cargo_on_a_single_package() {
    let p = project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"solo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .file("src/main.rs", MAIN)
        .file("src/lib.rs", LIB)
        .build();
    assert_eq!(prepare_against_metadata(&p), Guess::Used);
}

/// In edition 2015 an explicit `[[example]]` turns off example discovery, which the guess
/// does not model: its model has an ungated example too many, whose stub would build the
/// package's examples without `required-features`. It must be discarded, not used.
#[test]
fn a_wrong_guess_is_discarded() {
    let p = project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2015\"\n\n[features]\nslow = []\n\n[[example]]\nname = \"gated\"\npath = \"examples/gated.rs\"\nrequired-features = [\"slow\"]\n",
        )
        .file("src/main.rs", MAIN)
        .file("examples/gated.rs", MAIN)
        .file("examples/free.rs", MAIN)
        .build();
    assert_eq!(prepare_against_metadata(&p), Guess::Discarded);
}

/// Out-of-root path dependencies are loaded through their own workspace: no guess at all.
#[test]
fn no_guess_for_out_of_root_path_dependencies() {
    let p = project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nshared = { path = \"../shared\" }\n",
        )
        .file("src/main.rs", MAIN)
        .file(
            "../shared/Cargo.toml",
            "[package]\nname = \"shared\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .file("../shared/src/lib.rs", LIB)
        .build();
    assert_eq!(prepare_against_metadata(&p), Guess::None);
}
