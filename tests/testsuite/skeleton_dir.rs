//! The skeleton directory `prepare --skeleton DIR` writes: only an earlier skeleton is ever
//! replaced, a mount point or a symlink works, concurrent writers and readers see one whole
//! skeleton, and a full disk loses nothing.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cargo_prebuild::skeleton::{File, FileKind, Skeleton};

use crate::support::*;

fn small() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"a\", \"b\"]\nresolver = \"2\"\n",
        )
        .file("a/Cargo.toml", "[package]\nname = \"a\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"1\"\n")
        .file("a/src/main.rs", "fn main() {\n    println!(\"a {}\", itoa::Buffer::new().format(1));\n}\n")
        .file("b/Cargo.toml", "[package]\nname = \"b\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
        .file("b/src/lib.rs", "pub fn b() {}\n")
        .build()
}

fn prepare(p: &Project, skel: &Path) -> Output {
    prebuild(
        p.root(),
        ["prepare".as_ref(), "--skeleton".as_ref(), skel.as_os_str()],
    )
}

/// A change to the workspace that changes its skeleton.
fn change(p: &Project) {
    p.edit(
        "b/Cargo.toml",
        "edition = \"2021\"",
        "edition = \"2021\"\n\n[features]\nextra = []",
    );
}

/// The skeleton in `dir`, read as cook reads it (every file checked against the index).
fn digest_of(dir: &Path) -> String {
    Skeleton::read(dir)
        .unwrap_or_else(|e| panic!("{} is not a whole skeleton: {e:#}", dir.display()))
        .digest()
}

fn assert_only_skeleton(dir: &Path) {
    assert_eq!(
        top_level(dir),
        ["cargo-prebuild.json".to_string(), TREE_ARCHIVE.to_string()].into(),
        "{} holds more than a skeleton",
        dir.display()
    );
}

/// A tmpfs mounted at a path, unmounted when dropped (declare it after the project, so it is
/// unmounted before the sandbox is removed).
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Mounts a tmpfs of `size` at `at`, or skips the test with a note (mounting needs root);
/// with `CARGO_PREBUILD_REQUIRE_TOOLS=1` (`.ci/run`) a failed mount fails the test.
fn tmpfs(at: &Path, size: &str) -> Option<Mount> {
    fs::create_dir_all(at).unwrap();
    let out = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size},mode=0755"),
            "tmpfs",
        ])
        .arg(at)
        .output();
    if out.as_ref().is_ok_and(|o| o.status.success()) {
        return Some(Mount(at.to_path_buf()));
    }
    let why = match out {
        Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
        Err(e) => e.to_string(),
    };
    assert!(
        std::env::var_os("CARGO_PREBUILD_REQUIRE_TOOLS").is_none(),
        "cannot mount a tmpfs at {} (needs root): {why}",
        at.display()
    );
    eprintln!("note: skipped: cannot mount a tmpfs (needs root; `.ci/run` runs as root): {why}");
    None
}

fn is_mount_point(path: &Path) -> bool {
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let path = fs::canonicalize(path).unwrap();
    mounts
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|m| Path::new(m) == path)
}

/// Fills the filesystem holding `dir` with one file, then frees `free` bytes of it.
fn fill(dir: &Path, free: u64) {
    let path = dir.join("filler");
    let mut file = fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while file.write(&block).is_ok_and(|n| n > 0) {}
    let len = file.metadata().unwrap().len();
    file.set_len(len.saturating_sub(free)).unwrap();
}

#[test]
fn refuses_a_directory_with_an_unparsable_index_and_deletes_nothing() {
    let p = small();
    let skel = p.sandbox().join("skel");
    fs::create_dir_all(&skel).unwrap();
    fs::write(skel.join("cargo-prebuild.json"), "").unwrap();
    fs::write(skel.join("notes.txt"), "mine\n").unwrap();
    let before = listing(&skel);

    let out = prepare(&p, &skel);
    out.assert_code(101, "prepare into a directory with an empty index");
    let stderr = out.stderr_str();
    for named in ["`notes.txt`", "cargo-prebuild.json", "not a skeleton index"] {
        assert!(
            stderr.contains(named),
            "error does not name {named}\n{}",
            out.describe()
        );
    }
    assert_same_tree(&before, &listing(&skel), "refused directory");
}

#[test]
fn refuses_an_earlier_skeleton_holding_files_its_index_does_not_list() {
    let p = small();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    fs::write(skel.join("keep.txt"), "mine\n").unwrap();
    fs::create_dir_all(skel.join("mine")).unwrap();
    fs::write(skel.join("mine/notes.rs"), "// mine\n").unwrap();
    change(&p);
    let before = listing(&skel);

    let out = prepare(&p, &skel);
    out.assert_code(101, "prepare into a skeleton with extra files");
    let stderr = out.stderr_str();
    for named in ["`keep.txt`", "`mine`"] {
        assert!(
            stderr.contains(named),
            "error does not name {named}\n{}",
            out.describe()
        );
    }
    assert_same_tree(&before, &listing(&skel), "refused skeleton");

    // Without them, it is an earlier skeleton, and replaced; what a killed prepare left
    // staging there goes too.
    fs::remove_file(skel.join("keep.txt")).unwrap();
    fs::remove_dir_all(skel.join("mine")).unwrap();
    fs::create_dir_all(skel.join(".cargo-prebuild-staging-killed")).unwrap();
    fs::write(skel.join(".cargo-prebuild-staging-killed/tree.tar"), "").unwrap();
    let digest = p.prepare(&skel);
    assert_eq!(digest_of(&skel), digest);
    assert_only_skeleton(&skel);
}

#[test]
fn writes_into_a_mount_point() {
    let p = small();
    let skel = p.sandbox().join("skel");
    let Some(_mount) = tmpfs(&skel, "16m") else {
        return;
    };
    let first = p.prepare(&skel);
    assert_eq!(digest_of(&skel), first);
    change(&p);
    let second = p.prepare(&skel);
    assert_ne!(first, second);
    assert_eq!(digest_of(&skel), second);
    assert!(is_mount_point(&skel), "the mount point was replaced");
    assert_only_skeleton(&skel);
}

/// A skeleton of format 1 (its tree a `tree/` directory) is an earlier skeleton: replaced by
/// an upgraded cargo-prebuild, unless its `tree/` holds files its index does not list.
#[test]
fn replaces_a_format_1_tree_directory() {
    let p = small();
    let skel = p.sandbox().join("skel");
    fs::create_dir_all(skel.join("tree/a")).unwrap();
    fs::write(skel.join("tree/Cargo.toml"), "[workspace]\n").unwrap();
    fs::write(skel.join("tree/a/Cargo.toml"), "[package]\n").unwrap();
    let entry = |path: &str| format!(r#"{{"path":"{path}","kind":"manifest","sha256":"0"}}"#);
    fs::write(
        skel.join("cargo-prebuild.json"),
        format!(
            r#"{{"format":1,"digest":"sha256:0","workspace":".","stub-packages":[],"files":[{},{}]}}"#,
            entry("Cargo.toml"),
            entry("a/Cargo.toml")
        ),
    )
    .unwrap();
    fs::write(skel.join("tree/a/notes.rs"), "// mine\n").unwrap();
    let before = listing(&skel);
    let out = prepare(&p, &skel);
    out.assert_code(101, "prepare over a format-1 skeleton with an extra file");
    assert!(
        out.stderr_str().contains("`tree/a/notes.rs`"),
        "{}",
        out.describe()
    );
    assert_same_tree(&before, &listing(&skel), "refused skeleton");

    fs::remove_file(skel.join("tree/a/notes.rs")).unwrap();
    let digest = p.prepare(&skel);
    assert_eq!(digest_of(&skel), digest);
    assert_only_skeleton(&skel);
}

#[test]
fn follows_a_symlinked_directory() {
    let p = small();
    let real = p.sandbox().join("real");
    let link = p.sandbox().join("skel");
    fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink("real", &link).unwrap();
    p.prepare(&link);
    change(&p);
    let second = p.prepare(&link);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the symlink was replaced"
    );
    assert_eq!(digest_of(&real), second, "the linked directory is stale");
    assert_only_skeleton(&real);

    // A link to a directory not there yet: created where it points.
    let dangling = p.sandbox().join("later");
    std::os::unix::fs::symlink("made/here", &dangling).unwrap();
    let digest = p.prepare(&dangling);
    assert_eq!(digest_of(&p.sandbox().join("made/here")), digest);
}

fn skeleton_of(n: usize) -> Skeleton {
    let mut skeleton = Skeleton {
        workspace: ".".to_string(),
        ..Skeleton::default()
    };
    for i in 0..40 {
        skeleton.files.insert(
            format!("crates/c{i}/Cargo.toml"),
            File {
                kind: FileKind::Manifest,
                contents: format!("# writer {n}, file {i}\n").into_bytes(),
            },
        );
    }
    skeleton
}

/// Writers committing at the same instant, readers reading meanwhile: every commit succeeds,
/// every read sees one whole skeleton, and one whole skeleton is left.
#[test]
fn concurrent_writers_and_readers_see_one_whole_skeleton() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("skel");
    let skeletons = [skeleton_of(0), skeleton_of(1)];
    let digests: Vec<String> = skeletons.iter().map(Skeleton::digest).collect();
    skeletons[0].stage(&dir).unwrap().commit().unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let digest = Skeleton::read(&dir)
                    .unwrap_or_else(|e| panic!("a reader saw no whole skeleton: {e:#}"))
                    .digest();
                assert!(digests.contains(&digest), "a reader saw {digest}");
                reads += 1;
            }
            reads
        });
        for _ in 0..60 {
            let barrier = std::sync::Barrier::new(2);
            std::thread::scope(|round| {
                for skeleton in &skeletons {
                    let barrier = &barrier;
                    let dir = &dir;
                    round.spawn(move || {
                        let staged = skeleton.stage(dir).unwrap();
                        barrier.wait();
                        staged
                            .commit()
                            .unwrap_or_else(|e| panic!("a commit failed: {e:#}"));
                    });
                }
            });
            assert!(digests.contains(&digest_of(&dir)));
            assert_only_skeleton(&dir);
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(reader.join().unwrap() > 0);
    });
}

/// Two CI jobs preparing into one shared cache directory at once.
#[test]
fn two_prepares_at_once_leave_one_whole_skeleton() {
    let p = small();
    let q = small();
    change(&q);
    let skel = p.sandbox().join("shared");
    for _ in 0..4 {
        let spawn = |project: &Project| {
            let mut cmd = prebuild_cmd(project.root());
            cmd.arg("prepare").arg("--skeleton").arg(&skel);
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(&p), spawn(&q));
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        a.assert_ok("first of two prepares at once");
        b.assert_ok("second of two prepares at once");
        let digests = [parse_digest(&a.stdout_str()), parse_digest(&b.stdout_str())];
        assert!(digests.contains(&digest_of(&skel)));
        assert_only_skeleton(&skel);
    }
}

/// A full disk while the new skeleton is written: an error naming the directory and the
/// cause, the earlier skeleton whole, nothing else left, the workspace untouched.
#[test]
fn full_disk_during_prepare_keeps_the_earlier_skeleton() {
    let p = small();
    let skel = p.sandbox().join("skel");
    let Some(_mount) = tmpfs(&skel, "16m") else {
        return;
    };
    let first = p.prepare(&skel);
    // Room for the earlier skeleton and a few pages more: not for a second copy.
    let used = Command::new("df")
        .args(["--output=used", "-B1"])
        .arg(&skel)
        .output()
        .unwrap();
    let used: u64 = used
        .stdout_str()
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let status = Command::new("mount")
        .args(["-o", &format!("remount,size={}", used + 8192)])
        .arg(&skel)
        .status()
        .unwrap();
    assert!(status.success(), "remount failed");
    change(&p);
    let before = listing(p.root());

    let out = prepare(&p, &skel);
    out.assert_code(101, "prepare on a full disk");
    let stderr = out.stderr_str();
    assert!(
        stderr.contains(&format!(
            "failed to write the skeleton into `{}`",
            skel.display()
        )) && stderr.contains("No space left on device"),
        "unclear error\n{}",
        out.describe()
    );
    assert_eq!(digest_of(&skel), first, "the earlier skeleton was lost");
    assert_only_skeleton(&skel);
    assert_same_tree(
        &before,
        &listing(p.root()),
        "workspace after a failed prepare",
    );
}

/// A full disk while cook lays the skeleton out: cargo's error or ours, and the directory
/// exactly as it was (no truncated file, no journal).
#[test]
fn full_disk_during_cook_leaves_the_directory_as_it_was() {
    let p = small();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let builder = p.sandbox().join("builder");
    let Some(_mount) = tmpfs(&builder, "1m") else {
        return;
    };
    fs::write(builder.join("notes.txt"), "mine\n").unwrap();
    // No room at all (not even for the journal), then room for the journal and a file or
    // two, not for the whole layout.
    for free in [0, 3 * 4096] {
        fill(&builder, free);
        let before = listing(&builder);
        let skel_before = listing(&skel);

        let mut cmd = prebuild_cmd(&builder);
        cmd.arg("cook").arg("--skeleton").arg(&skel);
        let out = run(&mut cmd);
        out.assert_code(101, "cook on a full disk");
        assert!(
            out.stderr_str().contains("No space left on device"),
            "unclear error\n{}",
            out.describe()
        );
        assert_same_tree(&before, &listing(&builder), "builder after a failed cook");
        assert_same_tree(
            &skel_before,
            &listing(&skel),
            "skeleton after a failed cook",
        );
    }
}

fn globbed() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
        )
        .file("crates/a/Cargo.toml", "[package]\nname = \"a\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"1\"\n")
        .file("crates/a/src/lib.rs", "pub fn a() {}\n")
        .build()
}

/// A skeleton directory a `members` glob would match: refused before anything is written,
/// so the user's own cargo keeps working; excluded, it is fine.
#[test]
fn refuses_a_directory_inside_a_member_glob() {
    let p = globbed();
    let before = listing(p.root());
    for dir in ["crates/skel", "crates/skel/inner"] {
        let out = prepare(&p, &p.path(dir));
        out.assert_code(101, "prepare into a member glob");
        let stderr = out.stderr_str();
        for named in ["`crates/skel`", "`crates/*`", "workspace.exclude"] {
            assert!(
                stderr.contains(named),
                "error does not name {named}\n{}",
                out.describe()
            );
        }
        assert_same_tree(
            &before,
            &listing(p.root()),
            "workspace after a refused prepare",
        );
        p.cargo(&["metadata", "--offline", "--format-version", "1"])
            .assert_ok("cargo metadata after a refused prepare");
    }

    p.edit(
        "Cargo.toml",
        "resolver",
        "exclude = [\"crates/skel\"]\nresolver",
    );
    let digest = p.prepare(&p.path("crates/skel"));
    assert_eq!(digest_of(&p.path("crates/skel")), digest);
    p.cargo(&["metadata", "--offline", "--format-version", "1"])
        .assert_ok("cargo metadata with an excluded skeleton");
}

/// An earlier skeleton that a `members` glob matches (the glob came later): cargo takes it for
/// a member without a manifest and fails, and prepare says why and what to do; a plain
/// directory there gets cargo's own error alone.
#[test]
fn explains_an_earlier_skeleton_that_cargo_reads_as_a_member() {
    const HINT: &str = "is inside the workspace and cargo read it as a member";
    let p = globbed();
    let outside = p.sandbox().join("skel");
    p.prepare(&outside);
    fs::rename(&outside, p.path("crates/skel")).unwrap();
    for args in [&[][..], &["--dry-run"][..]] {
        let skel = p.path("crates/skel");
        let mut all: Vec<&std::ffi::OsStr> =
            vec!["prepare".as_ref(), "--skeleton".as_ref(), skel.as_os_str()];
        all.extend(args.iter().map(|a: &&str| std::ffi::OsStr::new(*a)));
        let out = prebuild(p.root(), all);
        out.assert_code(101, "prepare with a skeleton cargo reads as a member");
        assert!(
            out.stderr_str().contains(HINT),
            "no hint\n{}",
            out.describe()
        );
    }
    fs::remove_file(p.path("crates/skel").join("cargo-prebuild.json")).unwrap();
    let out = prepare(&p, &p.path("crates/other"));
    out.assert_code(
        101,
        "prepare with a plain directory cargo reads as a member",
    );
    assert!(!out.stderr_str().contains(HINT), "{}", out.describe());
}

/// A lockfile cargo would reject fails prepare, naming the file and the line; nothing written.
#[test]
fn refuses_a_lockfile_cargo_would_reject() {
    let p = small();
    let skel = p.sandbox().join("skel");
    let lock = p.read("Cargo.lock");
    let cases = [
        (
            lock.replacen("version = 4", "version = 99", 1),
            "version = 99",
        ),
        (
            lock.replacen(
                "name = \"itoa\"\nversion = \"1.",
                "name = \"itoa\"\nversion = \"x1.",
                1,
            ),
            "version = \"x1.",
        ),
    ];
    for (text, bad) in cases {
        assert_ne!(text, lock, "fixture lockfile lacks {bad:?}");
        p.write("Cargo.lock", &text);
        let line = text.lines().position(|l| l.starts_with(bad)).unwrap() + 1;
        let out = prepare(&p, &skel);
        out.assert_code(101, "prepare with a bad lockfile");
        let want = format!("{}`, line {line}", p.path("Cargo.lock").display());
        assert!(
            out.stderr_str().contains(&want),
            "error does not name {want}\n{}",
            out.describe()
        );
        assert!(!skel.exists(), "a refused prepare wrote {}", skel.display());
    }
}
