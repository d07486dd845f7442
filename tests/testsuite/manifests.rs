//! Manifest constructs real workspaces use, cooked then built for real through the one runner
//! (`support::e2e`): keys cargo does not know yet, `[lints]`, `cargo-features`, edition 2024
//! and resolver 3, build scripts with `links`, every crate kind, `harness = false`, `no_std`
//! beside std crates, and profile overrides for dependencies.

use std::collections::BTreeSet;
use std::fs;
use std::process::Command;

use cargo_prebuild::skeleton::stubs::{BUILD_PATH, STUB_DIR};

use crate::support::*;

/// Keys cargo does not know (yet) pass through to the skeleton; `[lints]` and
/// `[workspace.lints]` with `deny`/`forbid` lints that a stub would violate
/// (`unused_crate_dependencies`: stubs use no dependency) are dropped, so cook succeeds.
#[test]
fn unknown_keys_kept_and_lints_dropped() {
    let p = project()
        .file(
            "Cargo.toml",
            r#"[workspace]
members = ["app", "lib"]
resolver = "2"
future-workspace-key = "kept-ws-7"

[workspace.lints.rust]
unsafe_code = "forbid"
missing_docs = "deny"
unused_crate_dependencies = "deny"

[future-root-table]
answer = "kept-root-8"
"#,
        )
        .file(
            "lib/Cargo.toml",
            r#"[package]
name = "lintlib"
version = "0.1.0"
edition = "2021"
future-package-key = "kept-pkg-9"

[dependencies]
itoa = { version = "1", future-dep-key = "kept-dep-10" }

[lints]
workspace = true

[future-package-table]
nested = { deep = "kept-table-11" }
"#,
        )
        .file(
            "lib/src/lib.rs",
            "//! A documented library.\n\n/// Formats a number.\npub fn show(n: u32) -> String {\n    itoa::Buffer::new().format(n).to_string()\n}\n",
        )
        .file(
            "app/Cargo.toml",
            r#"[package]
name = "lintapp"
version = "0.1.0"
edition = "2021"

[dependencies]
lintlib = { path = "../lib" }
either = "1"

[lints.rust]
missing_docs = "deny"
unused_crate_dependencies = "deny"
unsafe_code = "forbid"
"#,
        )
        .file(
            "app/src/main.rs",
            "//! The app.\n\nfn main() {\n    let e: either::Either<u32, u32> = either::Either::Left(3);\n    println!(\"lints {}\", lintlib::show(e.into_inner()));\n}\n",
        )
        .build();
    // The lints bite real code that breaks them: they are in effect.
    let out = e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder])
        .local(&["lintlib", "lintapp"])
        .bin("lintapp", "lints 3")
        .run();
    let root = skeleton_file(&out.skeleton, "Cargo.toml");
    let lib = skeleton_file(&out.skeleton, "lib/Cargo.toml");
    let app = skeleton_file(&out.skeleton, "app/Cargo.toml");
    for (text, needles) in [
        (
            &root,
            &[
                "future-workspace-key",
                "kept-ws-7",
                "future-root-table",
                "kept-root-8",
            ][..],
        ),
        (
            &lib,
            &[
                "future-package-key",
                "kept-pkg-9",
                "future-dep-key",
                "kept-dep-10",
                "future-package-table",
                "kept-table-11",
            ][..],
        ),
    ] {
        for needle in needles {
            assert!(
                text.contains(needle),
                "unknown key/value `{needle}` dropped from the skeleton manifest:\n{text}"
            );
        }
    }
    for (name, text) in [("root", &root), ("lib", &lib), ("app", &app)] {
        assert!(
            !text.contains("lints") && !text.contains("unused_crate_dependencies"),
            "{name} skeleton manifest keeps lints:\n{text}"
        );
        // cargo deprecates `edition` on targets: the skeleton must not add it.
        for table in ["[lib]", "[[bin]]", "[[test]]", "[[example]]", "[[bench]]"] {
            if let Some(at) = text.find(table) {
                let body = &text[at + table.len()..];
                let end = body.find("\n[").unwrap_or(body.len());
                assert!(
                    !body[..end].contains("edition"),
                    "{name}: skeleton target {table} carries `edition`:\n{text}"
                );
            }
        }
    }

    // Negative control: with the lints kept, a stub breaks them.
    let stubbed = p.sandbox().join("lint-control");
    extract_tree(&out.skeleton, &stubbed);
    fs::write(
        stubbed.join("lib/Cargo.toml"),
        format!("{lib}\n[lints]\nworkspace = true\n"),
    )
    .unwrap();
    fs::write(
        stubbed.join("Cargo.toml"),
        format!("{root}\n[workspace.lints.rust]\nunused_crate_dependencies = \"deny\"\n"),
    )
    .unwrap();
    let control = cargo(&stubbed, ["build", "--offline"]);
    assert!(
        !control.status.success() && control.stderr_str().contains("is unused in crate"),
        "control: the stub should violate the deny lint\n{}",
        control.describe()
    );
}

/// `cargo generate-lockfile` as a user runs it in the planner: through the proxy, so a
/// toolchain file there decides (stable cannot read a nightly `cargo-features` manifest).
fn proxy_generate_lockfile(p: &Project) {
    let tools = install_tool(p.sandbox());
    run(proxy_cargo(p.root(), &tools).arg("generate-lockfile")).assert_ok("generate-lockfile");
    p.backdate();
}

/// `cargo-features` stays in the skeleton: here `profile-rustflags` (nightly, pinned by the
/// toolchain file) gives every package, dependencies included, a `--cfg`; a skeleton without
/// it would cook dependencies that the real build recompiles.
#[test]
fn cargo_features_kept() {
    let p = project()
        .file("rust-toolchain.toml", "[toolchain]\nchannel = \"nightly\"\n")
        .file(
            "Cargo.toml",
            r#"cargo-features = ["profile-rustflags"]

[package]
name = "featured"
version = "0.1.0"
edition = "2021"

[dependencies]
itoa = "1"

[profile.dev]
rustflags = ["--cfg", "from_profile_rustflags"]
"#,
        )
        .file(
            "src/main.rs",
            "#![allow(unexpected_cfgs)]\nfn main() {\n    println!(\"profile cfg {} {}\", cfg!(from_profile_rustflags), itoa::Buffer::new().format(4));\n}\n",
        )
        .no_lockfile()
        .build();
    proxy_generate_lockfile(&p);
    let out = e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder])
        .through_rustup_proxy()
        .local(&["featured"])
        .bin("featured", "profile cfg true 4")
        .run();
    let manifest = skeleton_file(&out.skeleton, "Cargo.toml");
    assert!(
        manifest.contains("cargo-features") && manifest.contains("profile-rustflags"),
        "cargo-features dropped:\n{manifest}"
    );
    assert!(
        manifest.contains("from_profile_rustflags"),
        "profile rustflags dropped:\n{manifest}"
    );
}

/// Edition 2024, `resolver = "3"`, a root that is both a package (without `version`) and the
/// workspace, `default-members`, and a nested workspace excluded from the root. The default
/// member uses memchr without `std`, a non-default member with it: cooking more than the
/// default members would unify `std` in and the real build would recompile memchr.
#[test]
fn edition_2024_resolver_3_root_package_default_members_nested_workspace() {
    let p = project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "rootpkg"
edition = "2024"

[dependencies]
memchr = { version = "2", default-features = false }
corelib = { path = "crates/corelib" }

[workspace]
resolver = "3"
members = ["crates/*"]
default-members = [".", "crates/corelib"]
exclude = ["nested"]

[workspace.dependencies]
itoa = "1"
"#,
        )
        .file(
            "src/main.rs",
            r#"fn main() {
    let found = memchr::memchr(b'c', b"abc");
    if let Some(at) = found
        && at == 2
    {
        println!("rootpkg 2024 at {} {}", at, corelib::describe());
    }
}
"#,
        )
        .file(
            "crates/corelib/Cargo.toml",
            "[package]\nname = \"corelib\"\nedition = \"2024\"\n\n[dependencies]\nitoa = { workspace = true }\n",
        )
        .file(
            "crates/corelib/src/lib.rs",
            "pub fn describe() -> String {\n    format!(\"corelib {}\", itoa::Buffer::new().format(24))\n}\n",
        )
        .file(
            "crates/extra/Cargo.toml",
            "[package]\nname = \"extra\"\nversion = \"0.3.0\"\nedition = \"2021\"\n\n[dependencies]\nmemchr = { version = \"2\", features = [\"std\"] }\n",
        )
        .file(
            "crates/extra/src/main.rs",
            "fn main() {\n    println!(\"{:?}\", memchr::memmem::find(b\"ab\", b\"b\"));\n}\n",
        )
        // Its own workspace, excluded: its dependency cannot even be resolved.
        .file(
            "nested/Cargo.toml",
            "[package]\nname = \"nested-tool\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nthis-crate-does-not-exist-cpb = \"9.9.9\"\n\n[workspace]\n",
        )
        .file("nested/src/main.rs", "fn main() {}\n")
        .build();
    let out = e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder, MtimePolicy::Earthly])
        .local(&["rootpkg", "corelib"])
        .bin("rootpkg", "rootpkg 2024 at 2 corelib 24")
        .run();
    let skel = out.skeleton;
    let files = skeleton_files(&skel);
    assert!(
        files.iter().all(|f| !f.starts_with("nested/")),
        "the excluded nested workspace is in the skeleton: {files:#?}"
    );
    let root = skeleton_file(&skel, "Cargo.toml");
    assert!(root.contains("default-members"), "{root}");
    // Resolver 3 differs from 2 only when resolving; with a lockfile the skeleton may say 2.
    assert!(
        root.contains("resolver = \"3\"") || root.contains("resolver = \"2\""),
        "{root}"
    );
}

// ---------------------------------------------------------------------------------------------
// Build scripts, crate kinds, no_std

/// A local build script with a registry and a local build-dependency and `links = "foo"`
/// (whose metadata a dependent's build script reads): the real scripts are compiled and run
/// in the real build, whatever the mtimes.
#[test]
fn build_scripts_links_and_local_build_dependency() {
    let p = project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"app\", \"sys\", \"buildhelp\"]\nresolver = \"2\"\n",
        )
        .file("buildhelp/Cargo.toml", &pkg("buildhelp", "itoa = \"1\"\n"))
        .file(
            "buildhelp/src/lib.rs",
            "pub fn stamp(n: u32) -> String {\n    format!(\"helper-{}\", itoa::Buffer::new().format(n))\n}\n",
        )
        .file(
            "sys/Cargo.toml",
            "[package]\nname = \"foo-sys\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlinks = \"foo\"\n\n[dependencies]\ncfg-if = \"1\"\n\n[build-dependencies]\nbuildhelp = { path = \"../buildhelp\" }\nsmallvec = \"1\"\n",
        )
        .file(
            "sys/build.rs",
            r#"fn main() {
    let v: smallvec::SmallVec<[u32; 2]> = smallvec::smallvec![7];
    println!("cargo:rustc-env=FROM_BUILD=real");
    println!("cargo:root={}", buildhelp::stamp(v[0]));
    println!("cargo:rerun-if-changed=build.rs");
}
"#,
        )
        .file(
            "sys/src/lib.rs",
            "pub fn from_build() -> &'static str {\n    env!(\"FROM_BUILD\")\n}\n",
        )
        .file(
            "app/Cargo.toml",
            &pkg(
                "linker",
                "foo-sys = { path = \"../sys\" }\nbuildhelp = { path = \"../buildhelp\" }\n",
            ),
        )
        .file(
            "app/build.rs",
            "fn main() {\n    println!(\"cargo:rustc-env=FOO_ROOT={}\", std::env::var(\"DEP_FOO_ROOT\").unwrap());\n}\n",
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    println!(\"FROM_BUILD={} root={} {}\", foo_sys::from_build(), env!(\"FOO_ROOT\"), buildhelp::stamp(1));\n}\n",
        )
        .build();
    let out = e2e(&p)
        .policies(&ALL_POLICIES)
        .local(&["linker", "foo-sys", "buildhelp"])
        .bin("linker", "FROM_BUILD=real root=helper-7 helper-1")
        .run();
    for built in &out.builds {
        let scripts: BTreeSet<String> = built
            .report
            .artifacts
            .iter()
            .filter(|a| a.local && a.kind == "custom-build" && !a.fresh)
            .map(|a| a.package.clone())
            .collect();
        assert_eq!(
            scripts,
            ["foo-sys".to_string(), "linker".to_string()].into(),
            "{:?}: real build scripts not compiled",
            built.policy
        );
    }
    let files = skeleton_files(&out.skeleton);
    // Stubs are shared at the top of the tree; the `links` package must point its build
    // script at the stub one.
    let sys = skeleton_file(&out.skeleton, "sys/Cargo.toml");
    assert!(
        files.contains(BUILD_PATH) && sys.contains(&format!("build = \"../{BUILD_PATH}\"")),
        "no stub build script for the `links` package: {files:#?}\n{sys}"
    );
}

fn crate_kinds() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"pm\", \"mixlib\", \"slib\", \"app\"]\nresolver = \"2\"\n",
        )
        .file(
            "pm/Cargo.toml",
            "[package]\nname = \"pm\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n",
        )
        .file(
            "pm/src/lib.rs",
            "use proc_macro::TokenStream;\n\n#[proc_macro]\npub fn real_macro(_: TokenStream) -> TokenStream {\n    \"\\\"real macro\\\"\".parse().unwrap()\n}\n",
        )
        .file(
            "mixlib/Cargo.toml",
            "[package]\nname = \"mixlib\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\", \"rlib\"]\n\n[dependencies]\nitoa = \"1\"\n",
        )
        .file(
            "mixlib/src/lib.rs",
            "pub fn answer() -> String {\n    itoa::Buffer::new().format(42).to_string()\n}\n\n#[no_mangle]\npub extern \"C\" fn mixlib_real_answer() -> u32 {\n    42\n}\n",
        )
        .file(
            "slib/Cargo.toml",
            "[package]\nname = \"slib\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"staticlib\"]\n\n[dependencies]\ncfg-if = \"1\"\n",
        )
        .file(
            "slib/src/lib.rs",
            "cfg_if::cfg_if! { if #[cfg(unix)] { const N: u32 = 7; } else { const N: u32 = 8; } }\n\n#[no_mangle]\npub extern \"C\" fn slib_real_answer() -> u32 {\n    N\n}\n",
        )
        .file(
            "app/Cargo.toml",
            "[package]\nname = \"kinds\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\npm = { path = \"../pm\" }\nmixlib = { path = \"../mixlib\" }\n\n[dev-dependencies]\neither = \"1\"\n\n[[test]]\nname = \"custom\"\nharness = false\n",
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    println!(\"{} {}\", pm::real_macro!(), mixlib::answer());\n}\n",
        )
        .file(
            "app/tests/custom.rs",
            "fn main() {\n    let e: either::Either<u8, u8> = either::Either::Right(1);\n    println!(\"custom harness {} {}\", mixlib::answer(), e.into_inner());\n}\n",
        )
        .build()
}

/// proc-macro, `cdylib` + `rlib`, `staticlib`: the shipped `.so` and `.a` are the real ones.
#[test]
fn crate_kinds_proc_macro_cdylib_staticlib() {
    let p = crate_kinds();
    let out = e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder, MtimePolicy::Earthly])
        .local(&["pm", "mixlib", "slib", "kinds"])
        .bin("kinds", "real macro 42")
        .run();
    for built in &out.builds {
        let files = artifact_files(&built.output);
        for (suffix, symbol) in [
            ("libmixlib.so", "mixlib_real_answer"),
            ("libslib.a", "slib_real_answer"),
        ] {
            let file = files
                .iter()
                .map(|(_, f)| f)
                .find(|f| f.to_string_lossy().ends_with(suffix))
                .unwrap_or_else(|| panic!("no {suffix} artifact: {files:#?}"));
            assert!(
                contains(&fs::read(file).unwrap(), symbol.as_bytes()),
                "{:?}: {} lacks the real symbol {symbol}",
                built.policy,
                file.display()
            );
        }
    }
}

/// A `harness = false` test built with `--tests` (dev-dependencies cooked too).
#[test]
fn harness_false_test_with_tests_flag() {
    let p = crate_kinds();
    e2e(&p)
        .flags(&["--tests"])
        .policies(&[MtimePolicy::PreserveOlder, MtimePolicy::Earthly])
        .local(&["pm", "mixlib", "slib", "kinds"])
        .exe("test:custom", Expect::Stdout("custom harness 42 1".into()))
        .exe("bin-test:kinds", Expect::TestsPass(Vec::new()))
        .exe("cdylib-test:mixlib", Expect::TestsPass(Vec::new()))
        .exe("staticlib-test:slib", Expect::TestsPass(Vec::new()))
        .exe("proc-macro-test:pm", Expect::TestsPass(Vec::new()))
        .bin("kinds", "real macro 42")
        .run();
}

/// A `#![no_std]` library beside std crates cooks on the host without any flag; every stub
/// gates `no_std` (and the bin's `no_main`/panic handler) on `target_os = "none"`, and compiles
/// that way.
#[test]
fn no_std_and_std_crates_mixed() {
    let p = project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"core-only\", \"app\"]\nresolver = \"2\"\n",
        )
        .file(
            "core-only/Cargo.toml",
            &pkg("core-only", "itoa = { version = \"1\", default-features = false }\n"),
        )
        .file(
            "core-only/src/lib.rs",
            "#![no_std]\n\npub fn digits(n: u32) -> usize {\n    itoa::Buffer::new().format(n).len()\n}\n",
        )
        .file(
            "app/Cargo.toml",
            &pkg("stdapp", "core-only = { path = \"../core-only\" }\neither = \"1\"\n"),
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    let e: either::Either<u32, u32> = either::Either::Left(1234);\n    println!(\"no_std digits {}\", core_only::digits(e.into_inner()));\n}\n",
        )
        .build();
    let out = e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder])
        .local(&["core-only", "stdapp"])
        .bin("stdapp", "no_std digits 4")
        .run();
    let stubs: Vec<String> = skeleton_files(&out.skeleton)
        .into_iter()
        .filter(|f| f.contains(&format!("{STUB_DIR}/")))
        .collect();
    assert!(stubs.len() >= 2, "{stubs:#?}");
    let scratch = out.tree.parent().unwrap().join("nostd-check");
    fs::create_dir_all(&scratch).unwrap();
    let tree = skeleton_tree(&out.skeleton);
    for stub in &stubs {
        let text = skeleton_file(&out.skeleton, stub);
        assert!(
            text.contains("cfg_attr(target_os = \"none\", no_std"),
            "{stub} is not no_std on bare metal:\n{text}"
        );
        // As a bare-metal target would see it (none is installed here): `target_os = "none"`.
        let kind = if stub.ends_with("main.rs") {
            "bin"
        } else {
            "lib"
        };
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let check = run(Command::new(rustc)
            .current_dir(&scratch)
            .args([
                "--edition",
                "2021",
                "--crate-type",
                kind,
                "--emit",
                "metadata",
            ])
            .args([
                "-A",
                "explicit_builtin_cfgs_in_flags",
                "--cfg",
                "target_os=\"none\"",
            ])
            // bare-metal targets abort on panic
            .args(["-C", "panic=abort"])
            .args(["--crate-name", "stubcheck", "-o"])
            .arg(scratch.join(format!("{kind}.rmeta")))
            .arg(tree.join(stub)));
        check.assert_ok(&format!("{stub} as a target_os = \"none\" crate"));
    }
}

/// Profile settings that shape dependency artifacts (`package."*"`, `build-override`, a
/// per-package override) pass through: the real build reuses what cook compiled.
#[test]
fn profile_overrides_for_dependencies() {
    let p = project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "profiled-deps"
version = "0.1.0"
edition = "2021"
build = "tools/gen.rs"
links = "gen"

[dependencies]
itoa = "1"

[build-dependencies]
cfg-if = "1"

[profile.dev.package."*"]
opt-level = 2
debug-assertions = false

[profile.dev.package.itoa]
overflow-checks = false

[profile.dev.build-override]
opt-level = 3
"#,
        )
        .file(
            "tools/gen.rs",
            "cfg_if::cfg_if! { if #[cfg(unix)] { const G: &str = \"unix\"; } else { const G: &str = \"other\"; } }\nfn main() {\n    println!(\"cargo:rustc-env=GEN={G}\");\n}\n",
        )
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"{} {}\", env!(\"GEN\"), itoa::Buffer::new().format(6));\n}\n",
        )
        .build();
    e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder, MtimePolicy::Earthly])
        .local(&["profiled-deps"])
        .bin("profiled-deps", "unix 6")
        .run();
}
