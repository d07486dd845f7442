//! Issue 3: every manifest, config and toolchain construct real workspaces use, end to end.
//!
//! Most tests run through `support::e2e`. Constructs that widen the skeleton's tree beyond the
//! workspace (ancestor config files, path dependencies outside the root, other workspaces),
//! need their own environment (`CARGO_HOME`, the rustup proxy) or extra checks on the build
//! use `Flow` below: the source tree lives in the project's sandbox, the skeleton and the
//! builder in a separate temp dir, so nothing of the source side (an ancestor
//! `.cargo/config`, say) can leak into cook except through the skeleton.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use filetime::FileTime;
use tempfile::TempDir;
use walkdir::WalkDir;

use crate::support::*;

/// The static every stub artifact carries: the product's own constant, as bytes to grep for.
const STUB_BYTES: &str = cargo_prebuild::skeleton::stubs::MARKER;

fn pkg(name: &str, deps: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"
    )
}

// ---------------------------------------------------------------------------------------------
// Private harness

/// The directory of the rustup proxies (`cargo`, `rustup`) on `PATH`.
fn rustup_proxy_dir() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|d| d.join("rustup").is_file() && d.join("cargo").is_file())
        .or_else(|| std::env::var_os("CARGO_HOME").map(|h| PathBuf::from(h).join("bin")))
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo/bin"))
}

/// `cargo` through the rustup proxy, as a user's shell runs it: the tool installed on `PATH`
/// (`tools`), no toolchain chosen by the environment unless the test sets one.
fn proxy_cargo(dir: &Path, tools: &Path) -> Command {
    let proxies = rustup_proxy_dir();
    let mut cmd = Command::new(proxies.join("cargo"));
    scrub(&mut cmd);
    for var in [
        "RUSTUP_TOOLCHAIN",
        "RUSTUP_TOOLCHAIN_SOURCE",
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    let mut paths = vec![tools.to_path_buf(), proxies];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    cmd.env("PATH", std::env::join_paths(paths).unwrap());
    cmd.current_dir(dir);
    cmd
}

/// A directory holding `cargo-prebuild` (a symlink to the binary under test), for `PATH`.
fn install_tool(dir: &Path) -> PathBuf {
    let tools = dir.join("tools");
    fs::create_dir_all(&tools).unwrap();
    std::os::unix::fs::symlink(bin_path(), tools.join("cargo-prebuild")).unwrap();
    tools
}

/// One real build of a flow.
struct Built {
    policy: MtimePolicy,
    output: Output,
    report: BuildReport,
}

/// What a flow left for further checks.
struct Outcome {
    _tmp: TempDir,
    /// The skeleton directory (`cargo-prebuild.json`, `tree.tar`).
    skeleton: PathBuf,
    prepare: Output,
    /// The builder's tree root; the workspace sits at `tree.join(ws)`.
    tree: PathBuf,
    /// The tree as cook left it.
    snapshot: PathBuf,
    ws_dir: PathBuf,
    builds: Vec<Built>,
}

/// prepare in `src/ws` -> cook in an empty `<other tmp>/tree/ws` -> for each mtime policy,
/// copy `src` over a fresh copy of the cooked tree and run `cargo build --message-format json`.
struct Flow {
    src: PathBuf,
    ws: String,
    flags: Vec<String>,
    env: Vec<(String, OsString)>,
    proxy: bool,
    /// `+toolchain` given to the proxy (prepare, cook and the real build).
    plus: Option<String>,
    policies: Vec<MtimePolicy>,
    local: BTreeSet<String>,
    real_in_skeleton: BTreeSet<String>,
    exes: BTreeMap<String, Expect>,
    /// Paths relative to the tree root that cook may leave (besides `<ws>/target`).
    outputs: Vec<String>,
    /// Top-level entries of `src` not copied for the real build.
    skip: Vec<String>,
}

fn flow(src: &Path, ws: &str) -> Flow {
    Flow {
        src: src.to_path_buf(),
        ws: ws.to_string(),
        flags: Vec::new(),
        env: Vec::new(),
        proxy: false,
        plus: None,
        policies: vec![MtimePolicy::PreserveOlder],
        local: BTreeSet::new(),
        real_in_skeleton: BTreeSet::new(),
        exes: BTreeMap::new(),
        outputs: Vec::new(),
        skip: vec!["target".into()],
    }
}

impl Flow {
    fn flags(mut self, flags: &[&str]) -> Self {
        self.flags = flags.iter().map(|s| s.to_string()).collect();
        self
    }
    /// An environment variable for cook and the real build.
    fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.env.push((key.to_string(), value.into()));
        self
    }
    /// Cook as `cargo prebuild cook` and build as `cargo build`, both through the rustup proxy.
    fn through_rustup_proxy(mut self) -> Self {
        self.proxy = true;
        self
    }
    /// `cargo +<toolchain> ...` through the proxy.
    fn plus_toolchain(mut self, toolchain: &str) -> Self {
        self.proxy = true;
        self.plus = Some(format!("+{toolchain}"));
        self
    }
    fn proxy_cmd(&self, dir: &Path, tools: &Path) -> Command {
        let mut c = proxy_cargo(dir, tools);
        c.args(&self.plus);
        c
    }
    fn policies(mut self, policies: &[MtimePolicy]) -> Self {
        self.policies = policies.to_vec();
        self
    }
    fn local(mut self, names: &[&str]) -> Self {
        self.local = names.iter().map(|s| s.to_string()).collect();
        self
    }
    fn real_in_skeleton(mut self, names: &[&str]) -> Self {
        self.real_in_skeleton = names.iter().map(|s| s.to_string()).collect();
        self
    }
    fn bin(self, name: &str, stdout: &str) -> Self {
        self.exe(&format!("bin:{name}"), Expect::Stdout(stdout.into()))
    }
    fn exe(mut self, key: &str, expect: Expect) -> Self {
        self.exes.insert(key.to_string(), expect);
        self
    }
    fn skip(mut self, names: &[&str]) -> Self {
        self.skip.extend(names.iter().map(|s| s.to_string()));
        self
    }
    fn outputs(mut self, paths: &[&str]) -> Self {
        self.outputs.extend(paths.iter().map(|s| s.to_string()));
        self
    }

    /// The workspace's path in the tree, `None` at the tree root.
    fn ws_path(&self) -> Option<PathBuf> {
        (self.ws != ".").then(|| PathBuf::from(&self.ws))
    }

    fn run(self) -> Outcome {
        let tmp = tempfile::Builder::new()
            .prefix("cpb-fid-")
            .tempdir()
            .unwrap();
        let base = tmp.path().to_path_buf();
        let tools = install_tool(&base);
        let ws_src = self
            .ws_path()
            .map_or(self.src.clone(), |ws| self.src.join(ws));

        let skeleton = base.join("skel");
        let mut prepare = if self.proxy {
            let mut c = self.proxy_cmd(&ws_src, &tools);
            c.arg("prebuild");
            c
        } else {
            prebuild_cmd(&ws_src)
        };
        prepare.arg("prepare").arg("--skeleton").arg(&skeleton);
        for (k, v) in &self.env {
            prepare.env(k, v);
        }
        let prepare = run(&mut prepare);
        prepare.assert_ok("prepare");
        parse_digest(&prepare.stdout_str());

        let tree = base.join("stage/tree");
        let ws_dir = self.ws_path().map_or(tree.clone(), |ws| tree.join(ws));
        fs::create_dir_all(&ws_dir).unwrap();
        let mut cook = if self.proxy {
            let mut c = self.proxy_cmd(&ws_dir, &tools);
            c.arg("prebuild");
            c
        } else {
            prebuild_cmd(&ws_dir)
        };
        cook.arg("cook").arg("--skeleton").arg(&skeleton);
        cook.args(&self.flags);
        for (k, v) in &self.env {
            cook.env(k, v);
        }
        run(&mut cook).assert_ok(&format!("cook {:?}", self.flags));
        self.assert_only_outputs_left(&tree);

        let snapshot = base.join("snapshot");
        cp_a(&tree, &snapshot);
        let skip: Vec<&str> = self.skip.iter().map(String::as_str).collect();
        let mut builds = Vec::new();
        for &policy in &self.policies {
            rm_rf(&tree);
            cp_a(&snapshot, &tree);
            if policy == MtimePolicy::RestampCookedThenCopy {
                restamp(&tree, FileTime::now());
            }
            copy_tree(&self.src, &tree, policy, &skip);
            builds.push(self.real_build(&ws_dir, &tools, policy));
        }
        Outcome {
            _tmp: tmp,
            skeleton,
            prepare,
            tree,
            snapshot,
            ws_dir,
            builds,
        }
    }

    /// Every file left in the tree after cook is under `<ws>/target` or a declared output; every
    /// directory left is one of those or leads to the workspace.
    fn assert_only_outputs_left(&self, tree: &Path) {
        let ws = self.ws_path().unwrap_or_default();
        let ws = ws.as_path();
        let mut outputs: Vec<PathBuf> = vec![ws.join("target")];
        outputs.extend(self.outputs.iter().map(PathBuf::from));
        let mut extra = Vec::new();
        for entry in WalkDir::new(tree).min_depth(1) {
            let entry = entry.unwrap();
            let rel = entry.path().strip_prefix(tree).unwrap();
            if outputs.iter().any(|o| rel.starts_with(o)) {
                continue;
            }
            let leads_somewhere = entry.file_type().is_dir()
                && (ws.starts_with(rel) || outputs.iter().any(|o| o.starts_with(rel)));
            if !leads_somewhere {
                extra.push(rel.display().to_string());
            }
        }
        assert!(
            extra.is_empty(),
            "cook left files it laid out in the builder tree: {extra:#?}"
        );
    }

    fn real_build(&self, ws_dir: &Path, tools: &Path, policy: MtimePolicy) -> Built {
        let mut cmd = if self.proxy {
            self.proxy_cmd(ws_dir, tools)
        } else {
            cargo_cmd(ws_dir)
        };
        cmd.arg("build")
            .args(&self.flags)
            .args(["--message-format", "json"]);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let output = run(&mut cmd);
        let what = format!(
            "real `cargo build {}` under {policy:?}",
            self.flags.join(" ")
        );
        output.assert_ok(&what);
        let report = BuildReport::parse(&output.stdout);
        assert_exact_rebuild(&output, &report, &what, &self.real_in_skeleton, &self.local);
        assert_no_stub_in_outputs(&output, &what);
        let exes = report.executables();
        let produced: BTreeSet<&String> = exes.keys().collect();
        let expected: BTreeSet<&String> = self.exes.keys().collect();
        assert_eq!(produced, expected, "{what}: executables produced");
        for (key, path) in &exes {
            check_executable(key, path, &self.exes[key], ws_dir, &what);
        }
        Built {
            policy,
            output,
            report,
        }
    }
}

/// Every local artifact file a build reports (rlibs, cdylibs, staticlibs, executables) is free
/// of the stub marker.
fn assert_no_stub_in_outputs(output: &Output, what: &str) {
    for (id, file) in artifact_files(output) {
        if !id.starts_with("path+") {
            continue;
        }
        let bytes = fs::read(&file).unwrap();
        assert!(
            !contains(&bytes, STUB_BYTES.as_bytes()),
            "{what}: {} (of {id}) is a stub artifact",
            file.display()
        );
    }
}

/// `(package_id, filename)` of every artifact file in cargo's JSON messages.
fn artifact_files(output: &Output) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    for line in output.stdout_str().lines().filter(|l| l.starts_with('{')) {
        let msg: serde_json::Value = serde_json::from_str(line).unwrap();
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let id = msg["package_id"].as_str().unwrap().to_string();
        for f in msg["filenames"].as_array().into_iter().flatten() {
            files.push((id.clone(), PathBuf::from(f.as_str().unwrap())));
        }
    }
    files
}

fn skeleton_index(skeleton: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(skeleton.join("cargo-prebuild.json")).unwrap()).unwrap()
}

/// `cargo generate-lockfile` as a user runs it in the planner: through the proxy, so a
/// toolchain file there decides (stable cannot read a nightly `cargo-features` manifest).
fn proxy_generate_lockfile(p: &Project) {
    let tools = install_tool(p.sandbox());
    run(proxy_cargo(p.root(), &tools).arg("generate-lockfile")).assert_ok("generate-lockfile");
    p.backdate();
}

fn git(dir: &Path, args: &[&str]) {
    let out = run(Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args));
    out.assert_ok(&format!("git {args:?}"));
}

// ---------------------------------------------------------------------------------------------
// Manifests

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
    let out = flow(p.root(), ".")
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
    let out = flow(p.root(), ".")
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
    e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder, MtimePolicy::Earthly])
        .local(&["rootpkg", "corelib"])
        .bin("rootpkg", "rootpkg 2024 at 2 corelib 24")
        .run();
    let skel = p.sandbox().join("planner-out/skel");
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
// Toolchain files

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

/// `rustc -vV` as recorded by cargo itself in a target directory.
fn rustc_info(target: &Path) -> String {
    fs::read_to_string(target.join(".rustc_info.json"))
        .unwrap_or_else(|e| panic!("{}/.rustc_info.json: {e}", target.display()))
}

fn cook_record(target: &Path) -> serde_json::Value {
    let path = target.join("cargo-prebuild-cook.json");
    serde_json::from_slice(&fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap()
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
    let out = flow(p.root(), ".")
        .through_rustup_proxy()
        .local(&["pinned"])
        .bin("pinned", "pinned 5")
        .run();
    let target = out.ws_dir.join("target");
    let info = rustc_info(&target);
    assert!(
        info.contains("-nightly") && !info.contains("1.95.0 ("),
        "cargo's rustc in the built tree is not nightly: {info}"
    );
    let record = cook_record(&target);
    let rustc = record["rustc"].as_str().unwrap_or_default();
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
    let out = flow(p.sandbox(), "planner")
        .through_rustup_proxy()
        .local(&["pinned"])
        .bin("pinned", "pinned 5")
        .run();
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
    let out = flow(p.root(), ".")
        .through_rustup_proxy()
        .env("RUSTUP_TOOLCHAIN", "stable")
        .local(&["pinned"])
        .bin("pinned", "pinned 5")
        .run();
    let target = out.ws_dir.join("target");
    let info = rustc_info(&target);
    assert!(
        !info.contains("nightly"),
        "cook ignored the user's RUSTUP_TOOLCHAIN=stable: {info}"
    );
    let rustc = cook_record(&target)["rustc"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!rustc.contains("nightly"), "cook record: {rustc}");
}

/// `cargo +nightly prebuild cook` (the proxy reports `RUSTUP_TOOLCHAIN_SOURCE=cli`) wins over
/// a toolchain file pinning stable.
#[test]
fn toolchain_chosen_with_plus_wins() {
    let p = toolchain_project("rust-toolchain.toml", "[toolchain]\nchannel = \"stable\"\n");
    let out = flow(p.root(), ".")
        .plus_toolchain("nightly")
        .local(&["pinned"])
        .bin("pinned", "pinned 5")
        .run();
    let info = rustc_info(&out.ws_dir.join("target"));
    assert!(info.contains("-nightly"), "cook ignored +nightly: {info}");
}

// ---------------------------------------------------------------------------------------------
// Cargo config

/// `.cargo/config` (legacy name) in an ancestor of the workspace and `.cargo/config.toml` in the
/// workspace both reach cook: `build.rustflags` from both (cargo joins them), `[env]` read by a
/// dependency's build script (libc reruns on `RUST_LIBC_UNSTABLE_FREEBSD_VERSION`) and by a
/// local one, and an alias the real build can use.
#[test]
fn config_hierarchy_ancestor_legacy_and_workspace() {
    let p = project()
        .file(
            "../.cargo/config",
            "[build]\nrustflags = [\"--cfg\", \"prebuild_ancestor\"]\n\n[alias]\nbb = \"build --bins\"\n",
        )
        .file(
            ".cargo/config.toml",
            "[build]\nrustflags = [\"--cfg\", \"prebuild_test\"]\n\n[env]\nRUST_LIBC_UNSTABLE_FREEBSD_VERSION = \"14\"\nFIDELITY_CONFIG_ENV = \"from-config-env\"\n",
        )
        .file(
            "Cargo.toml",
            &pkg("configured", "libc = \"0.2\"\nitoa = \"1\"\n"),
        )
        .file(
            "build.rs",
            "fn main() {\n    println!(\"cargo:rerun-if-env-changed=FIDELITY_CONFIG_ENV\");\n    println!(\"cargo:rustc-env=SEEN_ENV={}\", std::env::var(\"FIDELITY_CONFIG_ENV\").unwrap_or_default());\n}\n",
        )
        .file(
            "src/main.rs",
            r#"#![allow(unexpected_cfgs)]
fn main() {
    let pid = unsafe { libc::getpid() };
    println!(
        "cfgs {} {} env {} {} {}",
        cfg!(prebuild_test),
        cfg!(prebuild_ancestor),
        env!("SEEN_ENV"),
        itoa::Buffer::new().format(1),
        pid > 0
    );
}
"#,
        )
        .build();
    let out = flow(p.sandbox(), "planner")
        .local(&["configured"])
        .bin("configured", "cfgs true true env from-config-env 1 true")
        .run();
    let files = skeleton_files(&out.skeleton);
    for f in [".cargo/config", "planner/.cargo/config.toml"] {
        assert!(
            files.contains(f),
            "{f} missing from the skeleton: {files:#?}"
        );
    }
    assert!(skeleton_file(&out.skeleton, ".cargo/config").contains("bb"));
    assert!(skeleton_file(&out.skeleton, "planner/.cargo/config.toml")
        .contains("RUST_LIBC_UNSTABLE_FREEBSD_VERSION"));

    // The alias, in the built tree: nothing external to compile either.
    let alias = run(cargo_cmd(&out.ws_dir).args(["bb", "--message-format", "json"]));
    alias.assert_ok("cargo bb (alias from the ancestor config)");
    let report = BuildReport::parse(&alias.stdout);
    assert!(
        report.external_compiled().is_empty(),
        "{}",
        alias.describe()
    );
    assert!(!report.external_fresh().is_empty(), "{}", alias.describe());
}

/// `[target.<host>] rustflags` (which replace `build.rustflags` when both are set) reach cook.
#[test]
fn config_target_table_rustflags() {
    let host = host_triple();
    let p = project()
        .file(
            ".cargo/config.toml",
            &format!(
                "[build]\nrustflags = [\"--cfg\", \"shadowed_build_flag\"]\n\n[target.{host}]\nrustflags = [\"--cfg\", \"prebuild_target\"]\n"
            ),
        )
        .file("Cargo.toml", &pkg("tgtflags", "itoa = \"1\"\ncfg-if = \"1\"\n"))
        .file(
            "src/main.rs",
            "#![allow(unexpected_cfgs)]\ncfg_if::cfg_if! { if #[cfg(prebuild_target)] { const T: bool = true; } else { const T: bool = false; } }\nfn main() {\n    println!(\"target {} build {} {}\", T, cfg!(shadowed_build_flag), itoa::Buffer::new().format(2));\n}\n",
        )
        .build();
    e2e(&p)
        .policies(&[MtimePolicy::PreserveOlder])
        .local(&["tgtflags"])
        .bin("tgtflags", "target true build false 2")
        .run();
}

fn two_member_project(config_path: &str, config: &str) -> Project {
    project()
        .file(config_path, config)
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"lib\", \"app\"]\nresolver = \"2\"\n",
        )
        .file("lib/Cargo.toml", &pkg("anclib", "itoa = \"1\"\n"))
        .file(
            "lib/src/lib.rs",
            "pub fn n() -> String {\n    itoa::Buffer::new().format(12).to_string()\n}\n",
        )
        .file(
            "app/Cargo.toml",
            &pkg("ancapp", "anclib = { path = \"../lib\" }\ncfg-if = \"1\"\n"),
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    println!(\"outputs {}\", anclib::n());\n}\n",
        )
        .build()
}

/// After cook: no artifact of the stub packages `anclib`/`ancapp` under `dir`.
fn assert_stub_artifacts_cleaned(dir: &Path) {
    assert!(dir.is_dir(), "no output directory {}", dir.display());
    let mut stubs = Vec::new();
    for entry in WalkDir::new(dir) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        let named = name.contains("anclib") || name.contains("ancapp");
        if named || contains(&fs::read(entry.path()).unwrap(), STUB_BYTES.as_bytes()) {
            stubs.push(entry.path().display().to_string());
        }
    }
    assert!(stubs.is_empty(), "cook left stub artifacts: {stubs:#?}");
}

/// `target-dir` and `build-dir` set in an ancestor's config are relative to that ancestor, so
/// outputs land outside the workspace; cook's cleanup (`cargo clean -p`) must find and remove
/// every stub artifact there. (e2e.rs covers the same keys in the workspace's config.)
#[test]
fn config_output_dirs_in_ancestor() {
    let p = two_member_project(
        "../.cargo/config.toml",
        "[build]\ntarget-dir = \"out/target\"\nbuild-dir = \"out/build\"\n",
    );
    let out = flow(p.sandbox(), "planner")
        .outputs(&["out"])
        .skip(&["out"])
        .policies(&[MtimePolicy::PreserveOlder, MtimePolicy::Now])
        .local(&["anclib", "ancapp"])
        .bin("ancapp", "outputs 12")
        .run();
    assert!(
        !out.ws_dir.join("target").exists(),
        "the ancestor's target-dir was ignored"
    );
    assert_stub_artifacts_cleaned(&out.snapshot.join("out"));
}

/// `build.target` in the config (no `--target` flag): artifacts live under
/// `target/<triple>/`, and cook's cleanup must remove the stubs' there too.
#[test]
fn config_build_target_cleanup() {
    let host = host_triple();
    let p = two_member_project(
        ".cargo/config.toml",
        &format!("[build]\ntarget = \"{host}\"\n"),
    );
    let out = flow(p.root(), ".")
        .local(&["anclib", "ancapp"])
        .bin("ancapp", "outputs 12")
        .run();
    assert!(out.snapshot.join("target").join(&host).is_dir());
    assert_stub_artifacts_cleaned(&out.snapshot.join("target"));
}

/// Registry tokens, credential providers and their aliases, proxy passwords and
/// `credentials(.toml)` files never reach the skeleton: it becomes an image layer.
#[test]
fn no_secrets_in_skeleton() {
    let secrets = [
        "cio-token-SECRET-1",
        "corp-token-SECRET-2",
        "provider-arg-SECRET-3",
        "proxy-pass-SECRET-4",
        "credfile-SECRET-5",
        "legacy-credfile-SECRET-6",
        "global-provider-SECRET-8",
        "ancestor-token-SECRET-9",
        "secret-key-SECRET-10",
    ];
    let p = project()
        .file(
            ".cargo/config.toml",
            r#"[registry]
token = "cio-token-SECRET-1"
global-credential-providers = ["cargo:token", "my-provider --key global-provider-SECRET-8"]

[registries.corp]
index = "sparse+https://corp.example/index/"
token = "corp-token-SECRET-2"
credential-provider = ["/usr/bin/corp-cred", "--secret", "provider-arg-SECRET-3"]
secret-key = "secret-key-SECRET-10"

[http]
proxy = "http://user:proxy-pass-SECRET-4@proxy.example:3128"

[build]
rustflags = ["--cfg", "kept_flag"]
"#,
        )
        .file(
            ".cargo/credentials.toml",
            "[registry]\ntoken = \"credfile-SECRET-5\"\n",
        )
        .file(
            ".cargo/credentials",
            "[registry]\ntoken = \"legacy-credfile-SECRET-6\"\n",
        )
        .file(
            "../.cargo/config.toml",
            "[registries.other]\nindex = \"sparse+https://other.example/\"\ntoken = \"ancestor-token-SECRET-9\"\n",
        )
        .file("Cargo.toml", &pkg("secretive", "itoa = \"1\"\n"))
        .file("src/main.rs", "fn main() {}\n")
        // The proxy in the config is not reachable: no resolution here.
        .no_lockfile()
        .build();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    assert_no_secrets(&skel, &secrets);
    let config = skeleton_file(&skel, "planner/.cargo/config.toml");
    assert!(
        config.contains("kept_flag") && config.contains("sparse+https://corp.example/index/"),
        "the harmless parts of the config must stay:\n{config}"
    );
}

/// `[credential-alias]` names credential-provider command lines, whose arguments may be
/// secrets: like `credential-provider`, it must not reach the skeleton.
#[test]
fn no_credential_alias_in_skeleton() {
    let p = project()
        .file(
            ".cargo/config.toml",
            "[credential-alias]\ncorp-alias = [\"/usr/bin/corp-cred\", \"--key\", \"alias-arg-SECRET-7\"]\n\n[registries.corp]\nindex = \"sparse+https://corp.example/index/\"\ncredential-provider = \"corp-alias\"\n",
        )
        .file("Cargo.toml", &pkg("secretive", "itoa = \"1\"\n"))
        .file("src/main.rs", "fn main() {}\n")
        .build();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    assert_no_secrets(&skel, &["alias-arg-SECRET-7"]);
}

/// A credential inside a dependency URL is part of the package's source identity, so it can
/// be neither kept nor removed: prepare refuses, names the file, does not echo the secret and
/// writes nothing. A plain user name (`ssh://git@...`) is no secret.
#[test]
fn credentials_in_manifest_urls_are_refused() {
    let p = project()
        .file(
            "Cargo.toml",
            &pkg(
                "leaky",
                "private = { git = \"https://deploy:url-token-SECRET-11@git.example/org/private.git\" }\n",
            ),
        )
        .file("src/main.rs", "fn main() {}\n")
        .no_lockfile()
        .build();
    let skel = p.sandbox().join("skel");
    let out = prebuild(
        p.root(),
        ["prepare".as_ref(), "--skeleton".as_ref(), skel.as_os_str()],
    );
    out.assert_code(101, "prepare with a token in a git URL");
    let stderr = out.stderr_str();
    assert!(
        stderr.starts_with("error: ")
            && stderr.contains(&p.path("Cargo.toml").display().to_string())
            && stderr.contains("https://***@git.example")
            && !stderr.contains("SECRET"),
        "{}",
        out.describe()
    );
    assert!(!skel.exists(), "prepare wrote a skeleton after refusing");

    p.edit(
        "Cargo.toml",
        "https://deploy:url-token-SECRET-11@git.example",
        "ssh://git@git.example",
    );
    p.prepare(&skel);
    assert_no_secrets(&skel, &[]);
}

/// No file named `credentials*` and no byte string `SECRET` anywhere in a skeleton directory.
fn assert_no_secrets(skel: &Path, secrets: &[&str]) {
    let mut leaks = Vec::new();
    for entry in WalkDir::new(skel) {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("credentials") {
            leaks.push(format!("file {}", entry.path().display()));
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let bytes = fs::read(entry.path()).unwrap();
        for secret in secrets {
            if contains(&bytes, secret.as_bytes()) {
                leaks.push(format!("{secret} in {}", entry.path().display()));
            }
        }
        if contains(&bytes, b"SECRET") {
            leaks.push(format!(
                "{}:\n{}",
                entry.path().display(),
                String::from_utf8_lossy(&bytes)
            ));
        }
    }
    assert!(leaks.is_empty(), "secrets in the skeleton: {leaks:#?}");
}

// ---------------------------------------------------------------------------------------------
// Local code outside the workspace, patches, vendored sources, git

/// A path dependency outside the workspace root (`../shared-lib`, in no workspace) and a crate
/// of another workspace of the monorepo, inheriting `version`, `edition` and a dependency from
/// that workspace: both are stubbed at their relative positions (cook runs in `tree/planner`
/// with the tree laid out under `tree/`), and the real build compiles them from real sources.
#[test]
fn path_dependencies_outside_the_workspace_and_monorepo() {
    let p = project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n",
        )
        .file(
            "app/Cargo.toml",
            &pkg(
                "monoapp",
                "shared-lib = { path = \"../../shared-lib\" }\ncommon = { path = \"../../ws-b/crates/common\", version = \"2\" }\nsmallvec = \"1\"\n",
            ),
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    let v: smallvec::SmallVec<[u8; 2]> = smallvec::smallvec![1];\n    println!(\"mono {} {} {}\", shared_lib::name(), common::name(), v.len());\n}\n",
        )
        .file(
            "../shared-lib/Cargo.toml",
            &pkg("shared-lib", "cfg-if = \"1\"\n"),
        )
        .file(
            "../shared-lib/src/lib.rs",
            "cfg_if::cfg_if! { if #[cfg(unix)] { pub fn name() -> &'static str { \"real shared-lib\" } } else { pub fn name() -> &'static str { \"other\" } } }\n",
        )
        .file(
            "../ws-b/Cargo.toml",
            "[workspace]\nmembers = [\"crates/common\", \"crates/other\"]\nresolver = \"2\"\n\n[workspace.package]\nversion = \"2.0.0\"\nedition = \"2021\"\n\n[workspace.dependencies]\nitoa = \"1\"\n",
        )
        .file(
            "../ws-b/crates/common/Cargo.toml",
            "[package]\nname = \"common\"\nversion.workspace = true\nedition.workspace = true\n\n[dependencies]\nitoa.workspace = true\n",
        )
        .file(
            "../ws-b/crates/common/src/lib.rs",
            "pub fn name() -> String {\n    format!(\"real common {}\", itoa::Buffer::new().format(2))\n}\n",
        )
        .file(
            "../ws-b/crates/other/Cargo.toml",
            "[package]\nname = \"other\"\nversion.workspace = true\nedition.workspace = true\n\n[dependencies]\neither = \"1\"\n",
        )
        .file("../ws-b/crates/other/src/lib.rs", "")
        .build();
    let out = flow(p.sandbox(), "planner")
        .policies(&ALL_POLICIES)
        .local(&["monoapp", "shared-lib", "common"])
        .bin("monoapp", "mono real shared-lib real common 2 1")
        .run();
    assert_eq!(skeleton_index(&out.skeleton)["workspace"], "planner");
    let files = skeleton_files(&out.skeleton);
    for f in [
        "planner/Cargo.toml",
        "planner/Cargo.lock",
        "shared-lib/Cargo.toml",
        "ws-b/Cargo.toml",
        "ws-b/crates/common/Cargo.toml",
    ] {
        assert!(files.contains(f), "{f} missing: {files:#?}");
    }
    assert!(
        files.iter().all(|f| !f.starts_with("ws-b/crates/other")),
        "an unused member of the other workspace is in the skeleton: {files:#?}"
    );
}

/// `[patch.crates-io]` with a local copy of cfg-if that a registry crate (crc32fast) compiles
/// against: the patch keeps applying in cook and in the real build (the patched crate's id is a
/// `path+file` id), and crc32fast, compiled against it by cook, is not recompiled.
#[test]
fn patch_crates_io_used_by_a_registry_crate() {
    let p = project().fixture("fidelity-patch").build();
    assert!(
        p.read("Cargo.lock").contains("1.0.99"),
        "the patch is unused"
    );
    let out = flow(p.root(), ".")
        .policies(&[MtimePolicy::PreserveOlder, MtimePolicy::Earthly])
        .local(&["patchuser"])
        .real_in_skeleton(&["cfg-if"])
        .bin("patchuser", "patched cfg-if crc=e8b7be43")
        .run();
    assert_patched(&out, "1.0.99");
}

/// The patch fixture with the patched crate moved to `dest` (relative to the planner) and the
/// `[patch]` table moved to `config` (relative to the planner) when given.
fn patch_project(dest: &str, config: Option<&str>) -> Project {
    let fixture = fixtures_dir().join("fidelity-patch");
    let mut builder = project().file(
        "src/main.rs",
        &fs::read_to_string(fixture.join("src/main.rs")).unwrap(),
    );
    for rel in ["Cargo.toml", "src/lib.rs", "LICENSE-MIT"] {
        let body = fs::read_to_string(fixture.join("patched/cfg-if").join(rel)).unwrap();
        builder = builder.file(&format!("{dest}/{rel}"), &body);
    }
    let manifest = fs::read_to_string(fixture.join("Cargo.toml")).unwrap();
    let table = "[patch.crates-io]\ncfg-if = { path = \"patched/cfg-if\" }\n";
    assert!(manifest.contains(table));
    let patch = format!("[patch.crates-io]\ncfg-if = {{ path = \"{dest}\" }}\n");
    builder = match config {
        Some(config) => builder
            .file("Cargo.toml", &manifest.replace(table, ""))
            .file(config, &patch),
        None => builder.file("Cargo.toml", &manifest.replace(table, &patch)),
    };
    let p = builder.build();
    assert!(
        p.read("Cargo.lock").contains("1.0.99"),
        "the patch is unused"
    );
    p
}

/// `[patch]` in `.cargo/config.toml` (stable since cargo 1.56) rather than in the manifest:
/// the patched crate is a dependency input all the same.
#[test]
fn patch_in_cargo_config() {
    let p = patch_project("patched/cfg-if", Some(".cargo/config.toml"));
    let out = flow(p.root(), ".")
        .local(&["patchuser"])
        .real_in_skeleton(&["cfg-if"])
        .bin("patchuser", "patched cfg-if crc=e8b7be43")
        .run();
    assert_patched(&out, "1.0.99");
}

/// A `[patch]` target outside the workspace root (`../patches/cfg-if`): in the skeleton at its
/// relative position, verbatim.
#[test]
fn patch_target_outside_the_workspace() {
    let p = patch_project("../patches/cfg-if", None);
    let out = flow(p.sandbox(), "planner")
        .local(&["patchuser"])
        .real_in_skeleton(&["cfg-if"])
        .bin("patchuser", "patched cfg-if crc=e8b7be43")
        .run();
    assert_patched(&out, "1.0.99");
    assert!(skeleton_files(&out.skeleton).contains("patches/cfg-if/src/lib.rs"));
}

/// `[replace]` of the exact registry version of cfg-if by a local copy.
#[test]
fn replace_used_by_a_registry_crate() {
    // The replacement is the patch fixture's cfg-if copy at the registry's exact version.
    let patched = fixtures_dir().join("fidelity-patch/patched/cfg-if");
    let read = |rel: &str| std::fs::read_to_string(patched.join(rel)).unwrap();
    let edited = |rel: &str, from: &str, to: &str| {
        let text = read(rel);
        assert!(text.contains(from), "{rel} lacks {from:?}");
        text.replace(from, to)
    };
    let p = project()
        .fixture("fidelity-replace")
        .file(
            "replaced/cfg-if/Cargo.toml",
            &edited("Cargo.toml", "version = \"1.0.99\"", "version = \"1.0.0\""),
        )
        .file(
            "replaced/cfg-if/src/lib.rs",
            &edited("src/lib.rs", "\"patched cfg-if\"", "\"replaced cfg-if\""),
        )
        .file("replaced/cfg-if/LICENSE-MIT", &read("LICENSE-MIT"))
        .build();
    let out = flow(p.root(), ".")
        .policies(&[MtimePolicy::PreserveOlder])
        .local(&["replaceuser"])
        .real_in_skeleton(&["cfg-if"])
        .bin("replaceuser", "replaced cfg-if crc=e8b7be43")
        .run();
    assert_patched(&out, "1.0.0");
}

/// In every build: cfg-if comes from the local path, crc32fast from the registry, fresh.
fn assert_patched(out: &Outcome, version: &str) {
    for built in &out.builds {
        let arts = &built.report.artifacts;
        let cfg_if: Vec<_> = arts.iter().filter(|a| a.package == "cfg-if").collect();
        assert!(
            !cfg_if.is_empty()
                && cfg_if
                    .iter()
                    .all(|a| a.package_id.starts_with("path+file://")
                        && a.package_id.ends_with(version)),
            "{:?}: cfg-if is not the local copy: {cfg_if:#?}",
            built.policy
        );
        assert!(
            arts.iter()
                .any(|a| a.package == "crc32fast" && !a.local && a.fresh),
            "{:?}: crc32fast not reused from the cook\n{}",
            built.policy,
            built.output.describe()
        );
    }
}

/// `cargo vendor` and the `[source]` replacement it prints: the vendor directory is in the
/// skeleton verbatim, and cook and the real build work `--offline` with an empty `CARGO_HOME`.
#[test]
fn vendored_sources_offline_with_empty_cargo_home() {
    let p = project()
        .file(
            "Cargo.toml",
            &pkg("vendored", "itoa = \"1\"\ncfg-if = \"1\"\n"),
        )
        .file(
            "src/main.rs",
            "cfg_if::cfg_if! { if #[cfg(unix)] { const OS: &str = \"unix\"; } else { const OS: &str = \"other\"; } }\nfn main() {\n    println!(\"vendored {} {}\", OS, itoa::Buffer::new().format(9));\n}\n",
        )
        .build();
    let vendor = p.cargo(&["vendor", "--locked", "vendor"]);
    vendor.assert_ok("cargo vendor");
    let config = vendor.stdout_str();
    assert!(config.contains("[source.crates-io]"), "{config}");
    p.write(".cargo/config.toml", &config);
    p.backdate();
    let home = p.sandbox().join("empty-cargo-home");
    fs::create_dir_all(&home).unwrap();
    let out = flow(p.root(), ".")
        .env("CARGO_HOME", &home)
        .flags(&["--offline", "--locked"])
        .local(&["vendored"])
        .bin("vendored", "vendored unix 9")
        .run();
    let files = skeleton_files(&out.skeleton);
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("vendor/itoa") && f.ends_with(".cargo-checksum.json")),
        "vendored crates missing from the skeleton: {files:#?}"
    );
    assert!(
        fs::read_dir(&home).unwrap().all(|e| {
            let name = e.unwrap().file_name();
            name != "registry" && name != "git"
        }),
        "cargo used the registry instead of the vendored sources"
    );
}

/// The `[source]` replacement in an ancestor's `.cargo/config.toml`, with the vendor directory
/// beside it, outside the workspace: both at their relative positions in the skeleton.
#[test]
fn vendored_sources_in_ancestor() {
    let p = project()
        .file("Cargo.toml", &pkg("ancvendored", "itoa = \"1\"\n"))
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"ancestor vendor {}\", itoa::Buffer::new().format(5));\n}\n",
        )
        .build();
    p.cargo(&["vendor", "--locked", "../vendor"])
        .assert_ok("cargo vendor ../vendor");
    p.write(
        "../.cargo/config.toml",
        "[source.crates-io]\nreplace-with = \"vendored-sources\"\n\n[source.vendored-sources]\ndirectory = \"vendor\"\n",
    );
    let home = p.sandbox().join("empty-cargo-home");
    fs::create_dir_all(&home).unwrap();
    let out = flow(p.sandbox(), "planner")
        .skip(&["empty-cargo-home"])
        .env("CARGO_HOME", &home)
        .flags(&["--offline", "--locked"])
        .local(&["ancvendored"])
        .bin("ancvendored", "ancestor vendor 5")
        .run();
    let files = skeleton_files(&out.skeleton);
    assert!(
        files.contains(".cargo/config.toml")
            && files
                .iter()
                .any(|f| f.starts_with("vendor/itoa/") && f.ends_with(".cargo-checksum.json")),
        "{files:#?}"
    );
}

/// A git dependency from a local `file://` repository (itself depending on a registry crate):
/// cook compiles it through cargo and the real build does not (git ids start with `git+`).
#[test]
fn git_dependency_from_local_repository() {
    let p = project()
        .file("Cargo.toml", &pkg("gituser", ""))
        .file("src/main.rs", "fn main() {}\n")
        .no_lockfile()
        .build();
    let repo = p.sandbox().join("gitrepo");
    fs::create_dir_all(repo.join("src")).unwrap();
    fs::write(repo.join("Cargo.toml"), pkg("gdep", "itoa = \"1\"\n")).unwrap();
    fs::write(
        repo.join("src/lib.rs"),
        "pub fn from_git() -> String {\n    format!(\"git dep {}\", itoa::Buffer::new().format(3))\n}\n",
    )
    .unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "gdep"]);
    p.write(
        "Cargo.toml",
        &pkg(
            "gituser",
            &format!("gdep = {{ git = \"file://{}\" }}\n", repo.display()),
        ),
    );
    p.write(
        "src/main.rs",
        "fn main() {\n    println!(\"{}\", gdep::from_git());\n}\n",
    );
    p.generate_lockfile();
    p.backdate();
    let out = flow(p.root(), ".")
        .flags(&["--locked"])
        .local(&["gituser"])
        .bin("gituser", "git dep 3")
        .run();
    for built in &out.builds {
        assert!(
            built
                .report
                .artifacts
                .iter()
                .any(|a| a.package_id.starts_with("git+file://") && a.fresh),
            "no fresh git artifact\n{}",
            built.output.describe()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Lockfile

/// A local `itoa` member beside the registry `itoa` (renamed), so `Cargo.lock` refers to both in
/// the `"name version"` form. Bumping the local version changes neither the skeleton nor what
/// cook built: the bumped tree's `cargo build --locked` compiles nothing external.
/// (commands.rs covers `cook --locked` on the unbumped tree.)
#[test]
fn lockfile_exact_across_a_local_version_bump() {
    let p = project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"app\", \"itoa\"]\nresolver = \"2\"\n",
        )
        .file(
            "itoa/Cargo.toml",
            "[package]\nname = \"itoa\"\nversion = \"0.5.0\"\nedition = \"2021\"\n",
        )
        .file(
            "itoa/src/lib.rs",
            "pub fn local() -> &'static str {\n    \"local itoa\"\n}\n",
        )
        .file(
            "app/Cargo.toml",
            &pkg(
                "app",
                "itoa = { path = \"../itoa\", version = \"0.5\" }\nreal-itoa = { package = \"itoa\", version = \"1\" }\n",
            ),
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    println!(\"{} and {}\", itoa::local(), real_itoa::Buffer::new().format(1));\n}\n",
        )
        .build();
    let before = p.sandbox().join("skel-before");
    let digest_before = p.prepare(&before);

    p.edit("itoa/Cargo.toml", "0.5.0", "0.6.0");
    p.edit("app/Cargo.toml", "version = \"0.5\"", "version = \"0.6\"");
    p.cargo(&["metadata", "--format-version", "1", "--offline"])
        .assert_ok("relock after the bump");
    assert!(p.read("Cargo.lock").contains("0.6.0"));
    p.backdate();

    let out = flow(p.root(), ".")
        .flags(&["--locked"])
        .policies(&[MtimePolicy::PreserveOlder, MtimePolicy::Now])
        .local(&["app", "itoa"])
        .bin("app", "local itoa and 1")
        .run();
    let digest_after = out.prepare.stdout_str().trim().to_string();
    assert_eq!(
        digest_before, digest_after,
        "a local version bump changed the skeleton"
    );
    let lock = skeleton_file(&out.skeleton, "Cargo.lock");
    assert!(
        lock.contains("\"itoa 0.0.0\"") && lock.contains("\"itoa 1."),
        "the `name version` references are not rewritten consistently:\n{lock}"
    );
    assert!(!lock.contains("0.5.0") && !lock.contains("0.6.0"), "{lock}");
}

/// No `Cargo.lock`: prepare warns, cook resolves, the real build (resolving the same way)
/// compiles nothing external.
#[test]
fn no_lockfile_warns_and_cook_resolves() {
    let p = project()
        .file(
            "Cargo.toml",
            &pkg("unlocked", "itoa = \"1\"\ncfg-if = \"1\"\n"),
        )
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"unlocked {}\", itoa::Buffer::new().format(0));\n}\n",
        )
        .no_lockfile()
        .build();
    let mut flow = flow(p.root(), ".")
        .local(&["unlocked"])
        .bin("unlocked", "unlocked 0");
    // A `Cargo.lock` cargo wrote during cook is cargo's output, not a laid-out file.
    flow.outputs.push("Cargo.lock".into());
    let out = flow.run();
    let stderr = out.prepare.stderr_str();
    assert!(
        stderr.contains("warning:") && stderr.contains("Cargo.lock"),
        "prepare did not warn about the missing lockfile:\n{stderr}"
    );
    assert!(!skeleton_files(&out.skeleton).contains("Cargo.lock"));
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
    let out = flow(p.root(), ".")
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
        files.contains(".cargo-prebuild-stub/build.rs")
            && sys.contains("build = \"../.cargo-prebuild-stub/build.rs\""),
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
    let out = flow(p.root(), ".")
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
    flow(p.root(), ".")
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
    let out = flow(p.root(), ".")
        .local(&["core-only", "stdapp"])
        .bin("stdapp", "no_std digits 4")
        .run();
    let stubs: Vec<String> = skeleton_files(&out.skeleton)
        .into_iter()
        .filter(|f| f.contains(".cargo-prebuild-stub/"))
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
