//! Removing the stub packages' artifacts after cook without running cargo: the entries
//! `cargo clean -p` would delete, matched by exact name in the build's profile directories of a
//! target directory laid out as cargo lays it out by default. Any other layout is left to
//! `cargo clean -p`, which knows it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::context::BuildContext;
use crate::skeleton::{Skeleton, StubPackage};

/// Library file extensions cargo gives a `lib` prefix (`libfoo-<hash>.rlib`, `libfoo.so`).
const LIB_EXTS: &[&str] = &["rlib", "rmeta", "so", "dylib", "a", "dll.a"];
/// Outputs named after the crate alone on Windows (`foo.dll`, `foo.pdb`, `foo.lib`).
const BARE_EXTS: &[&str] = &["dll", "dll.lib", "dll.a", "lib", "pdb"];

/// Names the stub packages' artifacts carry.
#[derive(Debug, Default)]
pub struct StubNames {
    /// Package names: `.fingerprint/<pkg>-<hash>` and `build/<pkg>-<hash>`.
    packages: BTreeSet<String>,
    /// Crate names (`-` turned into `_`): `deps/`, `examples/` and `incremental/` entries.
    crates: BTreeSet<String>,
    /// Bin and example target names, which cargo uplifts with their `-` kept.
    uplifted: BTreeSet<String>,
}

impl StubNames {
    /// The names of `packages` (stub packages of `skeleton`). A crate name shared with an
    /// external package stays out: its files could be that package's.
    pub fn new(
        skeleton: &Skeleton,
        packages: &[&StubPackage],
        external: &BTreeSet<String>,
    ) -> Result<StubNames> {
        let external_crates: BTreeSet<String> = external.iter().map(|n| crate_name(n)).collect();
        let mut names = StubNames::default();
        for pkg in packages {
            names.packages.insert(pkg.name.clone());
            let targets = stub_target_names(skeleton, pkg)?;
            if let Some(lib) = targets.lib {
                names.crates.insert(lib);
            }
            for (name, uplifted) in targets.others {
                names.crates.insert(crate_name(&name));
                if uplifted {
                    names.uplifted.insert(name);
                }
            }
        }
        names.crates.retain(|c| !external_crates.contains(c));
        Ok(names)
    }

    /// `<pkg>-<16 hex>`: a unit's fingerprint or build-script directory.
    fn is_unit(&self, name: &str) -> bool {
        strip_hash(name).is_some_and(|pkg| self.packages.contains(pkg))
    }

    /// A compiled file in `deps/`, `examples/` or the profile directory: hashed (`foo-<hash>`,
    /// `foo-<hash>.d`, `libfoo-<hash>.rlib`) or uplifted (`libfoo.rlib`, `foo.dll`, a stub bin
    /// and its `.d`). The `lib` prefix counts only on library files: `libc-<hash>.d` is the
    /// registry crate `libc`'s, not a member `c`'s.
    fn is_artifact(&self, name: &str) -> bool {
        let (stem, ext) = match name.split_once('.') {
            Some((stem, ext)) => (stem, Some(ext)),
            None => (name, None),
        };
        let lib_ext = ext.is_some_and(|e| LIB_EXTS.contains(&e));
        let is_crate = |c: &str| self.crates.contains(c);
        let lib_crate = |s: &str| s.strip_prefix("lib").is_some_and(is_crate);
        if let Some(hashed) = strip_hash(stem) {
            return is_crate(hashed) || (lib_ext && lib_crate(hashed));
        }
        self.uplifted.contains(stem)
            || (lib_crate(stem) && (lib_ext || ext == Some("d")))
            || (is_crate(stem) && ext.is_some_and(|e| BARE_EXTS.contains(&e)))
    }

    /// `incremental/<crate>-<id>`: rustc names the session directory with a base-36 id.
    fn is_incremental(&self, name: &str) -> bool {
        name.rsplit_once('-').is_some_and(|(krate, id)| {
            (1..=16).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
                && self.crates.contains(krate)
        })
    }
}

/// Where cook can remove stub artifacts itself, or why it cannot.
#[derive(Debug)]
pub enum Layout {
    /// Profile directories (`target/release`, `target/<triple>/debug`, ...) to clean.
    Known(Vec<PathBuf>),
    /// The layout is not one we know: `cargo clean -p` must do it.
    Unknown(String),
}

/// Decides how to clean: `target_dir` is the target directory as worked out without cargo
/// (`None` when only cargo knows it).
pub fn layout(ctx: &BuildContext, target_dir: Option<&Path>) -> Result<Layout> {
    let Some(target_dir) = target_dir else {
        return Ok(Layout::Unknown(
            "the target directory is known only to cargo".to_string(),
        ));
    };
    // A build dir moves intermediate artifacts, and its layout may change across cargo
    // versions (`-Zbuild-dir-new-layout`). A config we cannot read is cargo's to judge.
    match ctx.build_dir_source() {
        Ok(None) => {}
        Ok(Some(source)) => {
            return Ok(Layout::Unknown(format!(
                "`build.build-dir` is set by {source}"
            )))
        }
        Err(err) => return Ok(Layout::Unknown(format!("{err:#}"))),
    }
    // Only this build's profile, as `cargo clean -p` would: the host's directory and each
    // target triple's. Other profiles of a reused target dir keep their local artifacts.
    let profile = ctx.flags.asked.profile_dir();
    let mut dirs = profile_dirs(target_dir)?;
    dirs.retain(|d| d.file_name().is_some_and(|n| n == profile));
    if dirs.is_empty() {
        return Ok(Layout::Unknown(format!(
            "no `{profile}` profile directory with `.fingerprint` in `{}`",
            target_dir.display()
        )));
    }
    Ok(Layout::Known(dirs))
}

/// Directories directly in `target_dir`, or one level deeper (`<triple>/<profile>`), that hold
/// a `.fingerprint` directory: every profile directory cargo has built into.
pub fn profile_dirs(target_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for dir in subdirs(target_dir)? {
        if dir.join(".fingerprint").is_dir() {
            found.push(dir);
            continue;
        }
        found.extend(
            subdirs(&dir)?
                .into_iter()
                .filter(|d| d.join(".fingerprint").is_dir()),
        );
    }
    found.sort();
    Ok(found)
}

/// What [`remove`] removed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Removed {
    /// Entries of every kind.
    pub entries: usize,
    /// Of which `.fingerprint/<pkg>-<hash>` unit directories: none after a build that
    /// compiled stub packages means cargo keeps them somewhere else.
    pub units: usize,
}

/// Removes the stub artifacts from each profile directory.
pub fn remove(profile_dirs: &[PathBuf], names: &StubNames) -> Result<Removed> {
    let mut removed = 0;
    let mut units = 0;
    for dir in profile_dirs {
        let fingerprints = sweep(&dir.join(".fingerprint"), |n| names.is_unit(n))?;
        units += fingerprints;
        removed += fingerprints;
        removed += sweep(&dir.join("build"), |n| names.is_unit(n))?;
        removed += sweep(&dir.join("deps"), |n| names.is_artifact(n))?;
        removed += sweep(&dir.join("examples"), |n| names.is_artifact(n))?;
        removed += sweep(&dir.join("incremental"), |n| names.is_incremental(n))?;
        removed += sweep(dir, |n| names.is_artifact(n))?;
    }
    Ok(Removed {
        entries: removed,
        units,
    })
}

/// Removes the entries of `dir` whose name `matches`; a missing `dir` has none.
fn sweep(dir: &Path, matches: impl Fn(&str) -> bool) -> Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(err) => return Err(err).with_context(|| format!("failed to read `{}`", dir.display())),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to read `{}`", dir.display()))?;
        // Every name cargo gives is UTF-8; anything else is not ours.
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if !matches(&name) {
            continue;
        }
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let result = if is_dir {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match result {
            Ok(()) => removed += 1,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                return Err(err).with_context(|| format!("failed to remove `{}`", path.display()))
            }
        }
    }
    Ok(removed)
}

/// Subdirectories of `dir` (not through symlinks); none if `dir` does not exist.
fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("failed to read `{}`", dir.display())),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to read `{}`", dir.display()))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            dirs.push(entry.path());
        }
    }
    Ok(dirs)
}

/// `<name>-<16 lowercase hex>` (cargo's metadata hash) gives `<name>`.
fn strip_hash(stem: &str) -> Option<&str> {
    let (name, hash) = stem.rsplit_once('-')?;
    let hex = hash.len() == 16
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (hex && !name.is_empty()).then_some(name)
}

fn crate_name(target: &str) -> String {
    target.replace('-', "_")
}

/// The target names of a stub package, from its manifest in the skeleton.
#[derive(Debug, Default)]
struct StubTargetNames {
    /// `[lib] name`, or the package's crate name; `None` without `[lib]` (autolib is off).
    lib: Option<String>,
    /// Bin, example, test and bench names, each with whether cargo uplifts it (bins and
    /// examples keep their `-` there).
    others: Vec<(String, bool)>,
}

fn stub_target_names(skeleton: &Skeleton, pkg: &StubPackage) -> Result<StubTargetNames> {
    let path = if pkg.path == "." {
        "Cargo.toml".to_string()
    } else {
        format!("{}/Cargo.toml", pkg.path)
    };
    let default = crate_name(&pkg.name);
    let Some(file) = skeleton.files.get(&path) else {
        return Ok(StubTargetNames {
            lib: Some(default),
            others: Vec::new(),
        });
    };
    let text = std::str::from_utf8(&file.contents)
        .with_context(|| format!("manifest `{path}` in the skeleton is not UTF-8"))?;
    let manifest: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("failed to parse manifest `{path}` in the skeleton"))?;
    let lib = manifest.get("lib").map(|lib| {
        lib.get("name")
            .and_then(|n| n.as_str())
            .map_or(default, crate_name)
    });
    let mut others = Vec::new();
    for (table, uplifted) in [
        ("bin", true),
        ("example", true),
        ("test", false),
        ("bench", false),
    ] {
        let Some(list) = manifest.get(table).and_then(|t| t.as_array_of_tables()) else {
            continue;
        };
        for target in list.iter() {
            if let Some(name) = target.get("name").and_then(|n| n.as_str()) {
                others.push((name.to_string(), uplifted));
            }
        }
    }
    Ok(StubTargetNames { lib, others })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> StubNames {
        let mut names = StubNames::default();
        for pkg in ["c", "cfg", "my-app"] {
            names.packages.insert(pkg.to_string());
            names.crates.insert(crate_name(pkg));
            for suffix in ["", "-example", "-test"] {
                names
                    .crates
                    .insert(crate_name(&format!("{pkg}-prebuild-stub{suffix}")));
            }
            names.uplifted.insert(format!("{pkg}-prebuild-stub"));
            names
                .uplifted
                .insert(format!("{pkg}-prebuild-stub-example"));
        }
        names
    }

    #[test]
    fn exact_names_only() {
        let n = names();
        for hit in ["cfg-40760fd93cbeceb3", "my-app-3ef4af43ae719d41"] {
            assert!(n.is_unit(hit), "{hit}");
        }
        for miss in [
            "cfg-if-d995ec1fb643b77d",
            "my-app-3ef4af43ae719d4",
            "my-app-3EF4AF43AE719D41",
            "cfg-40760fd93cbeceb3.d",
        ] {
            assert!(!n.is_unit(miss), "{miss}");
        }
        for hit in [
            "libcfg-40760fd93cbeceb3.rlib",
            "libcfg-40760fd93cbeceb3.rmeta",
            "cfg-40760fd93cbeceb3.d",
            "my_app_prebuild_stub-a22af721fe7e6799",
            "my_app_prebuild_stub_test-74d103fb340c8685.d",
            "my_app-5212825e05fbbae8.my_app.abc-cgu.0.rcgu.dwo",
            "libmy_app.rlib",
            "libmy_app.d",
            "my-app-prebuild-stub",
            "my-app-prebuild-stub.d",
            "my-app-prebuild-stub.exe",
            "my-app-prebuild-stub-example",
            "my_app.dll",
        ] {
            assert!(n.is_artifact(hit), "{hit}");
        }
        for miss in [
            "libcfg_if-d995ec1fb643b77d.rlib",
            "cfg_if-d995ec1fb643b77d.d",
            "libcfg-40760fd93cbeceb3.d",
            "cfg.d",
            "cfg",
            "my_app",
            "my-app",
            "libmy_app",
            "deps",
            ".fingerprint",
        ] {
            assert!(!n.is_artifact(miss), "{miss}");
        }
        // A member `c` beside the registry crate `libc`: only the member's library is `libc-*`.
        assert!(n.is_artifact("libc-40760fd93cbeceb3.rlib"));
        assert!(!n.is_artifact("libc-d995ec1fb643b77d.d"));
        assert!(!n.is_artifact("liblibc-d995ec1fb643b77d.rlib"));
        assert!(!n.is_unit("libc-d995ec1fb643b77d"));
        assert!(n.is_incremental("cfg-0ycn8zohio0h5"));
        assert!(n.is_incremental("my_app_prebuild_stub-1srcflyrzmq1w"));
        assert!(!n.is_incremental("cfg_if-0ycn8zohio0h5"));
        assert!(!n.is_incremental("build_script_build-0af1l0kx1bwa8"));
    }
}
