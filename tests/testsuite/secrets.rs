//! No secret reaches the skeleton, which becomes an image layer: registry tokens, credential
//! providers and aliases, proxy passwords and `credentials(.toml)` are stripped from the
//! configuration, and a credential inside a dependency URL stops `prepare` with an error.

use std::fs;
use std::path::Path;
use walkdir::WalkDir;

use crate::support::*;

/// Registry tokens, credential providers and their aliases, proxy passwords and
/// `credentials(.toml)` files never reach the skeleton: it becomes an image layer.
#[test]
fn no_secrets_in_skeleton() {
    let secrets = [
        "cio-token-SECRET-1",
        "corp-token-SECRET-2",
        "provider-arg-SECRET-3",
        "proxy-pass-SECRET-4",
        "credfile-SECRET-5",
        "legacy-credfile-SECRET-6",
        "global-provider-SECRET-8",
        "ancestor-token-SECRET-9",
        "secret-key-SECRET-10",
    ];
    let p = project()
        .file(
            ".cargo/config.toml",
            r#"[registry]
token = "cio-token-SECRET-1"
global-credential-providers = ["cargo:token", "my-provider --key global-provider-SECRET-8"]

[registries.corp]
index = "sparse+https://corp.example/index/"
token = "corp-token-SECRET-2"
credential-provider = ["/usr/bin/corp-cred", "--secret", "provider-arg-SECRET-3"]
secret-key = "secret-key-SECRET-10"

[http]
proxy = "http://user:proxy-pass-SECRET-4@proxy.example:3128"

[build]
rustflags = ["--cfg", "kept_flag"]
"#,
        )
        .file(
            ".cargo/credentials.toml",
            "[registry]\ntoken = \"credfile-SECRET-5\"\n",
        )
        .file(
            ".cargo/credentials",
            "[registry]\ntoken = \"legacy-credfile-SECRET-6\"\n",
        )
        .file(
            "../.cargo/config.toml",
            "[registries.other]\nindex = \"sparse+https://other.example/\"\ntoken = \"ancestor-token-SECRET-9\"\n",
        )
        .file("Cargo.toml", &pkg("secretive", "itoa = \"1\"\n"))
        .file("src/main.rs", "fn main() {}\n")
        // The proxy in the config is not reachable: no resolution here.
        .no_lockfile()
        .build();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    assert_no_secrets(&skel, &secrets);
    let config = skeleton_file(&skel, "planner/.cargo/config.toml");
    assert!(
        config.contains("kept_flag") && config.contains("sparse+https://corp.example/index/"),
        "the harmless parts of the config must stay:\n{config}"
    );
}

/// `[credential-alias]` names credential-provider command lines, whose arguments may be
/// secrets: like `credential-provider`, it must not reach the skeleton.
#[test]
fn no_credential_alias_in_skeleton() {
    let p = project()
        .file(
            ".cargo/config.toml",
            "[credential-alias]\ncorp-alias = [\"/usr/bin/corp-cred\", \"--key\", \"alias-arg-SECRET-7\"]\n\n[registries.corp]\nindex = \"sparse+https://corp.example/index/\"\ncredential-provider = \"corp-alias\"\n",
        )
        .file("Cargo.toml", &pkg("secretive", "itoa = \"1\"\n"))
        .file("src/main.rs", "fn main() {}\n")
        .build();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    assert_no_secrets(&skel, &["alias-arg-SECRET-7"]);
}

/// A credential inside a dependency URL is part of the package's source identity, so it can
/// be neither kept nor removed: prepare refuses, names the file, does not echo the secret and
/// writes nothing. A plain user name (`ssh://git@...`) is no secret.
#[test]
fn credentials_in_manifest_urls_are_refused() {
    let p = project()
        .file(
            "Cargo.toml",
            &pkg(
                "leaky",
                "private = { git = \"https://deploy:url-token-SECRET-11@git.example/org/private.git\" }\n",
            ),
        )
        .file("src/main.rs", "fn main() {}\n")
        .no_lockfile()
        .build();
    let skel = p.sandbox().join("skel");
    let out = prebuild(
        p.root(),
        ["prepare".as_ref(), "--skeleton".as_ref(), skel.as_os_str()],
    );
    out.assert_code(101, "prepare with a token in a git URL");
    let stderr = out.stderr_str();
    assert!(
        stderr.starts_with("error: ")
            && stderr.contains(&p.path("Cargo.toml").display().to_string())
            && stderr.contains("https://***@git.example")
            && !stderr.contains("SECRET"),
        "{}",
        out.describe()
    );
    assert!(!skel.exists(), "prepare wrote a skeleton after refusing");

    p.edit(
        "Cargo.toml",
        "https://deploy:url-token-SECRET-11@git.example",
        "ssh://git@git.example",
    );
    p.prepare(&skel);
    assert_no_secrets(&skel, &[]);
}

/// No file named `credentials*` and no byte string `SECRET` anywhere in a skeleton directory.
fn assert_no_secrets(skel: &Path, secrets: &[&str]) {
    let mut leaks = Vec::new();
    for entry in WalkDir::new(skel) {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("credentials") {
            leaks.push(format!("file {}", entry.path().display()));
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let bytes = fs::read(entry.path()).unwrap();
        for secret in secrets {
            if contains(&bytes, secret.as_bytes()) {
                leaks.push(format!("{secret} in {}", entry.path().display()));
            }
        }
        if contains(&bytes, b"SECRET") {
            leaks.push(format!(
                "{}:\n{}",
                entry.path().display(),
                String::from_utf8_lossy(&bytes)
            ));
        }
    }
    assert!(leaks.is_empty(), "secrets in the skeleton: {leaks:#?}");
}
