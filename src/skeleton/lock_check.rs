//! The checks cargo makes when it loads `Cargo.lock`, made at prepare: a lockfile cargo would
//! reject must fail prepare, naming its line, not pass into the skeleton and fail at cook.

use std::path::Path;

use anyhow::{bail, Result};
use toml_edit::Table;

/// Where in the lockfile's text an item sits.
type Span = Option<std::ops::Range<usize>>;

/// Lockfile versions stable cargo reads (`version = 5` needs `-Znext-lockfile-bump`).
const VERSIONS: std::ops::RangeInclusive<i64> = 1..=4;

/// Checks the lockfile `text` read from `path`: it parses, its `version` is one cargo reads,
/// and every `[[package]]` has a name and a semver version, and a well-formed source.
pub fn check(text: &str, path: &Path) -> Result<()> {
    let fail = |span: Span, what: String| -> Result<()> {
        let line = span.map_or(String::new(), |s| {
            format!(
                ", line {}",
                text[..s.start.min(text.len())].matches('\n').count() + 1
            )
        });
        bail!(
            "failed to parse lock file `{}`{line}: {what} (cargo would reject it too: fix the \
             file, or run `cargo update --workspace` to write it again)",
            path.display()
        )
    };
    let doc = match toml_edit::Document::parse(text) {
        Ok(doc) => doc,
        Err(err) => return fail(err.span(), err.message().to_string()),
    };
    let root = doc.as_table();
    if let Some(item) = root.get("version") {
        match item.as_integer() {
            Some(v) if VERSIONS.contains(&v) => {}
            Some(v) => {
                return fail(
                    item.span(),
                    format!(
                        "lock file version `{v}` is not one cargo reads (versions {} to {})",
                        VERSIONS.start(),
                        VERSIONS.end()
                    ),
                )
            }
            None => return fail(item.span(), "`version` must be an integer".to_string()),
        }
    }
    let Some(packages) = root.get("package") else {
        return Ok(());
    };
    let Some(packages) = packages.as_array_of_tables() else {
        return fail(
            packages.span(),
            "`package` must be an array of tables (`[[package]]`)".to_string(),
        );
    };
    for package in packages.iter() {
        check_package(package, &fail)?;
    }
    Ok(())
}

fn check_package(package: &Table, fail: &dyn Fn(Span, String) -> Result<()>) -> Result<()> {
    let string = |key: &str| -> Result<Option<(&str, Span)>> {
        match package.get(key) {
            None => Ok(None),
            Some(item) => match item.as_str() {
                Some(s) => Ok(Some((s, item.span()))),
                None => {
                    fail(item.span(), format!("`{key}` must be a string"))?;
                    Ok(None)
                }
            },
        }
    };
    let Some((name, _)) = string("name")? else {
        return fail(package.span(), "a `[[package]]` without `name`".to_string());
    };
    let Some((version, span)) = string("version")? else {
        return fail(
            package.span(),
            format!("package `{name}` without `version`"),
        );
    };
    if let Err(err) = semver::Version::parse(version) {
        fail(
            span,
            format!("package `{name}` has version `{version}`, which is not semver: {err}"),
        )?;
    }
    if let Some((source, span)) = string("source")? {
        let kind = source.split_once('+').map(|(kind, _)| kind);
        if !matches!(kind, Some("registry" | "sparse" | "git" | "path")) {
            fail(
                span,
                format!("package `{name}` has source `{source}`, which is not a cargo source"),
            )?;
        }
    }
    string("checksum")?;
    if let Some(deps) = package.get("dependencies") {
        let all_strings = deps
            .as_array()
            .is_some_and(|a| a.iter().all(|d| d.as_str().is_some()));
        if !all_strings {
            fail(
                deps.span(),
                format!("package `{name}` has `dependencies` that are not a list of strings"),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        format!("{:#}", check(text, Path::new("Cargo.lock")).unwrap_err())
    }

    #[test]
    fn names_the_line_of_what_cargo_rejects() {
        assert!(error("# x\nversion = 99\n").contains("line 2: lock file version `99`"));
        let bad = "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.x\"\n";
        assert!(error(bad).contains("line 5: package `a` has version `1.x`"));
        assert!(error("[[package]]\nname = \"a\"\n").contains("line 1: package `a` without"));
        assert!(error("version = \n").contains("line 1"));
    }

    #[test]
    fn accepts_what_cargo_reads() {
        let ok = "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"0.1.0\"\n\
                  dependencies = [\"b 1.0.0-rc.1 (registry+https://x)\"]\n\n[[package]]\n\
                  name = \"b\"\nversion = \"1.0.0-rc.1\"\nsource = \"registry+https://x\"\n\
                  checksum = \"ab\"\n";
        assert!(check(ok, Path::new("Cargo.lock")).is_ok());
        // Format 1: no `version`, a `[metadata]` table of checksums.
        let v1 = "[[package]]\nname = \"a\"\nversion = \"0.1.0\"\n\n[metadata]\n\"x\" = \"y\"\n";
        assert!(check(v1, Path::new("Cargo.lock")).is_ok());
    }
}
