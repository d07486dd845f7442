//! Reading a skeleton directory back (cook, diff): under a shared lock, so a prepare
//! switching a new skeleton in waits, and every file checked against the index and the
//! digest, so an incomplete or altered copy is reported instead of cooked.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::{check_relative, sha256_hex, File, Index, Skeleton, FORMAT, INDEX_FILE, TREE_ARCHIVE};

impl Skeleton {
    /// Reads a skeleton directory, checking every file against the index so an incomplete
    /// copy is reported instead of cooked.
    pub fn read(dir: &Path) -> Result<Skeleton> {
        if !dir.is_dir() {
            bail!("skeleton directory `{}` does not exist", dir.display());
        }
        // Held while reading, so a prepare switching a new skeleton in waits. A directory
        // that cannot be locked (no permission to open it) is read as it is.
        let _lock = crate::fs::lock_dir(dir, false).ok();
        read_unlocked(dir)
    }
}

/// [`Skeleton::read`] for a caller that holds the lock already.
pub(super) fn read_unlocked(dir: &Path) -> Result<Skeleton> {
    let index_path = dir.join(INDEX_FILE);
    let bytes = crate::fs::read(&index_path).with_context(|| {
        format!(
            "`{}` is not a skeleton written by `cargo prebuild prepare`",
            dir.display()
        )
    })?;
    let index: Index = serde_json::from_slice(&bytes)
        .with_context(|| format!("failed to parse skeleton index `{}`", index_path.display()))?;
    if index.format != FORMAT {
        bail!(
            "skeleton `{}` has format {}, this cargo-prebuild reads format {FORMAT}: \
             run `prepare` and `cook` with the same cargo-prebuild version",
            dir.display(),
            index.format
        );
    }
    let mut skeleton = Skeleton {
        files: BTreeMap::new(),
        workspace: index.workspace,
        stub_packages: index.stub_packages,
    };
    let archive_path = dir.join(TREE_ARCHIVE);
    let archived = super::archive::read(
        &crate::fs::read(&archive_path)?,
        &archive_path.display().to_string(),
    )?;
    let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (path, bytes) in archived {
        if contents.insert(path.clone(), bytes).is_some() {
            bail!(
                "skeleton archive `{}` holds `{path}` twice",
                archive_path.display()
            );
        }
    }
    for entry in index.files {
        check_relative(&entry.path)?;
        let bytes = contents.remove(&entry.path).with_context(|| {
            format!(
                "skeleton file `{}` is missing from `{}`",
                entry.path,
                archive_path.display()
            )
        })?;
        if sha256_hex(&bytes) != entry.sha256 {
            bail!(
                "skeleton file `{}` in `{}` does not match the skeleton's index",
                entry.path,
                archive_path.display()
            );
        }
        skeleton.files.insert(
            entry.path,
            File {
                kind: entry.kind,
                contents: bytes,
            },
        );
    }
    if let Some(extra) = contents.keys().next() {
        bail!(
            "skeleton archive `{}` holds `{extra}`, which the skeleton's index does not list",
            archive_path.display()
        );
    }
    if skeleton.digest() != index.digest {
        bail!("skeleton `{}` does not match its digest", dir.display());
    }
    Ok(skeleton)
}
