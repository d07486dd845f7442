//! The skeleton's tree is one archive, `tree.tar`: any `tar` lists and extracts it, it holds
//! exactly the files the index lists (long paths too), its metadata is fixed, and cook
//! refuses an archive whose contents no longer match the index.

use std::fs;
use std::process::Command;

use crate::support::*;

/// A member whose manifest path needs ustar's prefix field, and one too long for it (pax).
fn deep() -> Project {
    let split = format!("crates/{}/{}", "s".repeat(70), "t".repeat(40));
    let long = format!(
        "crates/{}/{}/{}",
        "l".repeat(90),
        "m".repeat(90),
        "n".repeat(90)
    );
    project()
        .file(
            "Cargo.toml",
            &format!("[workspace]\nmembers = [\"{split}\", \"{long}\"]\nresolver = \"2\"\n"),
        )
        .file(
            &format!("{split}/Cargo.toml"),
            "[package]\nname = \"split\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .file(&format!("{split}/src/lib.rs"), "pub fn f() {}\n")
        .file(
            &format!("{long}/Cargo.toml"),
            &format!(
                "[package]\nname = \"long\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [dependencies]\nsplit = {{ path = \"../../../../{split}\" }}\n"
            ),
        )
        .file(&format!("{long}/src/main.rs"), "fn main() {}\n")
        .build()
}

fn index_paths(skel: &std::path::Path) -> Vec<String> {
    let index = skeleton_index(skel);
    index["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn tar_lists_and_extracts_exactly_the_indexed_files() {
    let p = deep();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let paths = index_paths(&skel);
    assert!(paths.iter().any(|f| f.len() > 100 && f.len() <= 255));
    assert!(paths.iter().any(|f| f.len() > 255), "{paths:#?}");
    // In the index's (sorted) order, each once.
    let out = run(Command::new("tar").arg("-tf").arg(skel.join(TREE_ARCHIVE)));
    out.assert_ok("tar -tf");
    let listed: Vec<String> = out.stdout_str().lines().map(str::to_string).collect();
    assert_eq!(listed, paths);
    let tree = skeleton_tree(&skel);
    assert_eq!(files_under(&tree), paths.iter().cloned().collect());
    let long = paths
        .iter()
        .find(|f| f.len() > 255 && f.ends_with("Cargo.toml"));
    assert!(skeleton_file(&skel, long.unwrap()).contains("name = \"long\""));
}

#[test]
fn entries_carry_fixed_metadata() {
    let p = deep();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let out = run(Command::new("tar")
        .args(["--numeric-owner", "--utc", "-tvf"])
        .arg(skel.join(TREE_ARCHIVE)));
    out.assert_ok("tar -tvf");
    let lines: Vec<String> = out.stdout_str().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), index_paths(&skel).len());
    for line in &lines {
        assert!(
            line.starts_with("-rw-r--r-- 0/0 ") && line.contains(" 1970-01-01 00:00 "),
            "{line}"
        );
    }
}

#[test]
fn cook_refuses_an_archive_that_does_not_match_the_index() {
    let p = deep();
    let (skel, builder) = p.skeleton_and_builder();
    let archive = skel.join(TREE_ARCHIVE);
    let mut bytes = fs::read(&archive).unwrap();
    let at = bytes
        .windows(6)
        .position(|w| w == b"[works")
        .expect("the root manifest in the archive");
    bytes[at + 1] = b'W';
    fs::write(&archive, &bytes).unwrap();
    let out = prebuild(
        &builder,
        ["cook".as_ref(), "--skeleton".as_ref(), skel.as_os_str()],
    );
    out.assert_code(101, "cook of a tampered archive");
    let stderr = out.stderr_str();
    assert!(
        stderr.contains("`Cargo.toml`") && stderr.contains("does not match the skeleton's index"),
        "{}",
        out.describe()
    );
    assert!(files_under(&builder).is_empty(), "cook laid files out");
}
