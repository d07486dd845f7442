//! Minimal key: the skeleton (and so the Docker cache key) changes exactly when something that
//! affects dependency compilation changes, and stays byte-identical otherwise.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::support::*;

/// The key-base fixture with a lockfile resolved once for the whole run.
fn base() -> Project {
    static LOCK: OnceLock<String> = OnceLock::new();
    let lock = LOCK.get_or_init(|| project().fixture("key-base").build().read("Cargo.lock"));
    project()
        .fixture("key-base")
        .file("Cargo.lock", lock)
        .no_lockfile()
        .build()
}

fn key(p: &Project, name: &str) -> (String, BTreeMap<String, Node>) {
    let skel = p.sandbox().join(name);
    let digest = p.prepare(&skel);
    (digest, listing(&skel))
}

/// The key before and after `edit`, on the base fixture as `setup` left it.
fn keys(
    setup: impl FnOnce(&Project),
    edit: impl FnOnce(&Project),
) -> [(String, BTreeMap<String, Node>); 2] {
    let p = base();
    setup(&p);
    let before = key(&p, "skel-before");
    edit(&p);
    [before, key(&p, "skel-after")]
}

fn assert_unchanged_given(setup: impl FnOnce(&Project), what: &str, edit: impl FnOnce(&Project)) {
    let [(d0, l0), (d1, l1)] = keys(setup, edit);
    assert_same_tree(&l0, &l1, &format!("skeleton after {what}"));
    assert_eq!(
        d0, d1,
        "digest changed after {what} although the skeleton did not"
    );
}

fn assert_changed_given(setup: impl FnOnce(&Project), what: &str, edit: impl FnOnce(&Project)) {
    let [(d0, l0), (d1, l1)] = keys(setup, edit);
    assert_ne!(l0, l1, "skeleton unchanged after {what}");
    assert_ne!(d0, d1, "digest unchanged after {what}");
}

fn assert_unchanged(what: &str, edit: impl FnOnce(&Project)) {
    assert_unchanged_given(|_| {}, what, edit);
}

fn assert_changed(what: &str, edit: impl FnOnce(&Project)) {
    assert_changed_given(|_| {}, what, edit);
}

#[test]
fn unchanged_by_rust_source_edits() {
    assert_unchanged("editing .rs files", |p| {
        p.edit("src/main.rs", "keyapp {}", "keyapp edited {}");
        p.edit("crates/keycore/src/lib.rs", "{ 1 }", "{ 100 }");
    });
}

#[test]
fn unchanged_by_root_version_bump_with_generate_lockfile() {
    assert_unchanged("bumping the root package version", |p| {
        p.edit("Cargo.toml", "version = \"1.2.3\"", "version = \"1.3.0\"");
        p.cargo(&["generate-lockfile", "--offline"])
            .assert_ok("cargo generate-lockfile --offline");
        assert!(
            p.read("Cargo.lock").contains("1.3.0"),
            "lockfile not updated"
        );
    });
}

#[test]
fn unchanged_by_member_version_bump_with_update() {
    assert_unchanged("bumping a member version via [workspace.package]", |p| {
        p.edit("Cargo.toml", "version = \"0.4.0\"", "version = \"0.4.9\"");
        p.cargo(&["update", "-w", "--offline"])
            .assert_ok("cargo update -w --offline");
        assert!(
            p.read("Cargo.lock").contains("0.4.9"),
            "lockfile not updated"
        );
    });
}

#[test]
fn unchanged_by_description_authors_keywords() {
    assert_unchanged("editing description/authors/keywords", |p| {
        p.edit(
            "Cargo.toml",
            "The application of the key-base fixture",
            "Something else entirely",
        );
        p.edit(
            "Cargo.toml",
            "[\"Alice <alice@example.com>\"]",
            "[\"Bob <bob@example.com>\", \"Eve\"]",
        );
        p.edit("Cargo.toml", "[\"fixture\", \"cache\"]", "[\"other\"]");
    });
}

#[test]
fn unchanged_by_readme_and_license() {
    assert_unchanged("editing readme/license", |p| {
        p.edit(
            "Cargo.toml",
            "readme = \"README.md\"",
            "readme = \"docs/INTRO.md\"",
        );
        p.write("docs/INTRO.md", "# intro\n");
        p.edit(
            "Cargo.toml",
            "license = \"MIT\"\n\n[package.metadata",
            "license = \"MIT OR Apache-2.0\"\n\n[package.metadata",
        );
        p.edit(
            "Cargo.toml",
            "license = \"MIT\"",
            "license = \"Apache-2.0\"",
        );
    });
}

#[test]
fn unchanged_by_workspace_package_metadata() {
    assert_unchanged("adding metadata fields to [workspace.package]", |p| {
        p.edit(
            "Cargo.toml",
            "[workspace.package]\n",
            "[workspace.package]\nrepository = \"https://example.com/r\"\nhomepage = \"https://example.com\"\ndescription = \"ws\"\n",
        );
    });
}

#[test]
fn unchanged_by_package_metadata() {
    assert_unchanged("editing [package.metadata]", |p| {
        p.edit(
            "Cargo.toml",
            "all-features = true",
            "all-features = false\nrustdoc-args = [\"--cfg\", \"docsrs\"]",
        );
        p.edit(
            "Cargo.toml",
            "[lints.rust]",
            "[package.metadata.custom]\nanswer = 42\n\n[lints.rust]",
        );
    });
}

#[test]
fn unchanged_by_lints() {
    assert_unchanged("editing [lints]", |p| {
        p.edit(
            "Cargo.toml",
            "unused = \"warn\"",
            "unused = \"allow\"\n\n[lints.clippy]\npedantic = \"warn\"",
        );
    });
}

#[test]
fn unchanged_by_comments() {
    assert_unchanged("adding comments", |p| {
        let body = p.read("Cargo.toml");
        let commented: String = body
            .lines()
            .map(|l| {
                if l.starts_with('[') || l.is_empty() {
                    format!("{l}\n# a comment line\n")
                } else {
                    format!("{l} # trailing comment\n")
                }
            })
            .collect();
        p.write("Cargo.toml", &commented);
        let member = p.read("crates/keycore/Cargo.toml");
        p.write(
            "crates/keycore/Cargo.toml",
            &format!("# member comment\n{member}# end\n"),
        );
    });
}

#[test]
fn unchanged_by_whitespace_formatting() {
    assert_unchanged("reformatting whitespace", |p| {
        let body = p.read("Cargo.toml");
        let reformatted: String = body
            .lines()
            .map(|l| {
                let l = l
                    .replacen(" = ", "   =   ", 1)
                    .replace("{ ", "{")
                    .replace(" }", "}");
                if l.starts_with('[') {
                    format!("\n\n{l}\n")
                } else if l.is_empty() {
                    String::new()
                } else {
                    format!("  {l}\n")
                }
            })
            .collect();
        p.write("Cargo.toml", &reformatted);
    });
}

#[test]
fn unchanged_by_string_quoting_style() {
    assert_unchanged("switching to literal strings", |p| {
        p.edit(
            "Cargo.toml",
            "smallvec = { version = \"1\", features = [\"union\"] }",
            "smallvec = { version = '1', features = ['union'] }",
        );
    });
}

/// The key-base fixture with one target of each kind beside its bin: a second target of a
/// kind a package already has must not change the skeleton.
fn with_every_kind(p: &Project) {
    p.write("tests/smoke.rs", "#[test]\nfn smoke() {}\n");
    p.write("examples/demo.rs", "fn main() {}\n");
    p.write("benches/speed.rs", "fn main() {}\n");
    p.write("crates/keycore/benches/a.rs", "fn main() {}\n");
}

#[test]
fn unchanged_by_second_bin() {
    assert_unchanged("adding src/bin/extra.rs", |p| {
        p.write("src/bin/extra.rs", "fn main() { println!(\"extra\"); }\n");
    });
}

#[test]
fn unchanged_by_second_test_file() {
    assert_unchanged_given(with_every_kind, "adding tests/extra.rs", |p| {
        p.write("tests/extra.rs", "#[test]\nfn extra() {}\n");
    });
}

#[test]
fn unchanged_by_second_example_file() {
    assert_unchanged_given(with_every_kind, "adding examples/extra.rs", |p| {
        p.write("examples/extra/main.rs", "fn main() {}\n");
    });
}

#[test]
fn unchanged_by_second_bench_file() {
    assert_unchanged_given(with_every_kind, "adding benches/extra.rs", |p| {
        p.write("benches/extra.rs", "fn main() {}\n");
        p.write("crates/keycore/benches/b.rs", "fn main() {}\n");
    });
}

/// A package's first test (or example, bench) can change which units `cargo test` and
/// `--all-targets` build (its dev-dependencies, a profile's `panic` for the bins it runs),
/// so it is a change of the key, like a dependency.
#[test]
fn changed_by_first_test_example_or_bench() {
    assert_changed("adding the first test", |p| {
        p.write("tests/smoke.rs", "#[test]\nfn smoke() {}\n");
    });
    assert_changed("adding the first example", |p| {
        p.write("examples/demo.rs", "fn main() {}\n");
    });
    assert_changed("adding the first bench", |p| {
        p.write("crates/keycore/benches/a.rs", "fn main() {}\n");
    });
}

/// `required-features` decide whether cargo builds a target at all.
#[test]
fn changed_by_required_features_of_a_target() {
    let with_feature = |p: &Project| {
        let manifest = p.read("Cargo.toml");
        p.write("Cargo.toml", &format!("{manifest}\n[features]\ncli = []\n"));
    };
    assert_changed_given(with_feature, "gating the bin behind a feature", |p| {
        let manifest = p.read("Cargo.toml");
        p.write(
            "Cargo.toml",
            &format!("{manifest}\n[[bin]]\nname = \"keyapp\"\npath = \"src/main.rs\"\nrequired-features = [\"cli\"]\n"),
        );
    });
}

#[test]
fn changed_by_new_dependency() {
    assert_changed("adding a dependency", |p| {
        p.edit(
            "crates/keycore/Cargo.toml",
            "cfg-if = \"1\"",
            "cfg-if = \"1\"\neither = \"1\"",
        );
        p.cargo(&["update", "-w"]).assert_ok("cargo update -w");
        assert!(
            p.read("Cargo.lock").contains("name = \"either\""),
            "lockfile not updated"
        );
    });
}

#[test]
fn changed_by_dependency_features() {
    assert_changed("changing a dependency's features", |p| {
        p.edit(
            "Cargo.toml",
            "features = [\"union\"]",
            "features = [\"union\", \"const_generics\"]",
        );
    });
}

#[test]
fn changed_by_profile_setting() {
    assert_changed("changing [profile.release]", |p| {
        p.edit("Cargo.toml", "opt-level = 3", "opt-level = 2");
    });
}
