//! The one end-to-end runner: prepare in the source tree -> ship the skeleton elsewhere ->
//! cook in an empty builder in another temporary directory -> for each mtime policy, the real
//! tree copied over a fresh copy of the cooked builder and the same cargo command run with
//! `--message-format json`: no external package compiled, exactly the named local packages
//! compiled, no stub in any output, and every executable the real program.
//!
//! The builder lives outside the project's sandbox, so nothing of the source side (an
//! ancestor `.cargo/config`, say) can reach cook except through the skeleton.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cargo_prebuild::skeleton::stubs::MARKER;
use filetime::FileTime;
use tempfile::TempDir;
use walkdir::WalkDir;

use super::*;

/// What running a produced executable must show.
#[derive(Clone, Debug)]
pub enum Expect {
    /// exits 0 and prints exactly this (trailing whitespace trimmed).
    Stdout(String),
    /// a libtest harness: exits 0 and reports each named test as `ok`.
    TestsPass(Vec<String>),
}

/// A run to make; see the module's comment.
pub struct E2e {
    /// The tree copied for the real build; the workspace is `src/ws`.
    src: PathBuf,
    ws: String,
    cook_command: Option<String>,
    cargo_command: Vec<String>,
    flags: Vec<String>,
    env: Vec<(String, OsString)>,
    /// prepare, cook and the real build as `cargo ...` through the rustup proxy.
    proxy: bool,
    /// `+toolchain` given to the proxy.
    plus: Option<String>,
    policies: Vec<MtimePolicy>,
    local: BTreeSet<String>,
    real_in_skeleton: BTreeSet<String>,
    exes: BTreeMap<String, Expect>,
    check_exes: bool,
    /// Paths relative to the tree root that cook may leave (besides `<ws>/target`).
    outputs: Vec<String>,
    /// Top-level entries of `src` not copied for the real build.
    skip: Vec<String>,
}

/// One real build of a run.
pub struct Built {
    pub policy: MtimePolicy,
    pub output: Output,
    pub report: BuildReport,
}

/// What a run left for further checks.
pub struct Outcome {
    _tmp: TempDir,
    /// The shipped skeleton directory cook read (`cargo-prebuild.json`, `tree.tar`).
    pub skeleton: PathBuf,
    pub prepare: Output,
    /// The builder's tree root; the workspace sits at `ws_dir`.
    pub tree: PathBuf,
    /// The tree as cook left it.
    pub snapshot: PathBuf,
    pub ws_dir: PathBuf,
    pub builds: Vec<Built>,
}

/// A run on the project's workspace, under every mtime policy, building with `cargo build`.
pub fn e2e(project: &Project) -> E2e {
    E2e {
        src: project.root().to_path_buf(),
        ws: ".".into(),
        cook_command: None,
        cargo_command: vec!["build".into()],
        flags: Vec::new(),
        env: Vec::new(),
        proxy: false,
        plus: None,
        policies: ALL_POLICIES.to_vec(),
        local: BTreeSet::new(),
        real_in_skeleton: BTreeSet::new(),
        exes: BTreeMap::new(),
        check_exes: true,
        outputs: Vec::new(),
        skip: vec!["target".into()],
    }
}

impl E2e {
    /// The tree to copy is `src` (the project's sandbox, say, to carry ancestors of the
    /// workspace), the workspace `src/ws`.
    pub fn tree(mut self, src: &Path, ws: &str) -> Self {
        self.src = src.to_path_buf();
        self.ws = ws.to_string();
        self
    }

    /// Flags given to both cook and the real cargo command.
    pub fn flags(mut self, flags: &[&str]) -> Self {
        self.flags = flags.iter().map(|s| s.to_string()).collect();
        self
    }

    /// An environment variable for prepare, cook and the real build.
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.env.push((key.to_string(), value.into()));
        self
    }

    /// prepare and cook as `cargo prebuild ...`, the build as `cargo build`, all through the
    /// rustup proxy (so a toolchain file decides).
    pub fn through_rustup_proxy(mut self) -> Self {
        self.proxy = true;
        self
    }

    /// `cargo +<toolchain> ...` through the proxy.
    pub fn plus_toolchain(mut self, toolchain: &str) -> Self {
        self.proxy = true;
        self.plus = Some(format!("+{toolchain}"));
        self
    }

    /// `cook --command <name>`; the real build runs `cargo <name>` (`test --no-run` for test).
    pub fn command(mut self, name: &str) -> Self {
        self.cook_command = Some(name.to_string());
        self.cargo_command = if name == "test" {
            vec!["test".into(), "--no-run".into()]
        } else {
            vec![name.into()]
        };
        self
    }

    pub fn policies(mut self, policies: &[MtimePolicy]) -> Self {
        self.policies = policies.to_vec();
        self
    }

    /// Local packages the real build must compile (exactly this set).
    pub fn local(mut self, names: &[&str]) -> Self {
        self.local = names.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn bin(self, name: &str, stdout: &str) -> Self {
        self.exe(&format!("bin:{name}"), Expect::Stdout(stdout.into()))
    }

    /// An executable by key (see `Artifact::key`).
    pub fn exe(mut self, key: &str, expect: Expect) -> Self {
        self.exes.insert(key.into(), expect);
        self
    }

    pub fn tests(self, key: &str, names: &[&str]) -> Self {
        self.exe(
            key,
            Expect::TestsPass(names.iter().map(|s| s.to_string()).collect()),
        )
    }

    /// Paths (relative to the tree root) cook may leave besides `<ws>/target`: output
    /// directories moved by a `.cargo/config.toml`, a `Cargo.lock` cargo wrote.
    pub fn outputs(mut self, paths: &[&str]) -> Self {
        self.outputs.extend(paths.iter().map(|s| s.to_string()));
        self
    }

    /// Top-level entries of the source tree not copied for the real build.
    pub fn skip(mut self, names: &[&str]) -> Self {
        self.skip.extend(names.iter().map(|s| s.to_string()));
        self
    }

    /// Local packages the skeleton carries verbatim (e.g. `[patch]` targets): cook compiled
    /// their real sources, so the real build may reuse them or, by mtime, recompile them.
    pub fn real_in_skeleton(mut self, names: &[&str]) -> Self {
        self.real_in_skeleton = names.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Applies a set of expectations kept in one function (what a fixture's targets print).
    pub fn with(self, expectations: impl FnOnce(Self) -> Self) -> Self {
        expectations(self)
    }

    /// Produces no executables to check (check, clippy, doc).
    pub fn no_executables(mut self) -> Self {
        self.check_exes = false;
        self
    }

    /// The workspace's path in the tree, `None` at the tree root.
    fn ws_path(&self) -> Option<PathBuf> {
        (self.ws != ".").then(|| PathBuf::from(&self.ws))
    }

    /// `cargo-prebuild prebuild` in `dir`, or `cargo prebuild` through the proxy.
    fn prebuild_in(&self, dir: &Path, tools: &Path) -> Command {
        let mut cmd = if self.proxy {
            let mut c = self.proxy_cmd(dir, tools);
            c.arg("prebuild");
            c
        } else {
            prebuild_cmd(dir)
        };
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    fn proxy_cmd(&self, dir: &Path, tools: &Path) -> Command {
        let mut c = proxy_cargo(dir, tools);
        c.args(&self.plus);
        c
    }

    pub fn run(self) -> Outcome {
        let tmp = tempfile::Builder::new()
            .prefix("cpb-e2e-")
            .tempdir()
            .unwrap();
        let base = tmp.path().to_path_buf();
        let tools = install_tool(&base);
        let ws_src = self
            .ws_path()
            .map_or(self.src.clone(), |ws| self.src.join(ws));

        let planned = base.join("planner-out/skel");
        let mut prepare = self.prebuild_in(&ws_src, &tools);
        prepare.arg("prepare").arg("--skeleton").arg(&planned);
        let prepare = run(&mut prepare);
        prepare.assert_ok("prepare");
        parse_digest(&prepare.stdout_str());

        // The skeleton travels to the builder as a copy (an image layer, a build context).
        let skeleton = base.join("ship/skeleton");
        fs::create_dir_all(skeleton.parent().unwrap()).unwrap();
        cp_a(&planned, &skeleton);

        let tree = base.join("stage/tree");
        let ws_dir = self.ws_path().map_or(tree.clone(), |ws| tree.join(ws));
        fs::create_dir_all(&ws_dir).unwrap();
        let mut cook = self.prebuild_in(&ws_dir, &tools);
        cook.arg("cook").arg("--skeleton").arg(&skeleton);
        if let Some(c) = &self.cook_command {
            cook.args(["--command", c]);
        }
        cook.args(&self.flags);
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

    /// Every file left in the tree after cook is under `<ws>/target`, a `--target-dir` or a
    /// declared output; every directory left is one of those or leads to the workspace.
    fn assert_only_outputs_left(&self, tree: &Path) {
        let ws = self.ws_path().unwrap_or_default();
        let ws = ws.as_path();
        let mut outputs: Vec<PathBuf> = vec![ws.join("target")];
        outputs.extend(self.outputs.iter().map(PathBuf::from));
        if let Some(i) = self.flags.iter().position(|f| f == "--target-dir") {
            outputs.push(ws.join(&self.flags[i + 1]));
        }
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
        cmd.args(&self.cargo_command)
            .args(&self.flags)
            .args(["--message-format", "json"]);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let output = run(&mut cmd);
        let what = format!(
            "real `cargo {} {}` under {policy:?}",
            self.cargo_command.join(" "),
            self.flags.join(" ")
        );
        output.assert_ok(&what);
        let report = BuildReport::parse(&output.stdout);
        assert_exact_rebuild(&output, &report, &what, &self.real_in_skeleton, &self.local);
        assert_no_stub_in_outputs(&output, &what);
        if self.check_exes {
            let exes = report.executables();
            let produced: BTreeSet<&String> = exes.keys().collect();
            let expected: BTreeSet<&String> = self.exes.keys().collect();
            assert_eq!(produced, expected, "{what}: executables produced");
            for (key, path) in &exes {
                check_executable(key, path, &self.exes[key], ws_dir, &what);
            }
        }
        Built {
            policy,
            output,
            report,
        }
    }
}

/// What a stub binary says when run (its refusal, in `stubs::BIN`).
pub const STUB_SAYS: &str = "this binary is a cargo-prebuild stub";

/// Runs one produced executable and checks it is the real program.
pub fn check_executable(key: &str, path: &Path, expect: &Expect, cwd: &Path, what: &str) {
    let bytes = fs::read(path).unwrap();
    assert!(
        !contains(&bytes, MARKER.as_bytes()),
        "{what}: {key} ({}) contains the stub marker `{MARKER}`",
        path.display()
    );
    let out = run(Command::new(path).current_dir(cwd));
    let stdout = out.stdout_str();
    assert!(
        !stdout.contains(STUB_SAYS) && !out.stderr_str().contains(STUB_SAYS),
        "{what}: {key} is a stub\n{}",
        out.describe()
    );
    out.assert_ok(&format!("{what}: running {key}"));
    match expect {
        Expect::Stdout(s) => assert_eq!(stdout.trim_end(), s.as_str(), "{what}: output of {key}"),
        Expect::TestsPass(names) => {
            for name in names {
                assert!(
                    stdout.contains(&format!("test {name} ... ok")),
                    "{what}: {key} did not run test `{name}`\n{}",
                    out.describe()
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The rustup proxy

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
pub fn proxy_cargo(dir: &Path, tools: &Path) -> Command {
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
pub fn install_tool(dir: &Path) -> PathBuf {
    let tools = dir.join("tools");
    fs::create_dir_all(&tools).unwrap();
    std::os::unix::fs::symlink(bin_path(), tools.join("cargo-prebuild")).unwrap();
    tools
}
