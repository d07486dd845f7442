//! Seeded cook (`cook --seed DIR`): start from the target directory of an earlier cook (an
//! earlier dependency image, exported through a registry like any layer), let cargo reuse
//! every unit it still considers fresh, then prune the artifacts the current dependency graph
//! no longer uses, so the layer does not grow across dependency bumps.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result};

use crate::cargo::{CargoCommand, Message};
use crate::record::Record;
use crate::shell::Shell;

/// Moves (or copies, keeping mtimes) a compatible seed into the empty target directory.
/// Returns whether the seed was used; an unusable seed means a cold cook, said in one line.
pub fn plant(seed: &Path, target_dir: &Path, rustc: &str, shell: &Shell) -> Result<bool> {
    let cold = |why: String| {
        shell.note(format!("{why}: cold cook"));
        Ok(false)
    };
    if !seed.is_dir() {
        return cold(format!("seed `{}` does not exist", seed.display()));
    }
    let has_artifacts = target_dir.is_dir()
        && std::fs::read_dir(target_dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
    if has_artifacts {
        shell.note(format!(
            "target directory `{}` already holds artifacts; seed `{}` not needed",
            target_dir.display(),
            seed.display()
        ));
        return Ok(false);
    }
    match Record::read(seed)? {
        None => return cold(format!("seed `{}` holds no cook record", seed.display())),
        Some(record) if record.rustc != rustc => {
            let first = |s: &str| s.lines().next().unwrap_or_default().to_string();
            return cold(format!(
                "seed `{}` was cooked with `{}`, this cook uses `{}`",
                seed.display(),
                first(&record.rustc),
                first(rustc)
            ));
        }
        Some(_) => {}
    }
    if let Some(parent) = target_dir.parent() {
        crate::fs::create_dir_all(parent)?;
    }
    if target_dir.is_dir() {
        crate::fs::remove_dir_all(target_dir)?;
    }
    // A seed copied into the build is disposable: moving it is instant. Across filesystems,
    // copy with mtimes kept, since cargo compares artifact mtimes between dependent units.
    if std::fs::rename(seed, target_dir).is_err() {
        copy_tree(seed, target_dir)?;
    }
    shell.status(
        "Seeded",
        format!("`{}` from `{}`", target_dir.display(), seed.display()),
    );
    Ok(true)
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.with_context(|| format!("failed to walk `{}`", from.display()))?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let dest = to.join(rel);
        let kind = entry.file_type();
        if kind.is_dir() {
            crate::fs::create_dir_all(&dest)?;
        } else if kind.is_symlink() {
            #[cfg(unix)]
            {
                let link = std::fs::read_link(entry.path())
                    .with_context(|| format!("failed to read link `{}`", entry.path().display()))?;
                std::os::unix::fs::symlink(&link, &dest)
                    .with_context(|| format!("failed to create link `{}`", dest.display()))?;
            }
        } else {
            std::fs::copy(entry.path(), &dest).with_context(|| {
                format!(
                    "failed to copy `{}` to `{}`",
                    entry.path().display(),
                    dest.display()
                )
            })?;
            let modified = std::fs::metadata(entry.path())
                .and_then(|m| m.modified())
                .with_context(|| {
                    format!("failed to read the mtime of `{}`", entry.path().display())
                })?;
            std::fs::File::options()
                .write(true)
                .open(&dest)
                .and_then(|f| f.set_modified(modified))
                .with_context(|| format!("failed to set the mtime of `{}`", dest.display()))?;
        }
    }
    Ok(())
}

/// Unit hashes (cargo's `-C extra-filename`) of every artifact the current graph uses, by
/// profile directory, asked from cargo with a no-op build. Fails unless cargo listed the whole
/// graph (it succeeded and said so in its `build-finished` message): a partial list would
/// prune units still in use.
pub fn used_units(cmd: &CargoCommand) -> Result<BTreeSet<(PathBuf, String)>> {
    let mut child = cmd
        .std_command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("failed to run `{cmd}`"))?;
    // Read stderr beside stdout, so neither pipe fills while the other is read.
    let stderr = child.stderr.take().context("no stderr pipe")?;
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut text);
        text
    });
    let mut used = BTreeSet::new();
    let mut finished = false;
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.context("failed to read cargo's output")?;
            let Some(msg) = Message::parse(&line) else {
                continue;
            };
            let paths: Vec<&PathBuf> = match msg.reason.as_str() {
                "compiler-artifact" => msg.filenames.iter().collect(),
                "build-script-executed" => msg.out_dir.iter().collect(),
                "build-finished" => {
                    finished = msg.success == Some(true);
                    continue;
                }
                _ => continue,
            };
            for path in paths {
                if let Some(unit) = unit_of(path) {
                    used.insert(unit);
                }
            }
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("failed to wait for `{cmd}`"))?;
    let errors = errors.join().unwrap_or_default();
    if !status.success() || !finished {
        anyhow::bail!(
            "`{cmd}` did not list the whole dependency graph ({status}){}",
            if errors.trim().is_empty() {
                String::new()
            } else {
                format!(":\n{}", errors.trim_end())
            }
        );
    }
    Ok(used)
}

/// `<profile>/deps/libitoa-0123456789abcdef.rlib` -> (`<profile>`, `0123456789abcdef`);
/// `<profile>/build/foo-<hash>/out` and `<profile>/build/foo-<hash>/build-script-build` too.
pub fn unit_of(path: &Path) -> Option<(PathBuf, String)> {
    let mut cur = path;
    loop {
        let parent = cur.parent()?;
        let dir_name = parent.file_name()?.to_str()?;
        if matches!(dir_name, "deps" | "build" | "examples") {
            let hash = hash_of(cur.file_name()?.to_str()?)?;
            return Some((parent.parent()?.to_path_buf(), hash));
        }
        cur = parent;
    }
}

/// The 16-hex-digit unit hash in `name-<hash>[.ext]`.
fn hash_of(file_name: &str) -> Option<String> {
    let stem = file_name.split('.').next()?;
    let (_, hash) = stem.rsplit_once('-')?;
    (hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit())).then(|| hash.to_string())
}

/// Removes units of `deps/`, `build/` and `.fingerprint/` in the profile directories the
/// graph uses that the graph no longer uses. Returns how many entries were removed.
pub fn prune(used: &BTreeSet<(PathBuf, String)>) -> Result<usize> {
    let profiles: BTreeSet<&PathBuf> = used.iter().map(|(p, _)| p).collect();
    let mut removed = 0;
    for profile in profiles {
        for sub in ["deps", "build", ".fingerprint", "examples"] {
            let dir = profile.join(sub);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let entry = entry.with_context(|| format!("failed to read `{}`", dir.display()))?;
                let name = entry.file_name();
                let Some(hash) = name.to_str().and_then(hash_of) else {
                    continue;
                };
                if used.contains(&(profile.clone(), hash)) {
                    continue;
                }
                let path = entry.path();
                if path.is_dir() {
                    crate::fs::remove_dir_all(&path)?;
                } else {
                    crate::fs::remove_file(&path)?;
                }
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_hashes_are_found_in_cargo_paths() {
        let p = Path::new("/t/release/deps/libitoa-09b0a07e726d1dbc.rlib");
        assert_eq!(
            unit_of(p),
            Some((PathBuf::from("/t/release"), "09b0a07e726d1dbc".to_string()))
        );
        let p = Path::new("/t/release/build/serde-0123456789abcdef/out");
        assert_eq!(
            unit_of(p),
            Some((PathBuf::from("/t/release"), "0123456789abcdef".to_string()))
        );
        assert_eq!(hash_of("app"), None);
        assert_eq!(hash_of("cargo-prebuild-cook.json"), None);
    }
}
