//! The local units a target directory holds, as content freshness sees them: each unit is
//! identified by the mtime of a file cargo rewrites whenever it rebuilds the unit (rustc's
//! `.d` dep-info for a compiled unit, the build script's `output` for a build-script run), and
//! lists the local paths it was built from.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use filetime::FileTime;

use crate::skeleton::stubs::STUB_DIR;

/// Which paths are the workspace's own (local), and which local packages there are.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Where cargo runs rustc (the workspace root): relative dep-info paths start there.
    pub base: PathBuf,
    /// The workspace root and the directories of local packages outside it.
    pub roots: Vec<PathBuf>,
    /// Never local even when under a root: the target directory, `$CARGO_HOME`.
    pub excluded: Vec<PathBuf>,
    /// Local packages: name and directory.
    pub packages: Vec<(String, PathBuf)>,
}

impl Scope {
    pub fn is_local(&self, path: &Path) -> bool {
        self.roots.iter().any(|r| path.starts_with(r))
            && !self.excluded.iter().any(|x| path.starts_with(x))
            && !path.components().any(|c| c.as_os_str() == ".git")
    }
}

/// One unit of a profile directory.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The identifying file, relative to the target directory (`/`-separated).
    pub key: String,
    /// Its mtime: a rebuild of the unit changes it.
    pub identity: FileTime,
    /// Local paths (files, or directories for `rerun-if-changed` on a directory or a build
    /// script that names no input: its whole package) the unit was built from.
    pub inputs: Vec<PathBuf>,
    /// Whether it was built from a cargo-prebuild stub.
    pub stub: bool,
}

/// Every unit in `profile_dirs` with at least one local input, or built from a stub.
pub fn scan(profile_dirs: &[PathBuf], target_dir: &Path, scope: &Scope) -> Result<Vec<Unit>> {
    let mut units = Vec::new();
    for dir in profile_dirs {
        for sub in ["deps", "examples"] {
            for path in files_in(&dir.join(sub))? {
                if path.extension().is_some_and(|e| e == "d") {
                    units.extend(dep_info_unit(&path, target_dir, scope)?);
                }
            }
        }
        for build in dirs_in(&dir.join("build"))? {
            for path in files_in(&build)? {
                if path.extension().is_some_and(|e| e == "d") {
                    units.extend(dep_info_unit(&path, target_dir, scope)?);
                } else if path.file_name().is_some_and(|n| n == "output") {
                    units.extend(build_run_unit(&build, &path, target_dir, scope)?);
                }
            }
        }
    }
    Ok(units)
}

fn dep_info_unit(path: &Path, target_dir: &Path, scope: &Scope) -> Result<Option<Unit>> {
    let text = String::from_utf8_lossy(&crate::fs::read(path)?).into_owned();
    let listed = dep_info_paths(&text);
    let stub = listed
        .iter()
        .any(|p| p.components().any(|c| c.as_os_str() == STUB_DIR));
    let inputs: Vec<PathBuf> = listed
        .into_iter()
        .map(|p| crate::fs::normalize_lexically(&scope.base.join(p)))
        .filter(|p| scope.is_local(p))
        .collect();
    if inputs.is_empty() && !stub {
        return Ok(None);
    }
    Ok(Some(Unit {
        key: key(target_dir, path),
        identity: mtime(path)?,
        inputs,
        stub,
    }))
}

/// A build-script run of a local package: its `rerun-if-changed` paths (relative to the
/// package), or, when it names none, the whole package, as cargo then watches every file.
fn build_run_unit(
    build: &Path,
    output: &Path,
    target_dir: &Path,
    scope: &Scope,
) -> Result<Option<Unit>> {
    let name = build
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some((pkg, hash)) = name.rsplit_once('-') else {
        return Ok(None);
    };
    if hash.len() != 16 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let dirs: Vec<&PathBuf> = scope
        .packages
        .iter()
        .filter(|(n, _)| n == pkg)
        .map(|(_, d)| d)
        .collect();
    if dirs.is_empty() {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&crate::fs::read(output)?).into_owned();
    let rerun: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("cargo::rerun-if-changed=")
                .or_else(|| l.strip_prefix("cargo:rerun-if-changed="))
        })
        .collect();
    let mut inputs = Vec::new();
    for dir in dirs {
        if rerun.is_empty() {
            inputs.push(dir.clone());
        }
        for p in &rerun {
            let p = crate::fs::normalize_lexically(&dir.join(p));
            if scope.is_local(&p) {
                inputs.push(p);
            }
        }
    }
    Ok(Some(Unit {
        key: key(target_dir, output),
        identity: mtime(output)?,
        inputs,
        stub: false,
    }))
}

/// Every path a Makefile-style dep-info file names (rustc's `.d`: `out: in in` lines, then
/// one `in:` line per input; spaces escaped as `\ `; `#` lines are comments).
pub fn dep_info_paths(text: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (lhs, rhs) = match line.find(": ") {
            Some(i) => (&line[..i], &line[i + 2..]),
            None => (line.strip_suffix(':').unwrap_or(line), ""),
        };
        for part in [lhs, rhs] {
            out.extend(split_escaped(part).into_iter().map(PathBuf::from));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn split_escaped(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                cur.push(' ');
                chars.next();
            }
            ' ' => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn key(target_dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(target_dir).unwrap_or(path);
    rel.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

pub fn mtime(path: &Path) -> Result<FileTime> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("failed to read the mtime of `{}`", path.display()))?;
    Ok(FileTime::from_last_modification_time(&meta))
}

fn entries(dir: &Path, want_dirs: bool) -> Result<Vec<PathBuf>> {
    let read = match std::fs::read_dir(dir) {
        Ok(read) => read,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("failed to read `{}`", dir.display())),
    };
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.with_context(|| format!("failed to read `{}`", dir.display()))?;
        let kind = entry
            .file_type()
            .with_context(|| format!("failed to read `{}`", entry.path().display()))?;
        if (want_dirs && kind.is_dir()) || (!want_dirs && kind.is_file()) {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

fn files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    entries(dir, false)
}

fn dirs_in(dir: &Path) -> Result<Vec<PathBuf>> {
    entries(dir, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep_info_lists_inputs_and_outputs() {
        let text = "/t/debug/deps/liba-1.rmeta: /w/a/src/lib.rs /w/a/my\\ file.txt\n\n\
                    /w/a/src/lib.rs:\n/w/a/my\\ file.txt:\n\n# env-dep:X=1\n";
        let paths = dep_info_paths(text);
        assert_eq!(
            paths,
            vec![
                PathBuf::from("/t/debug/deps/liba-1.rmeta"),
                PathBuf::from("/w/a/my file.txt"),
                PathBuf::from("/w/a/src/lib.rs"),
            ]
        );
    }
}
