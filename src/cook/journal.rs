//! What cook is about to lay out, written down before it writes anything. A cook killed
//! mid-way (SIGKILL, a crash, a closed terminal) leaves this list beside its files, and the
//! next cook in the directory removes exactly those leftovers: files still holding what cook
//! wrote, and the directories it created. A file cook did not write is never on the list, so
//! recovery cannot remove it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::skeleton::{self, Skeleton};

/// Name of the journal, at the skeleton tree root.
pub const JOURNAL_FILE: &str = ".cargo-prebuild-cook-journal.json";

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    /// Files cook writes, relative to the tree root, with the digest of what it writes.
    files: Vec<Entry>,
    /// Directories cook creates, relative to the tree root, parents first.
    dirs: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    path: String,
    sha256: String,
}

fn path(root: &Path) -> PathBuf {
    root.join(JOURNAL_FILE)
}

/// Records the files of `skeleton` cook is about to write under `root` (and the directories
/// that writing them creates), before writing any.
pub fn begin(root: &Path, skeleton: &Skeleton, to_write: &[String]) -> Result<()> {
    let mut dirs = BTreeSet::new();
    let mut files = Vec::new();
    for rel in to_write {
        let Some(file) = skeleton.files.get(rel) else {
            continue;
        };
        for dir in Path::new(rel).ancestors().skip(1) {
            if dir.as_os_str().is_empty() || root.join(dir).exists() {
                break;
            }
            dirs.insert(dir.to_string_lossy().into_owned());
        }
        files.push(Entry {
            path: rel.clone(),
            sha256: skeleton::sha256_hex(&file.contents),
        });
    }
    let mut dirs: Vec<String> = dirs.into_iter().collect();
    dirs.sort_by_key(|d| Path::new(d).components().count());
    let json = serde_json::to_vec_pretty(&Journal { files, dirs })?;
    // Written whole or not at all: a torn journal would hide leftovers.
    let tmp = root.join(format!("{JOURNAL_FILE}.tmp"));
    crate::fs::write_or_remove(&tmp, &json)?;
    crate::fs::rename(&tmp, &path(root))
}

/// Removes the journal once everything on it is gone.
pub fn finish(root: &Path) -> Result<()> {
    crate::fs::remove_file(&path(root))
}

/// Removes what an interrupted cook left under `root`, if it left a journal: each listed file
/// that still holds what cook wrote, then each listed directory left empty. Returns how many
/// files went, or `None` without a journal.
pub fn recover(root: &Path) -> Result<Option<usize>> {
    let journal_path = path(root);
    let bytes = match std::fs::read(&journal_path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(err).with_context(|| format!("failed to read `{}`", journal_path.display()))
        }
    };
    let journal: Journal = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "`{}` (left by an interrupted cook) is not a cook journal: remove it and any \
             skeleton files it left",
            journal_path.display()
        )
    })?;
    let mut removed = 0;
    for entry in &journal.files {
        skeleton::check_relative(&entry.path)?;
        let file = root.join(&entry.path);
        // Only what cook wrote, unchanged, and never through a symlink.
        let is_file = file
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_file());
        if is_file && crate::fs::read(&file).is_ok_and(|c| skeleton::sha256_hex(&c) == entry.sha256)
        {
            crate::fs::remove_file(&file)?;
            removed += 1;
        }
    }
    for dir in journal.dirs.iter().rev() {
        skeleton::check_relative(dir)?;
        // Only if empty: whatever else landed there stays.
        let _ = std::fs::remove_dir(root.join(dir));
    }
    crate::fs::remove_file(&journal_path)?;
    Ok(Some(removed))
}
