//! Every workspace shape, cooked then built for real (`support::e2e`): prepare -> cook in a
//! fresh builder -> copy the real tree under each mtime policy -> the real build compiles no
//! external package, every local package, and every binary is the real one.

use crate::support::*;

#[test]
fn single_bin() {
    let p = project()
        .file("Cargo.toml", &pkg("hello", "itoa = \"1\"\n"))
        .file(
            "src/main.rs",
            r#"fn main() {
    let mut buf = itoa::Buffer::new();
    println!("hello {}", buf.format(42));
}
"#,
        )
        .build();
    e2e(&p).local(&["hello"]).bin("hello", "hello 42").run();
}

fn lib_and_bin() -> Project {
    project()
        .file(
            "Cargo.toml",
            &pkg("mixed", "smallvec = \"1\"\nitoa = \"1\"\n"),
        )
        .file(
            "src/lib.rs",
            r#"use smallvec::SmallVec;

pub fn greet() -> String {
    let v: SmallVec<[u32; 4]> = (1..=3).collect();
    let mut buf = itoa::Buffer::new();
    format!("mixed lib sum {}", buf.format(v.iter().sum::<u32>()))
}
"#,
        )
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"{}\", mixed::greet());\n}\n",
        )
        .build()
}

#[test]
fn lib_and_bin_release() {
    let p = lib_and_bin();
    e2e(&p)
        .flags(&["--release"])
        .local(&["mixed"])
        .bin("mixed", "mixed lib sum 6")
        .run();
}

#[test]
fn build_script_with_build_dependency() {
    let p = project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "gen"
version = "0.1.0"
edition = "2021"

[dependencies]
cfg-if = "1"

[build-dependencies]
itoa = "1"
"#,
        )
        .file(
            "build.rs",
            r#"use std::{env, fs, path::Path};

fn main() {
    let mut buf = itoa::Buffer::new();
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("generated.rs");
    fs::write(&out, format!("pub const ANSWER: &str = \"{}\";\n", buf.format(6 * 7))).unwrap();
    println!("cargo:rustc-env=GEN_FLAVOUR=real-build-script");
    println!("cargo:rerun-if-changed=build.rs");
}
"#,
        )
        .file(
            "src/main.rs",
            r#"include!(concat!(env!("OUT_DIR"), "/generated.rs"));

fn main() {
    cfg_if::cfg_if! {
        if #[cfg(unix)] {
            println!("answer {} on unix from {}", ANSWER, env!("GEN_FLAVOUR"));
        } else {
            println!("answer {} elsewhere from {}", ANSWER, env!("GEN_FLAVOUR"));
        }
    }
}
"#,
        )
        .build();
    e2e(&p)
        .local(&["gen"])
        .bin("gen", "answer 42 on unix from real-build-script")
        .run();
}

#[test]
fn local_proc_macro() {
    let p = project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "app"
version = "0.1.0"
edition = "2021"

[workspace]
members = ["macros"]

[dependencies]
macros = { path = "macros" }
itoa = "1"
"#,
        )
        .file(
            "macros/Cargo.toml",
            "[package]\nname = \"macros\"\nversion = \"0.2.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n",
        )
        .file(
            "macros/src/lib.rs",
            r#"use proc_macro::TokenStream;

#[proc_macro]
pub fn answer(_input: TokenStream) -> TokenStream {
    "\"from the real macro\"".parse().unwrap()
}
"#,
        )
        .file(
            "src/main.rs",
            r#"fn main() {
    let mut buf = itoa::Buffer::new();
    println!("{} {}", macros::answer!(), buf.format(1));
}
"#,
        )
        .build();
    e2e(&p)
        .local(&["app", "macros"])
        .bin("app", "from the real macro 1")
        .run();
}

fn virtual_workspace() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/base\", \"crates/util\", \"apps/cli\"]\nresolver = \"2\"\n",
        )
        .file("crates/base/Cargo.toml", &pkg("base", "itoa = \"1\"\n"))
        .file(
            "crates/base/src/lib.rs",
            "pub fn base(n: u32) -> String {\n    format!(\"base({})\", itoa::Buffer::new().format(n))\n}\n",
        )
        .file(
            "crates/util/Cargo.toml",
            &pkg("util", "base = { path = \"../base\", version = \"0.1\" }\ncfg-if = \"1\"\n"),
        )
        .file(
            "crates/util/src/lib.rs",
            "pub fn describe(n: u32) -> String {\n    format!(\"util({})\", base::base(n))\n}\n",
        )
        .file(
            "apps/cli/Cargo.toml",
            &pkg(
                "cli",
                "util = { path = \"../../crates/util\" }\nbase = { path = \"../../crates/base\" }\neither = \"1\"\n",
            ),
        )
        .file(
            "apps/cli/src/main.rs",
            r#"fn main() {
    let e: either::Either<u32, String> = either::Either::Left(7);
    let n = e.left().unwrap();
    println!("cli: {} {}", util::describe(n), base::base(n + 1));
}
"#,
        )
        .build()
}

#[test]
fn virtual_workspace_with_path_deps() {
    let p = virtual_workspace();
    e2e(&p)
        .local(&["base", "util", "cli"])
        .bin("cli", "cli: util(base(7)) base(8)")
        .run();
}

#[test]
fn virtual_workspace_locked_release() {
    let p = virtual_workspace();
    e2e(&p)
        .flags(&["--locked", "--release"])
        .policies(&FAST_POLICIES)
        .local(&["base", "util", "cli"])
        .bin("cli", "cli: util(base(7)) base(8)")
        .run();
}

/// The committed realistic fixture: `[workspace.package]`, `[workspace.dependencies]` with
/// extra features at the use site, glob members with an exclude, a proc-macro, a build script.
#[test]
fn workspace_inheritance() {
    let p = project().fixture("inherit").build();
    e2e(&p)
        .local(&["shared", "server", "derive-hello", "codegen"])
        .bin(
            "server",
            "server 0.3.1: shared[1, 2, 3] written=5 hello from derive-hello; codegen=7",
        )
        .run();
}

#[test]
fn glob_members_with_exclude() {
    let p = project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"tools/*\"]\nexclude = [\"tools/legacy\"]\nresolver = \"2\"\n",
        )
        .file("tools/alpha/Cargo.toml", &pkg("alpha", "itoa = \"1\"\n"))
        .file(
            "tools/alpha/src/main.rs",
            "fn main() {\n    println!(\"alpha {}\", itoa::Buffer::new().format(1));\n}\n",
        )
        .file("tools/beta/Cargo.toml", &pkg("beta", "cfg-if = \"1\"\n"))
        .file(
            "tools/beta/src/main.rs",
            "cfg_if::cfg_if! { if #[cfg(unix)] { fn os() -> &'static str { \"unix\" } } else { fn os() -> &'static str { \"other\" } } }\nfn main() {\n    println!(\"beta on {}\", os());\n}\n",
        )
        // Excluded: its dependency cannot even be resolved, so reading it at all fails.
        .file(
            "tools/legacy/Cargo.toml",
            &pkg("legacy", "this-crate-does-not-exist-cpb = \"9.9.9\"\n"),
        )
        .file("tools/legacy/src/main.rs", "fn main() {}\n")
        .build();
    e2e(&p)
        .local(&["alpha", "beta"])
        .bin("alpha", "alpha 1")
        .bin("beta", "beta on unix")
        .run();
}

#[test]
fn custom_target_paths_and_autobins_false() {
    let p = project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "layout"
version = "0.2.0"
edition = "2021"
autobins = false

[lib]
name = "layout_core"
path = "code/lib.rs"

[[bin]]
name = "layout-cli"
path = "code/cli/main.rs"

[dependencies]
itoa = "1"
"#,
        )
        .file(
            "code/lib.rs",
            "pub fn seven() -> String {\n    itoa::Buffer::new().format(7).to_string()\n}\n",
        )
        .file(
            "code/cli/main.rs",
            "fn main() {\n    println!(\"layout {}\", layout_core::seven());\n}\n",
        )
        // Not targets: autobins = false.
        .file(
            "src/main.rs",
            "fn main() { println!(\"autobins ignored me\"); }\n",
        )
        .file("src/bin/ghost.rs", "fn main() { println!(\"ghost\"); }\n")
        .build();
    e2e(&p)
        .local(&["layout"])
        .bin("layout-cli", "layout 7")
        .run();
}

fn several_bins_project() -> Project {
    project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "multi"
version = "0.1.0"
edition = "2021"

[[bin]]
name = "three"
path = "tools/three.rs"

[dependencies]
itoa = "1"
either = "1"
"#,
        )
        .file("src/lib.rs", "pub fn n(x: u8) -> String {\n    itoa::Buffer::new().format(x).to_string()\n}\n")
        .file("src/main.rs", "fn main() {\n    println!(\"multi main {}\", multi::n(0));\n}\n")
        .file("src/bin/one.rs", "fn main() {\n    println!(\"bin one {}\", multi::n(1));\n}\n")
        .file(
            "src/bin/two/main.rs",
            "mod helper;\nfn main() {\n    println!(\"bin two {}\", helper::two());\n}\n",
        )
        .file("src/bin/two/helper.rs", "pub fn two() -> String {\n    multi::n(2)\n}\n")
        .file(
            "tools/three.rs",
            "fn main() {\n    let e: either::Either<u8, u8> = either::Either::Right(3);\n    println!(\"bin three {}\", multi::n(e.into_inner()));\n}\n",
        )
        .build()
}

#[test]
fn several_bins() {
    let p = several_bins_project();
    e2e(&p)
        .local(&["multi"])
        .bin("multi", "multi main 0")
        .bin("one", "bin one 1")
        .bin("two", "bin two 2")
        .bin("three", "bin three 3")
        .run();
}

#[test]
fn dev_deps_all_targets() {
    let p = dev_targets();
    e2e(&p)
        .flags(&["--all-targets"])
        .local(&["devlib"])
        .with(dev_targets_tested)
        .with(dev_targets_examples)
        .exe("bench:speed", Expect::Stdout("bench ran 55".into()))
        .run();
}

#[test]
fn dev_deps_tests() {
    let p = dev_targets();
    e2e(&p)
        .flags(&["--tests"])
        .policies(&FAST_POLICIES)
        .local(&["devlib"])
        // integration tests get the package's binaries built (CARGO_BIN_EXE_*)
        .with(dev_targets_tested)
        .run();
}

#[test]
fn dev_deps_one_example() {
    let p = dev_targets();
    e2e(&p)
        .flags(&["--example", "demo"])
        .policies(&FAST_POLICIES)
        .local(&["devlib"])
        .exe("example:demo", Expect::Stdout("demo 5".into()))
        .run();
}

fn required_features() -> Project {
    project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "reqfeat"
version = "0.1.0"
edition = "2021"

[features]
fancy = ["dep:smallvec"]

[dependencies]
itoa = "1"
smallvec = { version = "1", optional = true }

[[bin]]
name = "plain"
path = "src/main.rs"

[[bin]]
name = "fancy"
path = "src/fancy.rs"
required-features = ["fancy"]
"#,
        )
        .file("src/main.rs", "fn main() {\n    println!(\"plain {}\", itoa::Buffer::new().format(1));\n}\n")
        .file(
            "src/fancy.rs",
            "fn main() {\n    let v: smallvec::SmallVec<[u8; 2]> = smallvec::smallvec![4, 5];\n    println!(\"fancy {:?}\", v);\n}\n",
        )
        .build()
}

#[test]
fn required_features_enabled() {
    let p = required_features();
    e2e(&p)
        .flags(&["--features", "fancy"])
        .local(&["reqfeat"])
        .bin("plain", "plain 1")
        .bin("fancy", "fancy [4, 5]")
        .run();
}

#[test]
fn required_features_disabled() {
    let p = required_features();
    e2e(&p)
        .policies(&FAST_POLICIES)
        .local(&["reqfeat"])
        .bin("plain", "plain 1")
        .run();
}

fn optional_deps() -> Project {
    project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "opts"
version = "0.1.0"
edition = "2021"

[dependencies]
itoa = { version = "1", optional = true }
either = { version = "1", optional = true, default-features = false }
smallvec = "1"

[features]
default = ["numbers"]
numbers = ["dep:itoa"]
stdeither = ["either/use_std"]
smallwrite = ["smallvec/write"]
"#,
        )
        .file(
            "src/main.rs",
            r#"fn main() {
    let mut parts: Vec<String> = Vec::new();
    #[cfg(feature = "numbers")]
    parts.push(format!("numbers {}", itoa::Buffer::new().format(12)));
    #[cfg(not(feature = "numbers"))]
    parts.push("no numbers".to_string());
    #[cfg(feature = "stdeither")]
    {
        // `Either<io::Empty, io::Empty>: io::Read` exists only with either's `use_std`.
        use std::io::Read;
        let mut e: either::Either<std::io::Empty, std::io::Empty> = either::Either::Left(std::io::empty());
        let mut s = String::new();
        e.read_to_string(&mut s).unwrap();
        parts.push(format!("either-std{}", s));
    }
    #[cfg(feature = "smallwrite")]
    {
        // `SmallVec<[u8; N]>: io::Write` exists only with smallvec's `write`.
        use std::io::Write;
        let mut v: smallvec::SmallVec<[u8; 8]> = smallvec::SmallVec::new();
        write!(v, "sv").unwrap();
        parts.push(format!("smallvec-write {}", String::from_utf8_lossy(&v)));
    }
    let _unused: smallvec::SmallVec<[u8; 1]> = smallvec::SmallVec::new();
    println!("{}", parts.join(" "));
}
"#,
        )
        .build()
}

#[test]
fn optional_deps_and_feature_syntax() {
    let p = optional_deps();
    e2e(&p)
        .flags(&["-F", "stdeither,smallwrite"])
        .local(&["opts"])
        .bin("opts", "numbers 12 either-std smallvec-write sv")
        .run();
}

#[test]
fn optional_deps_no_default_features() {
    let p = optional_deps();
    e2e(&p)
        .flags(&["--no-default-features"])
        .policies(&FAST_POLICIES)
        .local(&["opts"])
        .bin("opts", "no numbers")
        .run();
}

#[test]
fn optional_deps_all_features() {
    let p = optional_deps();
    e2e(&p)
        .flags(&["--all-features"])
        .policies(&FAST_POLICIES)
        .local(&["opts"])
        .bin("opts", "numbers 12 either-std smallvec-write sv")
        .run();
}

#[test]
fn target_specific_deps() {
    let p = project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "plat"
version = "0.1.0"
edition = "2021"

[target.'cfg(unix)'.dependencies]
itoa = "1"

[target.'cfg(target_os = "linux")'.dependencies]
cfg-if = "1"

[target.'cfg(windows)'.dependencies]
scopeguard = "1"

[target.x86_64-pc-windows-msvc.dependencies]
bitflags = "2"
"#,
        )
        .file(
            "src/main.rs",
            r#"#[cfg(unix)]
fn main() {
    cfg_if::cfg_if! {
        if #[cfg(target_os = "linux")] { let os = "linux"; } else { let os = "unix"; }
    }
    println!("{} {}", os, itoa::Buffer::new().format(3));
}

#[cfg(not(unix))]
fn main() {
    println!("not unix");
}
"#,
        )
        .build();
    e2e(&p).local(&["plat"]).bin("plat", "linux 3").run();
}

#[test]
fn renamed_deps() {
    let p = project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "renamed"
version = "0.1.0"
edition = "2021"

[workspace]
members = ["helper"]

[dependencies]
numfmt = { package = "itoa", version = "1" }
old_flags = { package = "bitflags", version = "1" }
bitflags = "2"
helper = { path = "helper", package = "renamed-helper" }
"#,
        )
        .file(
            "helper/Cargo.toml",
            "[package]\nname = \"renamed-helper\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .file("helper/src/lib.rs", "pub fn tag() -> &'static str {\n    \"helper\"\n}\n")
        .file(
            "src/main.rs",
            r#"old_flags::bitflags! {
    struct Old: u8 {
        const A = 1;
        const B = 2;
    }
}

bitflags::bitflags! {
    #[derive(Debug, Clone, Copy)]
    struct New: u8 {
        const C = 4;
    }
}

fn main() {
    let mut buf = numfmt::Buffer::new();
    println!("{} old={} new={} {}", buf.format(10), (Old::A | Old::B).bits(), New::C.bits(), helper::tag());
}
"#,
        )
        .build();
    e2e(&p)
        .local(&["renamed", "renamed-helper"])
        .bin("renamed", "10 old=3 new=4 helper")
        .run();
}

#[test]
fn custom_profile() {
    let p = project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "profiled"
version = "0.1.0"
edition = "2021"

[dependencies]
itoa = "1"
smallvec = "1"

[profile.fast]
inherits = "release"
opt-level = 1
debug = false
"#,
        )
        .file(
            "src/main.rs",
            r#"fn main() {
    let v: smallvec::SmallVec<[u8; 2]> = smallvec::smallvec![1];
    println!("debug_assertions={} {}", cfg!(debug_assertions), itoa::Buffer::new().format(v.len()));
}
"#,
        )
        .build();
    e2e(&p)
        .flags(&["--profile", "fast"])
        .local(&["profiled"])
        .bin("profiled", "debug_assertions=false 1")
        .run();
}

#[test]
fn explicit_host_target() {
    let host = host_triple();
    let p = project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "targeted"
version = "0.1.0"
edition = "2021"

[dependencies]
itoa = "1"
cfg-if = "1"

[build-dependencies]
itoa = "1"
"#,
        )
        .file(
            "build.rs",
            r#"fn main() {
    let n = itoa::Buffer::new().format(5).to_string();
    println!("cargo:rustc-env=BUILT_WITH={n}");
}
"#,
        )
        .file(
            "src/main.rs",
            r#"fn main() {
    cfg_if::cfg_if! { if #[cfg(unix)] { let os = "unix"; } else { let os = "other"; } }
    println!("targeted {} {} {}", os, env!("BUILT_WITH"), itoa::Buffer::new().format(6));
}
"#,
        )
        .build();
    e2e(&p)
        .flags(&["--target", &host])
        .local(&["targeted"])
        .bin("targeted", "targeted unix 5 6")
        .run();
}

/// Two members using memchr with and without `std`.
fn differing_features() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"app\", \"tool\"]\nresolver = \"2\"\n",
        )
        .file(
            "app/Cargo.toml",
            &pkg("app", "memchr = { version = \"2\", default-features = false }\nitoa = \"1\"\n"),
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    let i = memchr::memchr(b'x', b\"abxd\").unwrap();\n    println!(\"found at {}\", itoa::Buffer::new().format(i));\n}\n",
        )
        .file(
            "tool/Cargo.toml",
            &pkg("tool", "memchr = { version = \"2\", features = [\"std\"] }\nsmallvec = \"1\"\n"),
        )
        .file(
            "tool/src/main.rs",
            "fn main() {\n    println!(\"tool {:?}\", memchr::memmem::find(b\"hello\", b\"ll\"));\n}\n",
        )
        .build()
}

/// `-p app` where `app` uses memchr without `std` and the other member with it: cooking the
/// whole workspace would unify features and the real `-p app` build would recompile memchr.
#[test]
fn package_selection_with_differing_features() {
    let p = differing_features();
    e2e(&p)
        .flags(&["-p", "app"])
        .local(&["app"])
        .bin("app", "found at 2")
        .run();
}

/// No `version` key (so no version masking can change the package id) and a `[[bin]]` declared
/// exactly as a skeleton would, sources older than the cook: the stub must still not ship.
#[test]
fn package_without_version_key() {
    let p = project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "noversion"
edition = "2021"
publish = false

[[bin]]
name = "noversion"
path = "src/main.rs"

[dependencies]
itoa = "1"
nv-lib = { path = "nv-lib" }

[workspace]
members = ["nv-lib"]
"#,
        )
        .file(
            "nv-lib/Cargo.toml",
            "[package]\nname = \"nv-lib\"\nedition = \"2021\"\n\n[lib]\npath = \"src/lib.rs\"\n\n[dependencies]\ncfg-if = \"1\"\n",
        )
        .file("nv-lib/src/lib.rs", "pub fn word() -> &'static str {\n    \"library\"\n}\n")
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"real noversion {} {}\", itoa::Buffer::new().format(99), nv_lib::word());\n}\n",
        )
        .build();
    e2e(&p)
        .local(&["noversion", "nv-lib"])
        .bin("noversion", "real noversion 99 library")
        .run();
}

#[test]
fn relative_target_dir_and_config() {
    let p = project()
        .file("Cargo.toml", &pkg("cfgd", "itoa = \"1\"\n"))
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"cfgd {}\", itoa::Buffer::new().format(8));\n}\n",
        )
        .build();
    e2e(&p)
        .flags(&["--target-dir", "out", "--config", "profile.dev.opt-level=1"])
        .policies(&FAST_POLICIES)
        .local(&["cfgd"])
        .bin("cfgd", "cfgd 8")
        .run();
}

/// `.cargo/config.toml` moves every output (`target-dir`, `build-dir`, `build.target`): cleanup
/// must not assume `target/debug/...` (not `target/debug/...`).
#[test]
fn config_moves_target_dir_build_dir_and_target() {
    let host = host_triple();
    let p = project()
        .file(
            ".cargo/config.toml",
            &format!(
                "[build]\ntarget-dir = \"out/target\"\nbuild-dir = \"out/build\"\ntarget = \"{host}\"\n"
            ),
        )
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"lib\", \"app\"]\nresolver = \"2\"\n",
        )
        .file("lib/Cargo.toml", &pkg("movedlib", "itoa = \"1\"\n"))
        .file(
            "lib/src/lib.rs",
            "pub fn n() -> String {\n    itoa::Buffer::new().format(11).to_string()\n}\n",
        )
        .file(
            "app/Cargo.toml",
            &pkg("moved", "movedlib = { path = \"../lib\" }\ncfg-if = \"1\"\n"),
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    println!(\"moved {}\", movedlib::n());\n}\n",
        )
        .build();
    e2e(&p)
        .outputs(&["out"])
        .local(&["movedlib", "moved"])
        .bin("moved", "moved 11")
        .run();
}

/// `[patch.crates-io]` replacing a registry crate by a local one: the patch must keep
/// matching in the skeleton (a masked version would not), and the local crate is real.
#[test]
fn patch_registry_crate_with_local_path() {
    let p = project()
        .file(
            "Cargo.toml",
            r#"[package]
name = "patcher"
version = "0.1.0"
edition = "2021"

[dependencies]
itoa = "1"
cfg-if = "1"

[patch.crates-io]
itoa = { path = "patched/itoa" }
"#,
        )
        .file(
            "patched/itoa/Cargo.toml",
            "[package]\nname = \"itoa\"\nversion = \"1.0.99\"\nedition = \"2021\"\n",
        )
        .file(
            "patched/itoa/src/lib.rs",
            r#"pub struct Buffer;

impl Buffer {
    pub fn new() -> Self {
        Buffer
    }
    pub fn format(&mut self, n: u32) -> String {
        format!("patched-{n}")
    }
}
"#,
        )
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"patcher {}\", itoa::Buffer::new().format(5));\n}\n",
        )
        .build();
    assert!(
        p.read("Cargo.lock").contains("1.0.99"),
        "the patch is not used by the real lockfile"
    );
    e2e(&p)
        .local(&["patcher"])
        .real_in_skeleton(&["itoa"])
        .bin("patcher", "patcher patched-5")
        .run();
}

#[test]
fn workspace_with_exclude_flag() {
    let p = differing_features();
    e2e(&p)
        .flags(&["--workspace", "--exclude", "tool"])
        .policies(&FAST_POLICIES)
        .local(&["app"])
        .bin("app", "found at 2")
        .run();
}

#[test]
fn one_bin_of_several() {
    let p = several_bins_project();
    e2e(&p)
        .flags(&["--bin", "two", "--timings"])
        .policies(&FAST_POLICIES)
        .local(&["multi"])
        .bin("two", "bin two 2")
        .run();
}

#[test]
fn bins_frozen_one_job_quiet() {
    let p = several_bins_project();
    e2e(&p)
        .flags(&["--bins", "--frozen", "-j", "1", "-q"])
        .policies(&FAST_POLICIES)
        .local(&["multi"])
        .bin("multi", "multi main 0")
        .bin("one", "bin one 1")
        .bin("two", "bin two 2")
        .bin("three", "bin three 3")
        .run();
}

/// `--lib`: no executable at all.
#[test]
fn lib_only() {
    let p = lib_and_bin();
    e2e(&p)
        .flags(&["--lib", "-v", "--color", "never"])
        .policies(&FAST_POLICIES)
        .local(&["mixed"])
        .run();
}

#[test]
fn all_examples() {
    let p = dev_targets();
    e2e(&p)
        .flags(&["--examples"])
        .policies(&FAST_POLICIES)
        .local(&["devlib"])
        .exe("example:demo", Expect::Stdout("demo 5".into()))
        .exe("example:other", Expect::Stdout("other example 3".into()))
        .run();
}
