//! The workspace's own files as content freshness sees them: every local file and directory
//! (walked from each package directory and each listed unit input), and its content hash.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::units::Scope;

/// Local files and directories: every package directory, and the given unit inputs, without
/// `.git`, the target directory, `$CARGO_HOME`, other target directories or symlinks.
pub(super) fn local_paths(scope: &Scope, extra: &[PathBuf]) -> Result<BTreeMap<PathBuf, bool>> {
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

/// The content hash of each of `paths`, in order, on every available core: hundreds of small
/// files whose reading, not hashing, is the cost.
pub(super) fn content_hashes(paths: &[(PathBuf, bool)]) -> Result<Vec<String>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunk = paths.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(path, is_dir)| content_hash(path, *is_dir))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut hashes = Vec::with_capacity(paths.len());
        for part in parts {
            let part = part
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("hashing local files panicked")))?;
            hashes.extend(part);
        }
        Ok(hashes)
    })
}

/// sha256 of a file's bytes, or of a directory's sorted entry names (a `rerun-if-changed`
/// directory changes when an entry is added or removed).
pub(super) fn content_hash(path: &Path, is_dir: bool) -> Result<String> {
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
