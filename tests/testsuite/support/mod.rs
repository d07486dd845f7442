//! Test support: a `project()` builder writing fixtures into a `TempDir`, process helpers with
//! a scrubbed environment, tree copies under an mtime policy, skeleton listings, cargo JSON
//! message parsing, and the end-to-end prepare -> cook -> real build runner.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

pub mod unit_graph;

use filetime::FileTime;
use tempfile::TempDir;
use walkdir::WalkDir;

/// 2020-04-16T00:00:00Z: the mtime Earthly stamps on every file it copies.
pub const EARTHLY_EPOCH: i64 = 1_586_995_200;

/// What a stub prints, and therefore a string no real artifact may contain.
pub const STUB_MARKER: &str = "cargo-prebuild stub";

pub fn bin_path() -> &'static str {
    env!("CARGO_BIN_EXE_cargo-prebuild")
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn host_triple() -> String {
    let out = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("-vV")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("`rustc -vV` prints a host line")
        .trim()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Processes

/// Removes everything from the inherited environment that would change what cargo builds or
/// how it prints, so children behave the same whatever the developer's shell exports.
pub fn scrub(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key == "CARGO_TARGET_DIR"
            || key.starts_with("CARGO_BUILD_")
            || key == "RUSTFLAGS"
            || key == "CARGO_ENCODED_RUSTFLAGS"
            || key == "RUSTDOCFLAGS"
            || key == "CARGO_ENCODED_RUSTDOCFLAGS"
            || key.starts_with("CARGO_TERM_")
            || key == "CARGO_INCREMENTAL"
        {
            cmd.env_remove(key);
        }
    }
    cmd.env("CARGO_TERM_COLOR", "never");
    cmd
}

/// Whether the outside programs a test needs are on `PATH`. Without them the test is skipped
/// with a note on stderr, so `cargo test` works on a fresh machine; `.ci/run` installs them
/// and sets `CARGO_PREBUILD_REQUIRE_TOOLS=1`, which turns a missing one into a failure, so CI
/// can never pass such a test silently.
pub fn have_tools(programs: &[&str], install: &str) -> bool {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| {
            // Spawning is the test: some of them exit non-zero on `--version`.
            Command::new(p)
                .arg("--version")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_err()
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("CARGO_PREBUILD_REQUIRE_TOOLS").is_none(),
        "{missing:?} not found on PATH ({install})"
    );
    eprintln!("note: skipped: {missing:?} not found on PATH ({install}; `.ci/run` does)");
    false
}

/// `cargo-prebuild prebuild ...` in `dir`, as cargo spawns subcommands.
pub fn prebuild_cmd(dir: &Path) -> Command {
    let mut cmd = Command::new(bin_path());
    scrub(&mut cmd);
    cmd.current_dir(dir).arg("prebuild");
    cmd
}

pub fn prebuild<I, S>(dir: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = prebuild_cmd(dir);
    cmd.args(args);
    run(&mut cmd)
}

pub fn cargo_cmd(dir: &Path) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    scrub(&mut cmd);
    cmd.current_dir(dir);
    cmd
}

pub fn cargo<I, S>(dir: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = cargo_cmd(dir);
    cmd.args(args);
    run(&mut cmd)
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("failed to spawn {cmd:?}: {e}"))
}

/// Assertions on a finished process that print everything it said when they fail.
pub trait OutputExt {
    fn stdout_str(&self) -> String;
    fn stderr_str(&self) -> String;
    fn describe(&self) -> String;
    fn assert_ok(&self, what: &str) -> &Self;
    fn assert_code(&self, code: i32, what: &str) -> &Self;
}

impl OutputExt for Output {
    fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    fn describe(&self) -> String {
        let mut stdout = self.stdout_str();
        if stdout.len() > 6000 {
            stdout = format!("...{}", &stdout[stdout.len() - 6000..]);
        }
        format!(
            "status: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status,
            stdout,
            self.stderr_str()
        )
    }
    fn assert_ok(&self, what: &str) -> &Self {
        assert!(self.status.success(), "{what} failed\n{}", self.describe());
        self
    }
    fn assert_code(&self, code: i32, what: &str) -> &Self {
        assert_eq!(
            self.status.code(),
            Some(code),
            "{what}: expected exit code {code}\n{}",
            self.describe()
        );
        self
    }
}

/// Parses `sha256:<64 lowercase hex>` (the whole of prepare's stdout) into the digest line.
pub fn parse_digest(stdout: &str) -> String {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "prepare must print exactly one line, got {stdout:?}"
    );
    let line = lines[0].trim_end();
    assert!(is_digest(line), "not a `sha256:<64 hex>` digest: {line:?}");
    line.to_string()
}

pub fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

// ---------------------------------------------------------------------------------------------
// Project builder

pub struct ProjectBuilder {
    fixture: Option<String>,
    files: Vec<(String, String)>,
    lockfile: bool,
}

/// A fixture workspace in `<tmp>/planner`, in the style of cargo's `ProjectBuilder`.
pub fn project() -> ProjectBuilder {
    ProjectBuilder {
        fixture: None,
        files: Vec::new(),
        lockfile: true,
    }
}

impl ProjectBuilder {
    /// Starts from the committed `tests/fixtures/<name>` tree.
    pub fn fixture(mut self, name: &str) -> Self {
        self.fixture = Some(name.to_string());
        self
    }

    pub fn file(mut self, path: &str, body: &str) -> Self {
        self.files.push((path.to_string(), body.to_string()));
        self
    }

    /// Skips `cargo generate-lockfile`.
    pub fn no_lockfile(mut self) -> Self {
        self.lockfile = false;
        self
    }

    pub fn build(self) -> Project {
        let tmp = tempfile::Builder::new().prefix("cpb-").tempdir().unwrap();
        let root = tmp.path().join("planner");
        fs::create_dir_all(&root).unwrap();
        if let Some(name) = &self.fixture {
            let src = fixtures_dir().join(name);
            assert!(src.is_dir(), "no fixture {}", src.display());
            copy_tree(&src, &root, MtimePolicy::Now, &[]);
        }
        let project = Project { tmp, root };
        for (path, body) in &self.files {
            project.write(path, body);
        }
        if self.lockfile {
            project.generate_lockfile();
        }
        project.backdate();
        project
    }
}

pub struct Project {
    tmp: TempDir,
    root: PathBuf,
}

impl Project {
    /// The workspace ("planner") directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The temp dir holding the planner and everything a test creates next to it.
    pub fn sandbox(&self) -> &Path {
        self.tmp.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn write(&self, rel: &str, body: &str) {
        let path = self.root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, body).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    /// Replaces `from` by `to` in a file, failing if `from` is absent (so edits cannot
    /// silently do nothing).
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let body = self.read(rel);
        assert!(
            body.contains(from),
            "{rel} does not contain {from:?}:\n{body}"
        );
        self.write(rel, &body.replacen(from, to, 1));
    }

    pub fn cargo(&self, args: &[&str]) -> Output {
        cargo(&self.root, args)
    }

    pub fn generate_lockfile(&self) {
        self.cargo(&["generate-lockfile"])
            .assert_ok("cargo generate-lockfile");
    }

    /// Sets every file of the planner one day into the past, so a copy that preserves mtimes
    /// gives sources older than any later cook.
    pub fn backdate(&self) {
        let day_ago = FileTime::from_system_time(SystemTime::now() - Duration::from_secs(86_400));
        for entry in WalkDir::new(&self.root).min_depth(1) {
            let entry = entry.unwrap();
            filetime::set_symlink_file_times(entry.path(), day_ago, day_ago).unwrap();
        }
    }

    /// `prepare` into `<sandbox>/skel`, and an empty `<sandbox>/builder` to cook in: how most
    /// cook tests start.
    pub fn skeleton_and_builder(&self) -> (PathBuf, PathBuf) {
        let skel = self.sandbox().join("skel");
        self.prepare(&skel);
        let builder = self.sandbox().join("builder");
        fs::create_dir_all(&builder).unwrap();
        (skel, builder)
    }

    /// `prepare --skeleton <skel>` in the planner; returns the digest line.
    pub fn prepare(&self, skel: &Path) -> String {
        let out = prebuild(
            &self.root,
            [
                OsStr::new("prepare"),
                "--skeleton".as_ref(),
                skel.as_os_str(),
            ],
        );
        out.assert_ok("prepare");
        parse_digest(&out.stdout_str())
    }

    /// A copy of the planner in a new sandbox (Cargo.lock included, mtimes preserved).
    pub fn duplicate(&self) -> Project {
        let tmp = tempfile::Builder::new().prefix("cpb-").tempdir().unwrap();
        let root = tmp.path().join("planner");
        copy_tree(&self.root, &root, MtimePolicy::PreserveOlder, &["target"]);
        Project { tmp, root }
    }

    /// Keeps the sandbox on disk (for debugging a failing test).
    pub fn keep(self) -> PathBuf {
        self.tmp.keep()
    }
}

// ---------------------------------------------------------------------------------------------
// Trees and mtimes

/// How the real sources are stamped when copied over the cooked builder directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MtimePolicy {
    /// mtimes preserved from the planner, which are a day older than the cook.
    PreserveOlder,
    /// every copied file at 2020-04-16T00:00:00Z (Earthly's COPY).
    Earthly,
    /// every copied file stamped now (after the cook).
    Now,
    /// the whole cooked directory (target/ included) re-stamped to now, then the sources
    /// copied with their older mtimes (a Kaniko snapshot or a CI cache restore).
    RestampCookedThenCopy,
}

pub const ALL_POLICIES: [MtimePolicy; 4] = [
    MtimePolicy::PreserveOlder,
    MtimePolicy::Earthly,
    MtimePolicy::Now,
    MtimePolicy::RestampCookedThenCopy,
];

/// The two policies that catch most mtime mistakes (sources older than the cook; a cooked
/// layer re-stamped to now), for tests whose subject is not mtimes.
pub const FAST_POLICIES: [MtimePolicy; 2] = [
    MtimePolicy::PreserveOlder,
    MtimePolicy::RestampCookedThenCopy,
];

/// Copies `src` into `dst` (created), skipping top-level entries named in `exclude`, setting
/// each file's mtime by `policy` (directories are created fresh). File modes are copied.
pub fn copy_tree(src: &Path, dst: &Path, policy: MtimePolicy, exclude: &[&str]) {
    fs::create_dir_all(dst).unwrap();
    let now = FileTime::now();
    let walker = WalkDir::new(src)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    let walker = walker.filter_entry(|e| {
        !(e.depth() == 1 && exclude.iter().any(|x| e.file_name() == OsStr::new(x)))
    });
    for entry in walker {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(src).unwrap();
        let to = dst.join(rel);
        let ft = entry.file_type();
        if ft.is_dir() {
            fs::create_dir_all(&to).unwrap();
            continue;
        }
        if ft.is_symlink() {
            let target = fs::read_link(entry.path()).unwrap();
            let _ = fs::remove_file(&to);
            std::os::unix::fs::symlink(target, &to).unwrap();
            continue;
        }
        if to.exists() {
            fs::remove_file(&to).unwrap();
        }
        fs::copy(entry.path(), &to)
            .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", entry.path().display(), to.display()));
        let mtime = match policy {
            MtimePolicy::PreserveOlder | MtimePolicy::RestampCookedThenCopy => {
                FileTime::from_last_modification_time(&entry.metadata().unwrap())
            }
            MtimePolicy::Earthly => FileTime::from_unix_time(EARTHLY_EPOCH, 0),
            MtimePolicy::Now => now,
        };
        filetime::set_file_times(&to, mtime, mtime).unwrap();
    }
}

/// Sets the mtime of everything under `dir` (files and directories) to `time`.
pub fn restamp(dir: &Path, time: FileTime) {
    for entry in WalkDir::new(dir).contents_first(true) {
        let entry = entry.unwrap();
        if entry.file_type().is_symlink() {
            continue;
        }
        filetime::set_file_times(entry.path(), time, time).unwrap();
    }
}

/// `cp -a src dst`: an exact copy, mtimes and modes preserved.
pub fn cp_a(src: &Path, dst: &Path) {
    let out = run(Command::new("cp").arg("-a").arg(src).arg(dst));
    out.assert_ok("cp -a");
}

pub fn rm_rf(path: &Path) {
    if path.exists() {
        fs::remove_dir_all(path).unwrap_or_else(|e| panic!("rm -rf {}: {e}", path.display()));
    }
}

/// One entry of a tree listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Dir { mode: u32 },
    File { mode: u32, bytes: Vec<u8> },
    Link { target: PathBuf },
}

/// Every entry under `dir` (not `dir` itself), by relative path: type, permission bits and
/// contents. Two equal listings mean byte-identical trees.
pub fn listing(dir: &Path) -> BTreeMap<String, Node> {
    let mut map = BTreeMap::new();
    for entry in WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let entry = entry.unwrap();
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let meta = entry.path().symlink_metadata().unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        let node = if meta.file_type().is_symlink() {
            Node::Link {
                target: fs::read_link(entry.path()).unwrap(),
            }
        } else if meta.is_dir() {
            Node::Dir { mode }
        } else {
            Node::File {
                mode,
                bytes: fs::read(entry.path()).unwrap(),
            }
        };
        map.insert(rel, node);
    }
    map
}

/// Asserts two listings are equal, naming each differing path.
pub fn assert_same_tree(a: &BTreeMap<String, Node>, b: &BTreeMap<String, Node>, what: &str) {
    if a == b {
        return;
    }
    let mut report = String::new();
    for path in a.keys().chain(b.keys()).collect::<BTreeSet<_>>() {
        match (a.get(path), b.get(path)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) => {
                report.push_str(&format!("  differs: {path}\n{}", node_diff(x, y)));
            }
            (Some(_), None) => report.push_str(&format!("  only in first: {path}\n")),
            (None, Some(_)) => report.push_str(&format!("  only in second: {path}\n")),
            (None, None) => unreachable!(),
        }
    }
    panic!("{what}: trees differ\n{report}");
}

fn node_diff(x: &Node, y: &Node) -> String {
    match (x, y) {
        (
            Node::File {
                mode: m1,
                bytes: b1,
            },
            Node::File {
                mode: m2,
                bytes: b2,
            },
        ) => {
            let mut s = String::new();
            if m1 != m2 {
                s.push_str(&format!("    mode {m1:o} vs {m2:o}\n"));
            }
            if b1 != b2 {
                s.push_str(&format!(
                    "    --- first\n{}\n    --- second\n{}\n",
                    String::from_utf8_lossy(b1),
                    String::from_utf8_lossy(b2)
                ));
            }
            s
        }
        _ => format!("    {x:?}\n    vs {y:?}\n"),
    }
}

/// Relative paths of the files (not directories) under `dir`.
pub fn files_under(dir: &Path) -> BTreeSet<String> {
    listing(dir)
        .into_iter()
        .filter(|(_, n)| !matches!(n, Node::Dir { .. }))
        .map(|(p, _)| p)
        .collect()
}

pub fn top_level(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// cargo --message-format json

#[derive(Clone, Debug)]
pub struct Artifact {
    pub package_id: String,
    /// Package name (parsed from the package id spec).
    pub package: String,
    pub local: bool,
    pub target_name: String,
    pub kind: String,
    pub test: bool,
    pub fresh: bool,
    pub executable: Option<PathBuf>,
}

impl Artifact {
    /// `bin:app`, `example:demo`, `test:it`, `bench:b`, `lib-test:core`, `bin-test:app`.
    pub fn key(&self) -> String {
        match self.kind.as_str() {
            "test" | "bench" | "example" => format!("{}:{}", self.kind, self.target_name),
            kind if self.test => format!("{kind}-test:{}", self.target_name),
            kind => format!("{kind}:{}", self.target_name),
        }
    }
}

/// Package name from a package id spec: `registry+...#itoa@1.0.11` -> `itoa`,
/// `path+file:///x/foo#0.1.0` -> `foo`, `path+file:///x/dir#bar@0.1.0` -> `bar`.
pub fn package_name(id: &str) -> String {
    let (url, frag) = id.rsplit_once('#').unwrap_or((id, ""));
    match frag.split_once('@') {
        Some((name, _)) => name.to_string(),
        None => url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(url)
            .to_string(),
    }
}

/// The guarantee after cook, from the real build's JSON: no external package compiled, no
/// local unit reused from the cook (unless its real sources are in the skeleton), and exactly
/// the `local` packages compiled.
pub fn assert_exact_rebuild(
    out: &Output,
    report: &BuildReport,
    what: &str,
    real_in_skeleton: &BTreeSet<String>,
    local: &BTreeSet<String>,
) {
    let external = report.external_compiled();
    assert!(
        external.is_empty(),
        "{what}: external packages were recompiled after cook: {external:#?}\n--- stderr\n{}",
        out.stderr_str()
    );
    assert!(
        !report.external_fresh().is_empty() || report.artifacts.iter().all(|a| a.local),
        "{what}: no external artifacts at all?"
    );
    let fresh_local: Vec<String> = report
        .artifacts
        .iter()
        .filter(|a| a.local && a.fresh && !real_in_skeleton.contains(&a.package))
        .map(|a| format!("{} ({})", a.package, a.key()))
        .collect();
    assert!(
        fresh_local.is_empty(),
        "{what}: local units were taken from the cook (stubs would ship): {fresh_local:#?}"
    );
    let mut compiled = report.local_compiled();
    compiled.retain(|name| !real_in_skeleton.contains(name));
    assert_eq!(&compiled, local, "{what}: local packages compiled");
}

#[derive(Clone, Debug, Default)]
pub struct BuildReport {
    pub artifacts: Vec<Artifact>,
}

impl BuildReport {
    pub fn parse(stdout: &[u8]) -> Self {
        let text = String::from_utf8_lossy(stdout);
        let mut artifacts = Vec::new();
        for line in text.lines().filter(|l| l.starts_with('{')) {
            let msg: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("bad JSON message {line}: {e}"));
            if msg["reason"] != "compiler-artifact" {
                continue;
            }
            let package_id = msg["package_id"].as_str().unwrap().to_string();
            artifacts.push(Artifact {
                package: package_name(&package_id),
                local: package_id.starts_with("path+"),
                target_name: msg["target"]["name"].as_str().unwrap().to_string(),
                kind: msg["target"]["kind"][0].as_str().unwrap().to_string(),
                test: msg["profile"]["test"].as_bool().unwrap_or(false),
                fresh: msg["fresh"].as_bool().unwrap(),
                executable: msg["executable"].as_str().map(PathBuf::from),
                package_id,
            });
        }
        BuildReport { artifacts }
    }

    /// Package ids of external (registry, git) packages that were compiled, not fresh.
    pub fn external_compiled(&self) -> BTreeSet<String> {
        self.artifacts
            .iter()
            .filter(|a| !a.local && !a.fresh)
            .map(|a| a.package_id.clone())
            .collect()
    }

    pub fn external_fresh(&self) -> BTreeSet<String> {
        self.artifacts
            .iter()
            .filter(|a| !a.local && a.fresh)
            .map(|a| a.package_id.clone())
            .collect()
    }

    /// Names of local packages with at least one unit compiled.
    pub fn local_compiled(&self) -> BTreeSet<String> {
        self.artifacts
            .iter()
            .filter(|a| a.local && !a.fresh)
            .map(|a| a.package.clone())
            .collect()
    }

    /// Local units cargo considered fresh: after a cook (which only ever saw stubs) every one
    /// of these is a stub artifact about to ship.
    pub fn local_fresh(&self) -> Vec<String> {
        self.artifacts
            .iter()
            .filter(|a| a.local && a.fresh)
            .map(|a| format!("{} ({})", a.package, a.key()))
            .collect()
    }

    pub fn executables(&self) -> BTreeMap<String, PathBuf> {
        self.artifacts
            .iter()
            .filter_map(|a| a.executable.clone().map(|e| (a.key(), e)))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// End to end

/// What running a produced executable must show.
#[derive(Clone, Debug)]
pub enum Expect {
    /// exits 0 and prints exactly this (trailing whitespace trimmed).
    Stdout(String),
    /// a libtest harness: exits 0 and reports each named test as `ok`.
    TestsPass(Vec<String>),
}

/// prepare in the planner -> ship the skeleton elsewhere -> cook in an empty builder at a
/// different path -> for each mtime policy: restore the cooked builder, copy the real tree,
/// run the same cargo command with `--message-format json` and check it.
pub struct E2e<'a> {
    project: &'a Project,
    cook_command: Option<String>,
    cargo_command: Vec<String>,
    flags: Vec<String>,
    policies: Vec<MtimePolicy>,
    local: BTreeSet<String>,
    exes: BTreeMap<String, Expect>,
    check_exes: bool,
    output_dirs: Vec<String>,
    real_in_skeleton: BTreeSet<String>,
}

pub fn e2e(project: &Project) -> E2e<'_> {
    E2e {
        project,
        cook_command: None,
        cargo_command: vec!["build".into()],
        flags: Vec::new(),
        policies: ALL_POLICIES.to_vec(),
        local: BTreeSet::new(),
        exes: BTreeMap::new(),
        check_exes: true,
        output_dirs: vec!["target".into()],
        real_in_skeleton: BTreeSet::new(),
    }
}

impl<'a> E2e<'a> {
    /// Flags given to both cook and the real cargo command.
    pub fn flags(mut self, flags: &[&str]) -> Self {
        self.flags = flags.iter().map(|s| s.to_string()).collect();
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

    pub fn bin(mut self, name: &str, stdout: &str) -> Self {
        self.exes
            .insert(format!("bin:{name}"), Expect::Stdout(stdout.into()));
        self
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

    /// Top-level builder entries cook may leave besides `target` (output directories moved by
    /// the workspace's `.cargo/config.toml`).
    pub fn output_dirs(mut self, dirs: &[&str]) -> Self {
        self.output_dirs.extend(dirs.iter().map(|s| s.to_string()));
        self
    }

    /// Local packages the skeleton carries verbatim (e.g. `[patch]` targets): cook compiled
    /// their real sources, so the real build may reuse them or, by mtime, recompile them.
    pub fn real_in_skeleton(mut self, names: &[&str]) -> Self {
        self.real_in_skeleton = names.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Produces no executables to check (check, clippy, doc).
    pub fn no_executables(mut self) -> Self {
        self.check_exes = false;
        self
    }

    pub fn run(self) {
        let sandbox = self.project.sandbox();
        let skel = sandbox.join("planner-out/skel");
        self.project.prepare(&skel);

        let shipped = sandbox.join("ship/skeleton");
        fs::create_dir_all(shipped.parent().unwrap()).unwrap();
        cp_a(&skel, &shipped);

        let builder = sandbox.join("stage/app/builder");
        fs::create_dir_all(&builder).unwrap();
        let mut cook = prebuild_cmd(&builder);
        cook.arg("cook").arg("--skeleton").arg(&shipped);
        if let Some(c) = &self.cook_command {
            cook.args(["--command", c]);
        }
        cook.args(&self.flags);
        let out = run(&mut cook);
        out.assert_ok(&format!("cook {:?}", self.flags));
        self.assert_only_output_left(&builder);

        let snapshot = sandbox.join("snapshot");
        cp_a(&builder, &snapshot);

        for &policy in &self.policies {
            rm_rf(&builder);
            cp_a(&snapshot, &builder);
            if policy == MtimePolicy::RestampCookedThenCopy {
                restamp(&builder, FileTime::now());
            }
            copy_tree(self.project.root(), &builder, policy, &["target"]);
            self.real_build(&builder, policy);
        }
    }

    /// After cook the builder holds only the build output directory.
    fn assert_only_output_left(&self, builder: &Path) {
        let mut allowed: BTreeSet<String> = self.output_dirs.iter().cloned().collect();
        if let Some(i) = self.flags.iter().position(|f| f == "--target-dir") {
            let dir = Path::new(&self.flags[i + 1]);
            if let Some(first) = dir.components().next() {
                allowed.insert(first.as_os_str().to_string_lossy().into_owned());
            }
        }
        let left = top_level(builder);
        let extra: Vec<_> = left.difference(&allowed).collect();
        assert!(
            extra.is_empty(),
            "cook left files it laid out in the builder: {extra:?} (all: {left:?})"
        );
    }

    fn real_build(&self, builder: &Path, policy: MtimePolicy) {
        let mut cmd = cargo_cmd(builder);
        cmd.args(&self.cargo_command)
            .args(&self.flags)
            .arg("--message-format")
            .arg("json");
        let out = run(&mut cmd);
        let what = format!(
            "real `cargo {} {}` under {policy:?}",
            self.cargo_command.join(" "),
            self.flags.join(" ")
        );
        out.assert_ok(&what);
        let report = BuildReport::parse(&out.stdout);

        assert_exact_rebuild(&out, &report, &what, &self.real_in_skeleton, &self.local);

        if !self.check_exes {
            return;
        }
        let exes = report.executables();
        let produced: BTreeSet<&String> = exes.keys().collect();
        let expected: BTreeSet<&String> = self.exes.keys().collect();
        assert_eq!(produced, expected, "{what}: executables produced");
        for (key, path) in &exes {
            check_executable(key, path, &self.exes[key], builder, &what);
        }
    }
}

/// Runs one produced executable and checks it is the real program.
pub fn check_executable(key: &str, path: &Path, expect: &Expect, cwd: &Path, what: &str) {
    let bytes = fs::read(path).unwrap();
    assert!(
        !contains(&bytes, STUB_MARKER.as_bytes()),
        "{what}: {key} ({}) contains the stub marker `{STUB_MARKER}`",
        path.display()
    );
    let out = run(Command::new(path).current_dir(cwd));
    let stdout = out.stdout_str();
    assert!(
        !stdout.contains(STUB_MARKER) && !out.stderr_str().contains(STUB_MARKER),
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

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The archive holding a skeleton's tree, inside the skeleton directory.
pub const TREE_ARCHIVE: &str = "tree.tar";

/// Extracts a skeleton's tree (`skel/tree.tar`) into `dest` (created) with the system `tar`,
/// as a person inspecting it would; files get the current time as mtime (`-m`), like a copy.
pub fn extract_tree(skel: &Path, dest: &Path) {
    fs::create_dir_all(dest).unwrap();
    run(Command::new("tar")
        .arg("-xmf")
        .arg(skel.join(TREE_ARCHIVE))
        .arg("-C")
        .arg(dest))
    .assert_ok("tar -x of the skeleton's tree");
}

/// A skeleton's tree extracted into a temporary directory, removed when dropped.
#[derive(Debug)]
pub struct Tree(TempDir);

impl std::ops::Deref for Tree {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

/// A skeleton's tree extracted by `tar` into a temporary directory.
pub fn skeleton_tree(skel: &Path) -> Tree {
    let dir = TempDir::new().unwrap();
    extract_tree(skel, dir.path());
    Tree(dir)
}

/// Relative paths of the files in a skeleton's tree, as `tar -tf` lists them.
pub fn skeleton_files(skel: &Path) -> BTreeSet<String> {
    let out = run(Command::new("tar").arg("-tf").arg(skel.join(TREE_ARCHIVE)));
    out.assert_ok("tar -t of the skeleton's tree");
    out.stdout_str().lines().map(str::to_string).collect()
}

/// The text of one file of a skeleton's tree, as `tar -xOf` prints it.
pub fn skeleton_file(skel: &Path, rel: &str) -> String {
    let out = run(Command::new("tar")
        .arg("-xOf")
        .arg(skel.join(TREE_ARCHIVE))
        .arg(rel));
    out.assert_ok(&format!("tar -xO of `{rel}` from the skeleton's tree"));
    out.stdout_str()
}
