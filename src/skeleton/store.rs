//! The skeleton directory on disk. The directory itself is never renamed or replaced (it may
//! be a mount point or a symlink): a new skeleton is staged inside it, then switched in under
//! an exclusive lock on it, the tree archive `tree.tar` first and the index last. Readers
//! hold a shared lock (see `read`), so they read the earlier skeleton or the new one, never a
//! mix. Only an earlier skeleton (its index parses and lists everything there) is ever
//! replaced.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::read::read_unlocked;
use super::{Index, Skeleton, INDEX_FILE, TREE_ARCHIVE};
use crate::fs::DirLock;

/// Prefix of the staging directories prepare writes inside the skeleton directory.
const STAGING_PREFIX: &str = ".cargo-prebuild-staging-";
/// Where the replaced tree waits, inside the staging directory, to be removed with it.
const OLD_TREE: &str = "old-tree.tar";
/// Where a format-1 skeleton's `tree/` directory waits likewise.
const OLD_LEGACY_TREE: &str = "old-tree";
/// The directory format-1 skeletons held their tree in: replaced like an earlier tree.
const LEGACY_TREE_DIR: &str = "tree";
/// How many paths an error names before it counts the rest.
const NAMED: usize = 5;

impl Skeleton {
    /// Writes the skeleton into a staging directory inside `dir`, ready to replace an earlier
    /// skeleton there by [`Staged::commit`]. Refuses, writing nothing, when `dir` holds
    /// anything but an earlier skeleton. Dropping the result removes what was written.
    pub fn stage(&self, dir: &Path) -> Result<Staged> {
        let dir = crate::fs::absolute(dir)?;
        check_replaceable(&dir)?;
        let mut staged = Staged {
            dir,
            created: Vec::new(),
            staging: None,
        };
        // An identical skeleton already there (a re-run with nothing changed) stays as it is.
        if staged.dir.join(INDEX_FILE).is_file()
            && Skeleton::read(&staged.dir).is_ok_and(|old| old == *self)
        {
            return Ok(staged);
        }
        staged.created = create_destination(&staged.dir)?;
        // A committing prepare removes staging directories nobody holds: this one is created
        // and held under a shared lock, so no commit can see it unheld.
        let creating = crate::fs::lock_dir(&staged.dir, false)?;
        let staging = tempfile::Builder::new()
            .prefix(STAGING_PREFIX)
            .tempdir_in(&staged.dir)
            .with_context(|| {
                format!(
                    "failed to create a staging directory in `{}`",
                    staged.dir.display()
                )
            })?;
        // Held as long as this prepare lives: a staging directory nobody holds is what a
        // killed prepare left, and the next commit removes it.
        let lock = crate::fs::lock_dir(staging.path(), true)?;
        drop(creating);
        let root = staging.path().to_path_buf();
        staged.staging = Some(Staging {
            dir: staging,
            _lock: lock,
        });
        self.write_into(&root).with_context(|| {
            format!(
                "failed to write the skeleton into `{}` (the earlier contents are unchanged)",
                staged.dir.display()
            )
        })?;
        Ok(staged)
    }

    /// Writes the tree archive and the index into `root`, a new empty directory.
    fn write_into(&self, root: &Path) -> Result<()> {
        let archive = super::archive::write(
            self.files
                .iter()
                .map(|(path, file)| (path.as_str(), file.contents.as_slice())),
        )?;
        // Modes must not depend on the umask.
        for (name, bytes) in [(TREE_ARCHIVE, archive), (INDEX_FILE, self.index_json()?)] {
            crate::fs::write(&root.join(name), &bytes)?;
            crate::fs::set_mode(&root.join(name), 0o644)?;
        }
        Ok(())
    }
}

/// A skeleton staged inside its destination directory, not yet in place.
#[derive(Debug)]
pub struct Staged {
    dir: PathBuf,
    /// Directories created for `dir`, deepest first: removed again unless committed.
    created: Vec<PathBuf>,
    /// `None` when an identical skeleton is already in place.
    staging: Option<Staging>,
}

#[derive(Debug)]
struct Staging {
    dir: tempfile::TempDir,
    _lock: DirLock,
}

impl Staged {
    /// Switches the staged skeleton in, replacing an earlier one.
    pub fn commit(mut self) -> Result<()> {
        let Some(staging) = self.staging.take() else {
            return Ok(());
        };
        let mut keep = false;
        let result = commit(&self.dir, staging.dir.path(), &mut keep);
        if keep {
            // It holds the earlier tree, which could not be put back: never delete it.
            let _ = staging.dir.keep();
        }
        if result.is_ok() {
            self.created.clear();
        }
        result
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        drop(self.staging.take());
        for dir in &self.created {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn commit(dir: &Path, staging: &Path, keep: &mut bool) -> Result<()> {
    let _lock = crate::fs::lock_dir(dir, true)?;
    // Checked again under the lock: only now does nothing else change `dir`.
    check_replaceable(dir)?;
    remove_abandoned(dir, staging);
    let new_index = crate::fs::read(&staging.join(INDEX_FILE))?;
    // Another prepare may have put this very skeleton in place meanwhile.
    if crate::fs::read_if_exists(&dir.join(INDEX_FILE))?.as_ref() == Some(&new_index)
        && read_unlocked(dir).is_ok()
    {
        return Ok(());
    }
    // The earlier tree (and a format-1 skeleton's `tree/` directory) waits in the staging
    // directory, to be removed with it or put back.
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (name, aside) in [(TREE_ARCHIVE, OLD_TREE), (LEGACY_TREE_DIR, OLD_LEGACY_TREE)] {
        let (from, to) = (dir.join(name), staging.join(aside));
        if from.symlink_metadata().is_err() {
            continue;
        }
        if let Err(err) = crate::fs::rename(&from, &to) {
            return put_back(err, &moved, keep);
        }
        moved.push((from, to));
    }
    let tree = dir.join(TREE_ARCHIVE);
    let switched = crate::fs::rename(&staging.join(TREE_ARCHIVE), &tree).and_then(|()| {
        // The commit point: the index names the tree now in place.
        crate::fs::rename(&staging.join(INDEX_FILE), &dir.join(INDEX_FILE)).inspect_err(|_| {
            let _ = std::fs::rename(&tree, staging.join(TREE_ARCHIVE));
        })
    });
    match switched {
        Ok(()) => Ok(()),
        Err(err) => put_back(err, &moved, keep),
    }
}

/// Puts the earlier tree back rather than leave its index naming nothing, and returns `err`.
fn put_back(err: anyhow::Error, moved: &[(PathBuf, PathBuf)], keep: &mut bool) -> Result<()> {
    for (home, aside) in moved.iter().rev() {
        if let Err(back) = crate::fs::rename(aside, home) {
            *keep = true;
            return Err(err.context(format!(
                "the earlier skeleton's tree is kept in `{}` ({back:#})",
                aside.display()
            )));
        }
    }
    Err(err)
}

/// Creates `dir` (or, for a symlink to nowhere, the directory it names) with its missing
/// parents; returns those created, deepest first.
fn create_destination(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut target = dir.to_path_buf();
    if !dir.exists() {
        if let Ok(link) = std::fs::read_link(dir) {
            // Like `cp -r src link`: write where the link points.
            target = dir.parent().map_or(link.clone(), |p| p.join(&link));
        }
    }
    let created: Vec<PathBuf> = target
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .map(Path::to_path_buf)
        .collect();
    crate::fs::create_dir_all(&target)?;
    if !created.is_empty() {
        crate::fs::set_mode(&target, 0o755)?;
    }
    Ok(created)
}

/// Removes staging directories that killed prepares left in `dir` (no process holds their
/// lock); a live prepare's, and `ours`, stay.
fn remove_abandoned(dir: &Path, ours: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path == ours || !name.to_string_lossy().starts_with(STAGING_PREFIX) {
            continue;
        }
        if let Ok(Some(_held)) = crate::fs::try_lock_dir(&path, true) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Refuses `dir` unless replacing it loses nothing: it is missing, empty, or an earlier
/// skeleton whose index parses and lists every file under it.
fn check_replaceable(dir: &Path) -> Result<()> {
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err).with_context(|| format!("failed to read `{}`", dir.display())),
    };
    if !meta.is_dir() {
        bail!(
            "skeleton destination `{}` exists and is not a directory",
            dir.display()
        );
    }
    let index_path = dir.join(INDEX_FILE);
    let mut reason = String::new();
    let index: Option<Index> = match std::fs::read(&index_path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .inspect_err(|err| {
                reason = format!(" (its `{INDEX_FILE}` is not a skeleton index: {err})")
            })
            .ok(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => {
            reason = format!(" (its `{INDEX_FILE}` cannot be read: {err})");
            None
        }
    };
    let listed: BTreeSet<PathBuf> = index
        .iter()
        .flat_map(|i| &i.files)
        .map(|e| PathBuf::from(&e.path))
        .collect();
    let listed_dirs: BTreeSet<&Path> = listed.iter().flat_map(|p| p.ancestors().skip(1)).collect();
    let mut in_the_way = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("failed to read directory `{}`", dir.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("failed to read directory `{}`", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        let ours = (name == INDEX_FILE || name == TREE_ARCHIVE && is_file) && index.is_some();
        if ours || name.starts_with(STAGING_PREFIX) && is_dir {
            continue;
        }
        // A format-1 skeleton's tree directory is replaced if it holds only what it lists.
        if name != LEGACY_TREE_DIR || !is_dir {
            in_the_way.push(name);
            continue;
        }
        let mut walk = walkdir::WalkDir::new(entry.path()).min_depth(1).into_iter();
        while let Some(item) = walk.next() {
            let item = item.with_context(|| format!("failed to read `{}`", dir.display()))?;
            let rel = item
                .path()
                .strip_prefix(entry.path())
                .unwrap_or(item.path());
            let fits = if item.file_type().is_dir() {
                listed_dirs.contains(rel)
            } else {
                listed.contains(rel)
            };
            if !fits {
                in_the_way.push(format!("{LEGACY_TREE_DIR}/{}", rel.display()));
                if item.file_type().is_dir() {
                    walk.skip_current_dir();
                }
            }
        }
    }
    if in_the_way.is_empty() {
        return Ok(());
    }
    let mut named: Vec<String> = in_the_way
        .iter()
        .take(NAMED)
        .map(|p| format!("`{p}`"))
        .collect();
    if in_the_way.len() > NAMED {
        named.push(format!("and {} more", in_the_way.len() - NAMED));
    }
    bail!(
        "refusing to write the skeleton into `{}`: it is not an earlier skeleton{reason}, and \
         replacing it would delete {}; nothing was written or removed (choose another \
         `--skeleton` directory, or move those away)",
        dir.display(),
        named.join(", ")
    )
}
