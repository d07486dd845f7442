//! Planting a seed (`build --seed DIR`): the target directory of an earlier final build, moved
//! into this build's target directory (over the cook layer) when its content record matches
//! this build; otherwise refused with a note, and every local crate compiles.

use std::path::Path;

use anyhow::{Context as _, Result};

use super::context::Context;
use super::record::{Header, Record, RECORD_FILE};
use super::units;
use crate::shell::Shell;

/// Returns whether the seed was planted.
pub fn plant(seed: &Path, ctx: &Context, header: &Header, shell: &Shell) -> Result<bool> {
    let refuse = |why: String| {
        shell.note(format!("{why}: every local crate compiles"));
        Ok(false)
    };
    if !seed.is_dir() {
        return refuse(format!("seed `{}` does not exist", seed.display()));
    }
    if ctx.target_dir.join(RECORD_FILE).is_file() {
        shell.note(format!(
            "target directory `{}` already holds a content record; seed `{}` not needed",
            ctx.target_dir.display(),
            seed.display()
        ));
        return Ok(false);
    }
    let Some(record) = Record::read(seed)? else {
        return refuse(format!(
            "seed `{}` holds no content record (`{RECORD_FILE}`, written by `cargo prebuild \
             build --seed` or `--content-freshness`)",
            seed.display()
        ));
    };
    if record.header != *header {
        return refuse(format!(
            "seed `{}` was built with another {}",
            seed.display(),
            record.header.difference(header)
        ));
    }
    // Cook removes stub artifacts; a seed holding one anyway is not used at all.
    let seed_dirs: Vec<_> = ctx
        .profile_dirs
        .iter()
        .filter_map(|d| d.strip_prefix(&ctx.target_dir).ok())
        .map(|rel| seed.join(rel))
        .collect();
    let seed_units = units::scan(&seed_dirs, seed, &ctx.scope)?;
    if let Some(stub) = seed_units.iter().find(|u| u.stub) {
        return refuse(format!(
            "seed `{}` holds a cargo-prebuild stub artifact (`{}`)",
            seed.display(),
            stub.key
        ));
    }
    let moved = move_tree(seed, &ctx.target_dir)?;
    shell.status(
        "Seeded",
        format!(
            "`{}` with {moved} files and directories from `{}`",
            ctx.target_dir.display(),
            seed.display()
        ),
    );
    Ok(true)
}

/// Moves every file of `from` into `to`, replacing files of the same name (the seed's
/// artifacts carry the mtimes its local units were judged against; same name means same
/// unit hash, so same toolchain, flags and sources of an external crate), except the cook
/// record, which describes this target directory's cook. Across filesystems, copies with
/// mtimes kept.
fn move_tree(from: &Path, to: &Path) -> Result<usize> {
    crate::fs::create_dir_all(to)?;
    let mut moved = 0;
    let mut walk = walkdir::WalkDir::new(from).min_depth(1).into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.with_context(|| format!("failed to walk `{}`", from.display()))?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let dest = to.join(rel);
        let kind = entry.file_type();
        if kind.is_dir() {
            // A directory the target lacks (a local unit's, an incremental cache) moves whole.
            if dest.symlink_metadata().is_err() && std::fs::rename(entry.path(), &dest).is_ok() {
                walk.skip_current_dir();
                moved += 1;
                continue;
            }
            // A profile directory both hold: thousands of seed files against a cook layer's
            // few dozen, so those join the seed's directory, which then takes its place.
            if entry.depth() == 1 && swap_dir(entry.path(), &dest)? {
                walk.skip_current_dir();
                moved += 1;
                continue;
            }
            crate::fs::create_dir_all(&dest)?;
            continue;
        }
        if rel == Path::new(crate::record::RECORD_FILE) && dest.exists() {
            continue;
        }
        if dest.symlink_metadata().is_ok() {
            crate::fs::remove_file(&dest)?;
        }
        if std::fs::rename(entry.path(), &dest).is_err() {
            copy_file(entry.path(), &dest, kind.is_symlink())?;
        }
        moved += 1;
    }
    Ok(moved)
}

/// Puts `seed_dir` in the place of `dest`, after moving into it the entries only `dest` holds
/// (same-named files: the seed's win, as in `move_tree`). `false`, with nothing changed, when
/// `seed_dir` cannot be renamed next to `dest` (another filesystem, an overlayfs lower layer
/// in a container's `RUN`): then `move_tree` moves file by file.
fn swap_dir(seed_dir: &Path, dest: &Path) -> Result<bool> {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = dest.with_file_name(format!(".{name}.cargo-prebuild-seed"));
    let old = dest.with_file_name(format!(".{name}.cargo-prebuild-old"));
    if !dest.is_dir() || staging.symlink_metadata().is_ok() || old.symlink_metadata().is_ok() {
        return Ok(false);
    }
    if std::fs::rename(seed_dir, &staging).is_err() {
        return Ok(false);
    }
    let mut walk = walkdir::WalkDir::new(dest).min_depth(1).into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.with_context(|| format!("failed to walk `{}`", dest.display()))?;
        let rel = entry.path().strip_prefix(dest).unwrap_or(entry.path());
        let into = staging.join(rel);
        if into.symlink_metadata().is_ok() {
            continue;
        }
        crate::fs::rename(entry.path(), &into)?;
        if entry.file_type().is_dir() {
            walk.skip_current_dir();
        }
    }
    crate::fs::rename(dest, &old)?;
    crate::fs::rename(&staging, dest)?;
    std::fs::remove_dir_all(&old)
        .with_context(|| format!("failed to remove `{}`", old.display()))?;
    Ok(true)
}

fn copy_file(from: &Path, to: &Path, symlink: bool) -> Result<()> {
    if symlink {
        #[cfg(unix)]
        {
            let link = std::fs::read_link(from)
                .with_context(|| format!("failed to read link `{}`", from.display()))?;
            std::os::unix::fs::symlink(&link, to)
                .with_context(|| format!("failed to create link `{}`", to.display()))?;
        }
        return Ok(());
    }
    std::fs::copy(from, to)
        .with_context(|| format!("failed to copy `{}` to `{}`", from.display(), to.display()))?;
    let modified = units::mtime(from)?;
    filetime::set_file_mtime(to, modified)
        .with_context(|| format!("failed to set the mtime of `{}`", to.display()))
}
