//! Determinism: the skeleton depends on the workspace's content only, not on where it lives,
//! file mtimes, the umask, or a previous run.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use filetime::FileTime;
use walkdir::WalkDir;

use crate::support::*;

#[test]
fn prepare_twice_is_byte_identical() {
    let p = project().fixture("inherit").build();
    let a = p.sandbox().join("skel-a");
    let b = p.sandbox().join("skel-b");
    let da = p.prepare(&a);
    let db = p.prepare(&b);
    assert_eq!(da, db);
    assert_same_tree(&listing(&a), &listing(&b), "two prepares of one workspace");
}

/// A copy of the workspace at another path, deeper, with scrambled mtimes and private
/// permissions, prepared under `umask 077`, gives the same bytes and modes.
#[test]
fn prepare_is_independent_of_path_mtimes_and_umask() {
    let p = project().fixture("inherit").build();
    let reference = p.sandbox().join("skel-ref");
    let digest = p.prepare(&reference);

    let other = tempfile::Builder::new()
        .prefix("cpb-other-")
        .tempdir()
        .unwrap();
    let ws = other.path().join("some/deeper/place/renamed-ws");
    copy_tree(p.root(), &ws, MtimePolicy::Now, &[]);
    let mut i: i64 = 0;
    for entry in WalkDir::new(&ws).min_depth(1).sort_by_file_name() {
        let entry = entry.unwrap();
        i += 1;
        // A spread of past and future times in an order unrelated to the names.
        let t = 1_000_000_000 + (i * 7_919_993) % 900_000_000;
        filetime::set_file_times(
            entry.path(),
            FileTime::from_unix_time(t, 0),
            FileTime::from_unix_time(t, 0),
        )
        .unwrap();
        let mode = if entry.file_type().is_dir() {
            0o700
        } else {
            0o600
        };
        fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode)).unwrap();
    }

    let skel = other.path().join("out/skel");
    let mut cmd = Command::new("sh");
    scrub(&mut cmd);
    cmd.current_dir(&ws)
        .arg("-c")
        .arg("umask 077 && exec \"$0\" \"$@\"")
        .arg(bin_path())
        .args(["prebuild", "prepare", "--skeleton"])
        .arg(&skel);
    let out = run(&mut cmd);
    out.assert_ok("prepare under umask 077 on a moved copy");
    assert_eq!(parse_digest(&out.stdout_str()), digest);
    assert_same_tree(
        &listing(&reference),
        &listing(&skel),
        "skeleton of a moved, re-stamped copy",
    );
}

/// DIR at the workspace root, where a `members = ["*"]` glob matches every directory (the
/// skeleton's own is excluded): prepare's staging directory must not be there while
/// `cargo metadata` reads the workspace, or cargo takes it for a member without a manifest.
#[test]
fn prepare_next_to_a_members_glob() {
    let p = project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"*\"]\nexclude = [\"skel\"]\nresolver = \"2\"\n",
        )
        .file(
            "a/Cargo.toml",
            "[package]\nname = \"a\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .file("a/src/lib.rs", "pub fn a() {}\n")
        .build();
    let digest = p.prepare(&p.sandbox().join("skel-out"));
    for run in 1..=3 {
        assert_eq!(
            p.prepare(&p.path("skel")),
            digest,
            "prepare {run} into `skel`"
        );
    }
}

/// DIR inside the workspace: the second prepare must not read the first one's output.
#[test]
fn prepare_inside_the_workspace_ignores_its_own_output() {
    let p = project().fixture("inherit").build();
    let outside = p.sandbox().join("skel-out");
    let digest = p.prepare(&outside);
    let inside = p.path("docker/skeleton");
    assert_eq!(
        p.prepare(&inside),
        digest,
        "first prepare into the workspace"
    );
    assert_eq!(
        p.prepare(&inside),
        digest,
        "second prepare into the workspace"
    );
    assert_same_tree(
        &listing(&outside),
        &listing(&inside),
        "skeleton written inside the workspace",
    );
}
