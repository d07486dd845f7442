//! Where a skeleton directory may not go: where a `workspace.members` glob matches it (or a
//! directory on its way). Cargo would take that directory for a member without a manifest,
//! and every `cargo build` in the workspace would fail until it is removed. Also tells when
//! an earlier skeleton there is why `cargo metadata` failed.

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Result};

/// Refuses `dir` when a `members` pattern of the workspace at `root` (absolute, symlinks
/// resolved) matches it or one of its ancestors inside the workspace, unless excluded or
/// already a package. In doubt (an unreadable manifest), it allows: `cargo metadata` has
/// read that manifest already, and reports its own errors.
pub fn check(dir: &Path, root: &Path) -> Result<()> {
    let Some(rel) = resolve(dir).and_then(|d| d.strip_prefix(root).ok().map(Path::to_path_buf))
    else {
        return Ok(());
    };
    let manifest = root.join("Cargo.toml");
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        return Ok(());
    };
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        return Ok(());
    };
    let strings = |key: &str| -> Vec<String> {
        doc.get("workspace")
            .and_then(|w| w.get(key))
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let members = strings("members");
    let excluded: Vec<PathBuf> = strings("exclude")
        .iter()
        .map(|e| crate::fs::normalize_lexically(Path::new(e)))
        .collect();
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for depth in 1..=parts.len() {
        let candidate: PathBuf = parts[..depth].iter().collect();
        if excluded.iter().any(|e| candidate.starts_with(e))
            || root.join(&candidate).join("Cargo.toml").is_file()
        {
            continue;
        }
        let Some(pattern) = members.iter().find(|m| matches(m, &parts[..depth])) else {
            continue;
        };
        let shown = candidate.to_string_lossy().replace('\\', "/");
        bail!(
            "refusing to write the skeleton into `{}`: `{shown}` matches the `members` entry \
             `{pattern}` of `{}`, so cargo would take it for a workspace member without a \
             `Cargo.toml` and every build of the workspace would fail; write the skeleton \
             outside `{pattern}` (outside the workspace, say), or add `\"{shown}\"` to \
             `workspace.exclude`",
            dir.display(),
            manifest.display()
        );
    }
    Ok(())
}

/// Whether `dir` holds an earlier skeleton that a `members` glob of the workspace around
/// `manifest_path` (or the current directory) matches: cargo reads it as a member without a
/// manifest, so `cargo metadata` fails there. The workspace is the nearest directory at or
/// above the start whose `Cargo.toml` has a `[workspace]` table, as cargo finds it.
pub fn read_as_member(dir: &Path, manifest_path: Option<&Path>) -> bool {
    if !dir.join(crate::skeleton::INDEX_FILE).is_file() {
        return false;
    }
    let start = match manifest_path.and_then(Path::parent) {
        Some(parent) => resolve(parent),
        None => std::env::current_dir().ok().and_then(|d| resolve(&d)),
    };
    let root = start.as_deref().and_then(|start| {
        start.ancestors().find(|d| {
            std::fs::read_to_string(d.join("Cargo.toml"))
                .ok()
                .and_then(|text| text.parse::<toml_edit::DocumentMut>().ok())
                .is_some_and(|doc| doc.get("workspace").is_some_and(|w| w.is_table_like()))
        })
    });
    root.is_some_and(|root| check(dir, root).is_err())
}

/// `dir` with its existing part resolved through symlinks, as the workspace root is.
fn resolve(dir: &Path) -> Option<PathBuf> {
    let existing = dir.ancestors().find(|a| a.exists())?;
    let base = std::fs::canonicalize(existing).ok()?;
    let rest = dir.strip_prefix(existing).ok()?;
    Some(crate::fs::normalize_lexically(&base.join(rest)))
}

/// Whether a `members` pattern matches the path `parts` as cargo's glob expansion does:
/// component by component, `**` for any number of components.
fn matches(pattern: &str, parts: &[String]) -> bool {
    let pattern: Vec<&str> = Path::new(pattern)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    fn go(pattern: &[&str], parts: &[String]) -> bool {
        match pattern.split_first() {
            None => parts.is_empty(),
            Some((&"**", rest)) => (0..=parts.len()).any(|skip| go(rest, &parts[skip..])),
            Some((first, rest)) => parts
                .split_first()
                .is_some_and(|(part, others)| component(first, part) && go(rest, others)),
        }
    }
    go(&pattern, parts)
}

/// One path component against a glob component: `*`, `?` and `[...]` classes.
fn component(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|skip| go(rest, &n[skip..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some(('[', rest)) => {
                let Some(end) = rest.iter().skip(1).position(|&c| c == ']').map(|i| i + 1) else {
                    return n.first() == Some(&'[') && go(rest, &n[1..]);
                };
                let (negate, class) = match rest[..end].split_first() {
                    Some(('!', class)) => (true, class),
                    _ => (false, &rest[..end]),
                };
                let Some(&c) = n.first() else {
                    return false;
                };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= c && c <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == c;
                        i += 1;
                    }
                }
                hit != negate && go(&rest[end + 1..], &n[1..])
            }
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        let parts: Vec<String> = path.split('/').map(str::to_string).collect();
        matches(pattern, &parts)
    }

    #[test]
    fn matches_like_cargo_member_globs() {
        assert!(m("crates/*", "crates/skel"));
        assert!(!m("crates/*", "crates/skel/tree"));
        assert!(!m("crates/*", "skel"));
        assert!(m("crates/a*", "crates/abc"));
        assert!(m("crates/?", "crates/x"));
        assert!(m("crates/[a-c]x", "crates/bx"));
        assert!(!m("crates/[!a-c]x", "crates/bx"));
        assert!(m("**/skel", "a/b/skel"));
        assert!(m("./crates/*", "crates/skel"));
        assert!(m("crates/skel", "crates/skel"));
    }
}
