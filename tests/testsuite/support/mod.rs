//! Test support: a `project()` builder writing fixtures into a `TempDir`, process helpers with
//! a scrubbed environment, tree copies under an mtime policy and skeleton listings; cargo's JSON
//! messages in `messages`, the end-to-end prepare -> cook -> real build runner in `e2e`, the
//! exactness oracle in `unit_graph`.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

pub mod e2e;
pub mod messages;
pub mod unit_graph;

pub use e2e::*;
pub use messages::*;

use filetime::FileTime;
use tempfile::TempDir;
use walkdir::WalkDir;

/// 2020-04-16T00:00:00Z: the mtime Earthly stamps on every file it copies.
pub const EARTHLY_EPOCH: i64 = 1_586_995_200;

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

/// A package manifest `name 0.1.0`, edition 2021, with `deps` as its `[dependencies]` table
/// (tables after it may follow in `deps`).
pub fn pkg(name: &str, deps: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"
    )
}

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

    /// `prepare --skeleton <sandbox>/<name> <args>` in the planner; returns the digest line and
    /// the skeleton directory.
    pub fn prepare_as(&self, name: &str, args: &[&str]) -> (String, PathBuf) {
        let skel = self.sandbox().join(name);
        let mut all = vec!["prepare", "--skeleton", skel.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = prebuild(&self.root, &all);
        out.assert_ok(&format!("prepare {args:?}"));
        (parse_digest(&out.stdout_str()), skel)
    }

    /// `cook --skeleton <skel> <args>` in a new empty builder `<sandbox>/<name>/app`; returns
    /// the builder and cook's output.
    pub fn cook_in(&self, skel: &Path, name: &str, args: &[&str]) -> (PathBuf, Output) {
        let builder = self.sandbox().join(name).join("app");
        fs::create_dir_all(&builder).unwrap();
        let mut all = vec!["cook", "--skeleton", skel.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = prebuild(&builder, &all);
        out.assert_ok(&format!("cook {args:?}"));
        (builder, out)
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
// Fixtures several modules build on

/// The committed `dev-targets` fixture: `devlib` with a bin, unit, bin and integration tests,
/// two examples and a bench, each using dev-dependencies.
pub fn dev_targets() -> Project {
    project().fixture("dev-targets").build()
}

/// What the dev-targets fixture's bin and test targets print when built with their tests.
pub fn dev_targets_tested(run: E2e) -> E2e {
    run.bin("devtool", "devtool sees 10")
        .tests("lib-test:devlib", &["tests::real_unit_test"])
        .tests("bin-test:devtool", &["real_bin_test"])
        .tests("test:integration", &["real_integration_test"])
}

/// What the dev-targets fixture's examples print.
pub fn dev_targets_examples(run: E2e) -> E2e {
    run.exe("example:demo", Expect::Stdout("demo 5".into()))
        .exe("example:other", Expect::Stdout("other example 3".into()))
}

/// A member `itoa 0.5.0` beside the registry's itoa (renamed `real-itoa` in `app`), so
/// `Cargo.lock` names both in the `"name version"` form; `app` prints `local itoa and 1`.
pub fn local_itoa_beside_registry_itoa() -> Project {
    project()
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
        .build()
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

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A set of owned strings, for comparing with the sets reports return.
pub fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// Lockfiles

/// Locked packages of a lockfile as `name version`.
pub fn locked_packages(lock: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = ") {
            if let Some(n) = name.take() {
                out.insert(format!("{n} {}", v.trim_matches('"')));
            }
        }
    }
    out
}

/// The version a lockfile locks `name` at (the package must be locked once).
pub fn locked_version(lock: &str, name: &str) -> String {
    locked_packages(lock)
        .into_iter()
        .find_map(|e| e.strip_prefix(&format!("{name} ")).map(str::to_string))
        .unwrap_or_else(|| panic!("{name} not locked:\n{lock}"))
}

// ---------------------------------------------------------------------------------------------
// Skeletons

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

/// A skeleton's index, `cargo-prebuild.json`.
pub fn skeleton_index(skel: &Path) -> serde_json::Value {
    let path = skel.join("cargo-prebuild.json");
    serde_json::from_slice(&fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap()
}

/// The record cook leaves in a target directory, `cargo-prebuild-cook.json`.
pub fn cook_record(target_dir: &Path) -> serde_json::Value {
    let path = target_dir.join("cargo-prebuild-cook.json");
    serde_json::from_slice(&fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap()
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
