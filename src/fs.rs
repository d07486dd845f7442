//! Filesystem helpers whose every error names its path.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))
}

pub fn read_to_string(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))
}

/// Reads a file, returning `None` when it does not exist.
pub fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("failed to read `{}`", path.display())),
    }
}

pub fn write(path: &Path, contents: &[u8]) -> Result<()> {
    std::fs::write(path, contents).with_context(|| format!("failed to write `{}`", path.display()))
}

pub fn create_dir_all(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path)
        .with_context(|| format!("failed to create directory `{}`", path.display()))
}

pub fn remove_file(path: &Path) -> Result<()> {
    std::fs::remove_file(path).with_context(|| format!("failed to remove `{}`", path.display()))
}

pub fn remove_dir_all(path: &Path) -> Result<()> {
    std::fs::remove_dir_all(path)
        .with_context(|| format!("failed to remove directory `{}`", path.display()))
}

pub fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).with_context(|| {
        format!(
            "failed to rename `{}` to `{}`",
            from.display(),
            to.display()
        )
    })
}

/// Sets permission bits explicitly so the result does not depend on the umask.
pub fn set_mode(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("failed to set permissions of `{}`", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Whether `path`'s permission bits are exactly `mode`.
pub fn has_mode(path: &Path, mode: u32) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o7777 == mode)
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        true
    }
}

/// Absolute path without resolving symlinks in the last component's absence.
pub fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("failed to resolve `{}`", path.display()))
}

pub fn canonicalize(path: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(path).with_context(|| format!("failed to resolve `{}`", path.display()))
}

/// `a/b/../c` -> `a/c`, without touching the filesystem.
pub fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Writes a file that must not exist yet; a failed write (a full disk, say) removes what it
/// created, so no truncated file is left behind.
pub fn write_new(path: &Path, contents: &[u8]) -> Result<()> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    fill_or_remove(file, path, contents)
}

/// Writes a file of ours (created or truncated), removing it when the write fails.
pub fn write_or_remove(path: &Path, contents: &[u8]) -> Result<()> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    fill_or_remove(file, path, contents)
}

fn fill_or_remove(mut file: std::fs::File, path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let written = file.write_all(contents).and_then(|()| file.flush());
    drop(file);
    written.map_err(|err| {
        let _ = std::fs::remove_file(path);
        anyhow::Error::new(err).context(format!("failed to write `{}`", path.display()))
    })
}

/// An advisory lock (`flock`) on a directory, released when dropped or when the process
/// ends, however it ends. Locking the directory itself needs no lock file inside it.
#[derive(Debug)]
pub struct DirLock {
    _file: Option<std::fs::File>,
}

/// Waits for a lock on `dir`: shared for readers, exclusive for a writer.
pub fn lock_dir(dir: &Path, exclusive: bool) -> Result<DirLock> {
    lock_dir_with(dir, exclusive, true)?
        .with_context(|| format!("failed to lock `{}`", dir.display()))
}

/// Takes a lock on `dir` if no other process holds a conflicting one: `None` when one does.
pub fn try_lock_dir(dir: &Path, exclusive: bool) -> Result<Option<DirLock>> {
    lock_dir_with(dir, exclusive, false)
}

#[cfg(unix)]
fn lock_dir_with(dir: &Path, exclusive: bool, wait: bool) -> Result<Option<DirLock>> {
    use rustix::fs::FlockOperation as Op;
    let file = std::fs::File::open(dir)
        .with_context(|| format!("failed to open directory `{}`", dir.display()))?;
    let op = match (exclusive, wait) {
        (true, true) => Op::LockExclusive,
        (true, false) => Op::NonBlockingLockExclusive,
        (false, true) => Op::LockShared,
        (false, false) => Op::NonBlockingLockShared,
    };
    loop {
        match rustix::fs::flock(&file, op) {
            Ok(()) => return Ok(Some(DirLock { _file: Some(file) })),
            Err(rustix::io::Errno::INTR) => continue,
            Err(rustix::io::Errno::WOULDBLOCK) if !wait => return Ok(None),
            Err(err) => {
                return Err(std::io::Error::from(err))
                    .with_context(|| format!("failed to lock `{}`", dir.display()))
            }
        }
    }
}

/// Elsewhere, directories are not locked: concurrent writers are not supported there.
#[cfg(not(unix))]
fn lock_dir_with(_dir: &Path, _exclusive: bool, _wait: bool) -> Result<Option<DirLock>> {
    Ok(Some(DirLock { _file: None }))
}
