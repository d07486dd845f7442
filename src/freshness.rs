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

mod context;
mod files;
mod plant;
mod record;
mod stale;
pub mod units;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use filetime::FileTime;

use crate::context::BuildContext;
use crate::shell::Shell;
use context::Context;
use files::{content_hash, content_hashes, local_paths};
pub use record::RECORD_FILE;
use record::{stamp, whole_second, FileEntry, Header, Record};
pub use stale::stale_artifacts;
use units::mtime;

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

/// The next representable instant after `t`.
fn just_after(t: FileTime) -> FileTime {
    if t.nanoseconds() >= 999_999_999 {
        FileTime::from_unix_time(t.unix_seconds() + 1, 0)
    } else {
        FileTime::from_unix_time(t.unix_seconds(), t.nanoseconds() + 1)
    }
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
    let paths: Vec<(PathBuf, bool)> = local_paths(&ctx.scope, &extra)?.into_iter().collect();
    let hashes = content_hashes(&paths)?;
    for ((path, is_dir), hash) in paths.into_iter().zip(hashes) {
        let key = ctx.key(&path);
        let in_doubt = path.ancestors().any(|a| doubt.contains(a));
        let restore = match record.files.get(&key) {
            Some(e) if !in_doubt && e.sha256 == hash => Some(whole_second(e.mtime)),
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
