//! Freshness of local crates by content (`build --seed DIR`, `build --content-freshness`).
//!
//! Cargo judges a local unit fresh when no input listed in its dep-info is newer than the
//! unit. A `COPY`, a checkout or Earthly make those mtimes meaningless, so after each build we
//! record the content hash and mtime of every local file and the identity of every local unit
//! (the mtime of a file cargo rewrites whenever it rebuilds the unit). Before the next build,
//! a file whose content matches the record gets its recorded mtime back (older than every
//! unit built from that content), and every other local file gets an mtime newer than every
//! artifact; cargo's own fingerprints then rebuild exactly the changed units and their
//! dependents. Any doubt (a file not recorded, a unit the record does not know, a record from
//! another toolchain, profile, target, workspace or skeleton) counts as a change.

mod plant;
pub mod units;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use filetime::FileTime;
use serde::{Deserialize, Serialize};

use crate::context::BuildContext;
use crate::shell::Shell;
use units::{mtime, Scope, Unit};

/// File name of the content record inside the target directory.
pub const RECORD_FILE: &str = "cargo-prebuild-content.json";
const FORMAT: u32 = 1;

/// Whether, and how, a build judges local crates by content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Request {
    #[default]
    Off,
    /// In the target directory as it is (a cache mount).
    InPlace,
    /// After planting this seed (the target directory of an earlier final build).
    Seed(PathBuf),
}

/// What a record must share with a build to be trusted by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Header {
    pub format: u32,
    /// `rustc -vV`.
    pub rustc: String,
    pub workspace_root: String,
    pub profile: String,
    pub targets: Vec<String>,
    /// Digest of the workspace's skeleton (what dependency compilation depends on).
    pub skeleton: String,
}

impl Header {
    /// What differs, for a note: `toolchain`, `profile`, ...
    fn difference(&self, other: &Header) -> String {
        let mut what = Vec::new();
        for (differs, name) in [
            (self.format != other.format, "record format"),
            (self.rustc != other.rustc, "toolchain"),
            (
                self.workspace_root != other.workspace_root,
                "workspace directory",
            ),
            (self.profile != other.profile, "profile"),
            (self.targets != other.targets, "target"),
            (self.skeleton != other.skeleton, "skeleton (dependencies)"),
        ] {
            if differs {
                what.push(name);
            }
        }
        what.join(", ")
    }
}

/// An mtime as `[seconds, nanoseconds]`.
type Stamp = (i64, u32);

fn stamp(t: FileTime) -> Stamp {
    (t.unix_seconds(), t.nanoseconds())
}

fn time(s: Stamp) -> FileTime {
    FileTime::from_unix_time(s.0, s.1)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub sha256: String,
    pub mtime: Stamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    #[serde(flatten)]
    pub header: Header,
    /// Local files and directories (relative to the workspace root, or absolute outside it).
    pub files: BTreeMap<String, FileEntry>,
    /// Local units this record vouches for: identifying file (relative to the target
    /// directory) and its mtime.
    pub units: BTreeMap<String, Stamp>,
}

impl Record {
    fn empty(header: Header) -> Record {
        Record {
            header,
            files: BTreeMap::new(),
            units: BTreeMap::new(),
        }
    }

    pub fn read(target_dir: &Path) -> Result<Option<Record>> {
        let path = target_dir.join(RECORD_FILE);
        let Some(bytes) = crate::fs::read_if_exists(&path)? else {
            return Ok(None);
        };
        // An unreadable record is no record: doubt means rebuild, never fail the build.
        Ok(serde_json::from_slice(&bytes).ok())
    }

    fn write(&self, target_dir: &Path) -> Result<()> {
        let path = target_dir.join(RECORD_FILE);
        let tmp = target_dir.join(format!("{RECORD_FILE}.tmp"));
        let json = serde_json::to_vec(self).context("failed to encode the content record")?;
        crate::fs::write(&tmp, &json)?;
        crate::fs::rename(&tmp, &path)
    }

    fn trusts(&self, unit: &Unit) -> bool {
        !unit.stub && self.units.get(&unit.key) == Some(&stamp(unit.identity))
    }
}

/// The facts of this build that freshness needs, resolved once.
#[derive(Debug)]
pub struct Context {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    /// This build's profile directories (host and each target triple), existing or not.
    pub profile_dirs: Vec<PathBuf>,
    pub scope: Scope,
    profile: String,
    targets: Vec<String>,
    workspace: crate::workspace::Workspace,
}

impl Context {
    pub fn resolve(build: &BuildContext) -> Result<Context> {
        let ws = crate::workspace::Workspace::load(Some(&build.dir.join("Cargo.toml")))?;
        let target_dir = build.target_dir()?;
        let target_dir = crate::fs::canonicalize(&target_dir).unwrap_or(target_dir);
        let targets = build.targets()?;
        let profile = build.flags.asked.profile_dir().to_string();
        let mut profile_dirs = vec![target_dir.join(&profile)];
        for t in &targets {
            profile_dirs.push(target_dir.join(t).join(&profile));
        }
        let mut roots = vec![ws.root.clone()];
        for pkg in ws.packages.values() {
            if !pkg.dir.starts_with(&ws.root) {
                roots.push(pkg.dir.clone());
            }
        }
        let mut excluded = vec![target_dir.clone()];
        if let Some(home) = cargo_home() {
            excluded.push(home);
        }
        let packages = ws
            .packages
            .values()
            .map(|p| (p.name.clone(), p.dir.clone()))
            .collect();
        Ok(Context {
            root: ws.root.clone(),
            target_dir,
            profile_dirs,
            scope: Scope {
                base: ws.root.clone(),
                roots,
                excluded,
                packages,
            },
            profile,
            targets,
            workspace: ws,
        })
    }

    fn header(&self, rustc: String) -> Header {
        let options = crate::skeleton::PrepareOptions {
            manifest_path: Some(self.workspace.root.join("Cargo.toml")),
            ..crate::skeleton::PrepareOptions::default()
        };
        // A skeleton that cannot be derived matches no record: every local crate compiles.
        let skeleton = crate::prepare::derive_from(self.workspace.clone(), &options)
            .map(|d| d.skeleton.digest())
            .unwrap_or_else(|err| format!("unknown ({err:#})"));
        Header {
            format: FORMAT,
            rustc,
            workspace_root: self.root.to_string_lossy().into_owned(),
            profile: self.profile.clone(),
            targets: self.targets.clone(),
            skeleton,
        }
    }

    fn units(&self) -> Result<Vec<Unit>> {
        units::scan(&self.profile_dirs, &self.target_dir, &self.scope)
    }

    /// Record key of a local path.
    fn key(&self, path: &Path) -> String {
        crate::skeleton::relative(&self.root, path)
            .unwrap_or_else(|_| path.to_string_lossy().into_owned())
    }
}

/// The next representable instant after `t`.
fn just_after(t: FileTime) -> FileTime {
    if t.nanoseconds() >= 999_999_999 {
        FileTime::from_unix_time(t.unix_seconds() + 1, 0)
    } else {
        FileTime::from_unix_time(t.unix_seconds(), t.nanoseconds() + 1)
    }
}

fn cargo_home() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    Some(crate::fs::canonicalize(&home).unwrap_or(home))
}

/// State carried from before cargo runs to after it.
#[derive(Debug)]
pub struct Session {
    ctx: Context,
    header: Header,
    /// Every local path seen before the build: record key, content hash, the mtime given.
    hashed: BTreeMap<PathBuf, (String, String, FileTime)>,
    /// Units the record vouched for before the build, by key.
    trusted: BTreeMap<String, FileTime>,
    /// An instant before cargo started: a unit rebuilt by this build is newer.
    started: FileTime,
}

/// Before cargo runs: plants the seed (if any) and gives every local file its mtime by
/// content. `None` when content freshness was not asked for.
pub fn begin(request: &Request, build: &BuildContext, shell: &Shell) -> Result<Option<Session>> {
    let seed = match request {
        Request::Off => return Ok(None),
        Request::InPlace => None,
        Request::Seed(seed) => Some(seed),
    };
    // `rustc -vV` runs while cargo metadata does.
    let (ctx, rustc) = std::thread::scope(|scope| {
        let rustc = scope.spawn(|| build.rustc());
        let ctx = Context::resolve(build);
        let rustc = rustc
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("`rustc -vV` panicked")));
        (ctx, rustc)
    });
    let (ctx, rustc) = (ctx?, rustc?);
    let header = ctx.header(rustc);
    if let Some(seed) = seed {
        plant::plant(&crate::fs::absolute(seed)?, &ctx, &header, shell)?;
    }
    let record = match Record::read(&ctx.target_dir)? {
        Some(r) if r.header == header => r,
        Some(r) => {
            shell.note(format!(
                "the content record in `{}` is from another {}: every local crate compiles",
                ctx.target_dir.display(),
                r.header.difference(&header)
            ));
            Record::empty(header.clone())
        }
        None => Record::empty(header.clone()),
    };
    let units = ctx.units()?;
    let mut doubt = BTreeSet::new();
    let mut trusted = BTreeMap::new();
    // Newer than every artifact, even one stamped ahead of this machine's clock.
    let mut mark = FileTime::now();
    for unit in &units {
        mark = mark.max(just_after(unit.identity));
        if record.trusts(unit) {
            trusted.insert(unit.key.clone(), unit.identity);
        } else {
            doubt.extend(unit.inputs.iter().cloned());
        }
    }
    let extra: Vec<PathBuf> = units.iter().flat_map(|u| u.inputs.clone()).collect();
    let mut hashed = BTreeMap::new();
    let (mut kept, mut changed) = (0usize, 0usize);
    for (path, is_dir) in local_paths(&ctx.scope, &extra)? {
        let key = ctx.key(&path);
        let hash = content_hash(&path, is_dir)?;
        let in_doubt = path.ancestors().any(|a| doubt.contains(a));
        let restore = match record.files.get(&key) {
            Some(e) if !in_doubt && e.sha256 == hash => Some(time(e.mtime)),
            _ => None,
        };
        let given = restore.unwrap_or(mark);
        if mtime(&path)? != given {
            filetime::set_file_mtime(&path, given)
                .with_context(|| format!("failed to set the mtime of `{}`", path.display()))?;
        }
        match (restore, is_dir) {
            (Some(_), false) => kept += 1,
            (None, false) => {
                changed += 1;
                shell.verbose("Changed", &key);
            }
            _ => {}
        }
        hashed.insert(path, (key, hash, given));
    }
    shell.status(
        "Checked",
        format!(
            "{} local files by content: {kept} unchanged, {changed} changed or new",
            kept + changed
        ),
    );
    Ok(Some(Session {
        ctx,
        header,
        hashed,
        trusted,
        started: FileTime::now().max(just_after(mark)),
    }))
}

/// After cargo ran: records what the target directory now holds, when the build succeeded
/// (after a failure the old record stays, and units rebuilt since count as unknown).
pub fn finish(session: Option<Session>, code: i32) -> Result<()> {
    let Some(s) = session else {
        return Ok(());
    };
    if code != 0 {
        return Ok(());
    }
    let mut record = Record::empty(s.header.clone());
    let mut inputs = BTreeSet::new();
    for unit in s.ctx.units()? {
        let rebuilt = unit.identity > s.started;
        if !unit.stub && (rebuilt || s.trusted.get(&unit.key) == Some(&unit.identity)) {
            record.units.insert(unit.key.clone(), stamp(unit.identity));
            inputs.extend(unit.inputs);
        }
    }
    for (path, (key, hash, given)) in &s.hashed {
        // A file written during the build may hold other contents than cargo read.
        if mtime(path).ok() == Some(*given) && *given < s.started {
            record.files.insert(
                key.clone(),
                FileEntry {
                    sha256: hash.clone(),
                    mtime: stamp(*given),
                },
            );
        }
    }
    // Inputs first seen in this build (only units built now list them): untouched since
    // before cargo started, so they hold what cargo read.
    for path in inputs {
        if s.hashed.contains_key(&path) || !path.is_file() {
            continue;
        }
        let m = mtime(&path)?;
        if m < s.started {
            record.files.insert(
                s.ctx.key(&path),
                FileEntry {
                    sha256: content_hash(&path, false)?,
                    mtime: stamp(m),
                },
            );
        }
    }
    if s.ctx.target_dir.is_dir() {
        record.write(&s.ctx.target_dir)?;
    }
    Ok(())
}

/// For `verify`: every local artifact the content record vouches for whose inputs no longer
/// hold the recorded contents (cargo would take it as fresh by mtime, yet it is older than
/// its sources' content). Each is printed as an error; none without a record.
pub fn stale_artifacts(build: &BuildContext, shell: &Shell) -> Result<Vec<String>> {
    // Most verifications have no record: answer those without asking cargo.
    if let Some(target_dir) = build.local_target_dir()? {
        if !target_dir.join(RECORD_FILE).is_file() {
            return Ok(Vec::new());
        }
    }
    let ctx = Context::resolve(build)?;
    let Some(record) = Record::read(&ctx.target_dir)? else {
        return Ok(Vec::new());
    };
    let mut hashes: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    let mut stale = Vec::new();
    for unit in ctx.units()? {
        if !record.trusts(&unit) {
            continue;
        }
        let files = local_paths(&ctx.scope, &unit.inputs)?;
        for (path, is_dir) in files {
            let Some(entry) = record.files.get(&ctx.key(&path)) else {
                continue;
            };
            let hash = match hashes.get(&path) {
                Some(h) => h.clone(),
                None => {
                    let h = content_hash(&path, is_dir).ok();
                    hashes.insert(path.clone(), h.clone());
                    h
                }
            };
            if hash.as_deref() != Some(entry.sha256.as_str()) {
                let line = format!(
                    "`{}` is older than the content of `{}`",
                    unit.key,
                    path.display()
                );
                shell.print_error(&format!(
                    "local artifact {line}: it was built from other contents"
                ));
                stale.push(line);
            }
        }
    }
    Ok(stale)
}

/// Local files and directories: every package directory, and the given unit inputs, without
/// `.git`, the target directory, `$CARGO_HOME`, other target directories or symlinks.
fn local_paths(scope: &Scope, extra: &[PathBuf]) -> Result<BTreeMap<PathBuf, bool>> {
    let mut out = BTreeMap::new();
    let mut starts: Vec<PathBuf> = scope.packages.iter().map(|(_, d)| d.clone()).collect();
    starts.extend(extra.iter().cloned());
    starts.sort();
    starts.dedup();
    for start in starts {
        if out.contains_key(&start) || !scope.is_local(&start) {
            continue;
        }
        let walker = walkdir::WalkDir::new(&start).into_iter().filter_entry(|e| {
            let p = e.path();
            !(e.file_type().is_dir()
                && (e.file_name() == ".git"
                    || scope.excluded.iter().any(|x| p == x)
                    || p.join("CACHEDIR.TAG").is_file()))
        });
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                // A listed input that no longer exists: nothing to stamp.
                Err(err)
                    if err.io_error().map(|e| e.kind()) == Some(std::io::ErrorKind::NotFound) =>
                {
                    continue
                }
                Err(err) => {
                    return Err(err)
                        .with_context(|| format!("failed to walk `{}`", start.display()))
                }
            };
            let kind = entry.file_type();
            if kind.is_symlink() || !scope.is_local(entry.path()) {
                continue;
            }
            out.insert(entry.path().to_path_buf(), kind.is_dir());
        }
    }
    Ok(out)
}

/// sha256 of a file's bytes, or of a directory's sorted entry names (a `rerun-if-changed`
/// directory changes when an entry is added or removed).
fn content_hash(path: &Path, is_dir: bool) -> Result<String> {
    if !is_dir {
        return Ok(crate::skeleton::sha256_hex(&crate::fs::read(path)?));
    }
    let mut names: Vec<String> = std::fs::read_dir(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(crate::skeleton::sha256_hex(
        format!("dir\n{}", names.join("\n")).as_bytes(),
    ))
}
