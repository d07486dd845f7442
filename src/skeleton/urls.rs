//! Credentials written into URLs (`https://user:token@host/...`). Config secrets are stripped
//! key by key, but a credential inside a dependency, patch, registry or lockfile URL is part of
//! the package's source identity: removing it would change what cargo builds, and keeping it
//! would bake it into an image layer. prepare refuses instead, naming the file.

use std::path::Path;

use anyhow::{bail, Result};

use super::{File, FileKind};

/// The first URL in `text` that carries a credential, with the credential masked.
fn credential_url(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let scheme_start = rest[..at]
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let scheme = &rest[scheme_start..at];
        let after = &rest[at + 3..];
        let authority_end = after
            .find(|c: char| "/?#\"' \n\t]".contains(c))
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        if let Some((userinfo, host)) = authority.rsplit_once('@') {
            // `ssh://git@host` names a user, not a secret; over http(s) any user part can be a
            // token (`https://<token>@github.com`), and a password is one anywhere.
            let base = scheme.rsplit('+').next().unwrap_or(scheme);
            let web = base.eq_ignore_ascii_case("http") || base.eq_ignore_ascii_case("https");
            if !userinfo.is_empty() && (web || userinfo.contains(':')) {
                return Some(format!("{scheme}://***@{host}"));
            }
        }
        rest = after;
    }
    None
}

/// Fails on the first manifest, lockfile or config file of the skeleton whose text holds a
/// URL with a credential. `tree_root` turns skeleton paths back into the user's paths.
pub fn check(files: &std::collections::BTreeMap<String, File>, tree_root: &Path) -> Result<()> {
    for (path, file) in files {
        if !matches!(
            file.kind,
            FileKind::Manifest | FileKind::Lockfile | FileKind::Config
        ) {
            continue;
        }
        let text = String::from_utf8_lossy(&file.contents);
        if let Some(url) = credential_url(&text) {
            bail!(
                "`{}` has a credential in the URL `{url}`: the skeleton becomes an image layer, \
                 so cargo-prebuild will not copy it there, and removing it would change the \
                 package's source. Give the credential to git or cargo instead (a git \
                 credential helper or `url.<base>.insteadOf` with \
                 `CARGO_NET_GIT_FETCH_WITH_CLI=true`; cargo's credential providers for \
                 registries) and keep the URL plain",
                tree_root.join(path).display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::credential_url;

    #[test]
    fn finds_credentials_not_users() {
        for secret in [
            r#"git = "https://user:tok3n@example.com/org/repo.git""#,
            r#"git = "https://ghp_abc123@github.com/org/repo""#,
            r#"source = "git+https://x-access-token:abc@github.com/org/repo?rev=1#abc""#,
            r#"index = "sparse+https://u:p@registry.example/""#,
            r#"git = "ssh://git:hunter2@host/repo""#,
            "[patch.\"https://tok@github.com/org/repo\"]",
        ] {
            let found = credential_url(secret);
            assert!(found.is_some(), "{secret}");
            let shown = found.unwrap_or_default();
            assert!(
                !shown.contains("tok") && !shown.contains("abc") && !shown.contains("hunter2"),
                "{shown}"
            );
        }
        for plain in [
            r#"git = "ssh://git@github.com/org/repo.git""#,
            r#"git = "https://github.com/org/repo.git""#,
            r#"source = "registry+https://github.com/rust-lang/crates.io-index""#,
            r#"description = "mail me@example.com""#,
            r#"homepage = "https://example.com/@user""#,
            "naïve é://x@y ü:// ://",
        ] {
            assert_eq!(credential_url(plain), None, "{plain}");
        }
    }
}
