//! cook never destroys a user's file, removes exactly what it laid out, and a stub can never
//! pass for a real program.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::*;

fn app() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"safe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"1\"\n",
        )
        .file("src/lib.rs", "pub fn v() -> u8 {\n    4\n}\n")
        .file("src/main.rs", "fn main() {\n    println!(\"safe {}\", itoa::Buffer::new().format(safe::v()));\n}\n")
        .file("src/bin/aux.rs", "fn main() {\n    println!(\"aux\");\n}\n")
        .build()
}

fn cook(builder: &Path, skel: &Path, flags: &[&str]) -> std::process::Output {
    let mut cmd = prebuild_cmd(builder);
    cmd.arg("cook").arg("--skeleton").arg(skel).args(flags);
    run(&mut cmd)
}

/// Skeleton files (relative to the tree) that exist under `dir` with other contents.
fn conflicts(skel: &Path, dir: &Path) -> Vec<String> {
    let tree = skeleton_tree(skel);
    files_under(&tree)
        .into_iter()
        .filter(|rel| {
            let theirs = dir.join(rel);
            theirs.is_file() && fs::read(&theirs).unwrap() != fs::read(tree.join(rel)).unwrap()
        })
        .collect()
}

/// `COPY . .` then cook: every real source must survive, and nothing may be written.
#[test]
fn cook_refuses_to_overwrite_real_sources() {
    let p = app();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let builder = p.sandbox().join("builder");
    copy_tree(p.root(), &builder, MtimePolicy::PreserveOlder, &[]);
    let conflicting = conflicts(&skel, &builder);
    assert!(
        !conflicting.is_empty(),
        "fixture must conflict with the skeleton"
    );
    let before = listing(&builder);

    let out = cook(&builder, &skel, &[]);
    out.assert_code(101, "cook over real sources");
    let stderr = out.stderr_str();
    assert!(stderr.contains("error:"), "no `error:`\n{}", out.describe());
    assert!(
        conflicting.iter().any(|c| stderr.contains(c.as_str())),
        "error does not name a conflicting path (any of {conflicting:?})\n{}",
        out.describe()
    );
    assert_same_tree(&before, &listing(&builder), "builder after a refused cook");
}

/// Only a locally modified manifest in the way: refused, manifest intact, nothing written.
#[test]
fn cook_refuses_to_overwrite_a_modified_manifest() {
    let p = app();
    let (skel, builder) = p.skeleton_and_builder();
    let manifest = format!("{}\n# my local edit\n", p.read("Cargo.toml"));
    fs::write(builder.join("Cargo.toml"), &manifest).unwrap();
    let before = listing(&builder);

    let out = cook(&builder, &skel, &[]);
    out.assert_code(101, "cook over a modified Cargo.toml");
    assert!(
        out.stderr_str().contains("error:"),
        "no `error:`\n{}",
        out.describe()
    );
    assert!(
        out.stderr_str().contains("Cargo.toml"),
        "error does not name Cargo.toml\n{}",
        out.describe()
    );
    assert_eq!(
        fs::read_to_string(builder.join("Cargo.toml")).unwrap(),
        manifest
    );
    assert_same_tree(&before, &listing(&builder), "builder after a refused cook");
}

/// Files cook did not create stay exactly as they were; everything it laid out is gone.
#[test]
fn cook_removes_exactly_what_it_laid_out() {
    let p = app();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let builder = p.sandbox().join("builder");
    fs::create_dir_all(builder.join("keep")).unwrap();
    fs::write(builder.join("notes.txt"), "mine\n").unwrap();
    fs::write(builder.join("keep/data.txt"), "also mine\n").unwrap();
    let before = listing(&builder);

    cook(&builder, &skel, &[]).assert_ok("cook");
    let mut after = listing(&builder);
    after.retain(|path, _| path != "target" && !path.starts_with("target/"));
    assert_same_tree(&before, &after, "builder after cook, outside target/");
    assert!(
        builder.join("target").is_dir(),
        "cook built nothing into target/"
    );
}

fn assert_is_stub(key: &str, exe: &Path) {
    let out = run(&mut std::process::Command::new(exe));
    let said = format!("{}{}", out.stdout_str(), out.stderr_str());
    assert!(
        said.contains(STUB_SAYS),
        "stub {key} does not say it is a stub\n{}",
        out.describe()
    );
    assert!(
        !out.status.success(),
        "stub {key} exits 0\n{}",
        out.describe()
    );
}

/// Building the skeleton's own tree gives only stubs, and each one says so and fails.
#[test]
fn stub_binaries_identify_themselves_and_fail() {
    let p = app();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let tree = p.sandbox().join("stub-build");
    extract_tree(&skel, &tree);
    let out = cargo(&tree, ["build", "--offline", "--message-format", "json"]);
    out.assert_ok("cargo build of the skeleton tree");
    let exes = BuildReport::parse(&out.stdout).executables();
    // Stubs may carry reserved target names: any bin is fine, but there must be one.
    assert!(
        exes.keys().any(|k| k.starts_with("bin:")),
        "no stub bin built: {exes:?}"
    );
    for (key, exe) in &exes {
        assert_is_stub(key, exe);
    }
}

/// Cook leaves no binary in target/ (it removes every stub artifact), and one it would leave
/// is a stub that says so. (Until this checked that the list is empty, a cook that left none
/// passed without checking anything.)
#[test]
fn cook_leaves_no_binary_and_any_left_says_it_is_a_stub() {
    let p = app();
    let (skel, builder) = p.skeleton_and_builder();
    cook(&builder, &skel, &[]).assert_ok("cook");
    let mut left = Vec::new();
    for dir in ["target/debug", "target/debug/deps"] {
        for entry in fs::read_dir(builder.join(dir)).unwrap() {
            let exe = entry.unwrap().path();
            let executable =
                exe.is_file() && exe.metadata().unwrap().permissions().mode() & 0o111 != 0;
            if executable {
                assert_is_stub(&exe.display().to_string(), &exe);
                left.push(exe.display().to_string());
            }
        }
    }
    assert!(left.is_empty(), "cook left stub binaries: {left:#?}");
}

/// A cook killed half-way leaves its own files; the next cook accepts files identical to the
/// skeleton's instead of refusing.
#[test]
fn cook_accepts_identical_leftovers() {
    let p = app();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let builder = p.sandbox().join("builder");
    extract_tree(&skel, &builder);
    cook(&builder, &skel, &[]).assert_ok("cook over identical leftovers");
    assert!(
        builder.join("target").is_dir(),
        "cook built nothing into target/"
    );
}

/// An executable script standing in for cargo (cook runs `$CARGO`).
fn fake_cargo(dir: &Path, body: &str) -> std::path::PathBuf {
    let path = dir.join("fake-cargo");
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A cook killed outright (SIGKILL: no cleanup possible) leaves its files and a journal; the
/// next cook in the directory removes exactly those, never a file the user had there.
#[test]
fn the_next_cook_removes_what_a_killed_cook_left() {
    let p = app();
    let (skel, builder) = p.skeleton_and_builder();
    // The user's own file, identical to one the skeleton lays out: cook never wrote it.
    fs::write(
        builder.join("Cargo.lock"),
        skeleton_file(&skel, "Cargo.lock"),
    )
    .unwrap();
    fs::write(builder.join("notes.txt"), "mine\n").unwrap();
    let before = listing(&builder);

    let killer = fake_cargo(p.sandbox(), "kill -KILL $PPID\nsleep 1");
    let mut cmd = prebuild_cmd(&builder);
    cmd.env("CARGO", &killer)
        .args(["cook", "--skeleton"])
        .arg(&skel);
    let killed = run(&mut cmd);
    assert!(
        !killed.status.success(),
        "cook survived SIGKILL?\n{}",
        killed.describe()
    );
    assert!(
        builder.join(".cargo-prebuild-cook-journal.json").is_file()
            && builder.join("Cargo.toml").is_file(),
        "the killed cook left no journal or no files"
    );

    let out = cook(&builder, &skel, &[]);
    out.assert_ok("cook after a killed cook");
    assert!(
        out.stderr_str().contains("an interrupted cook left"),
        "no recovery reported\n{}",
        out.describe()
    );
    let mut after = listing(&builder);
    after.retain(|path, _| path != "target" && !path.starts_with("target/"));
    assert_same_tree(
        &before,
        &after,
        "builder after a killed cook and a good one",
    );
}

/// Ctrl-C reaches cargo and cook alike: cook waits for cargo, removes what it laid out and
/// exits 130, as an interrupted command does.
#[test]
fn ctrl_c_during_cook_removes_what_it_laid_out() {
    let p = app();
    let (skel, builder) = p.skeleton_and_builder();
    fs::write(builder.join("notes.txt"), "mine\n").unwrap();
    let before = listing(&builder);

    // As a terminal's Ctrl-C does: SIGINT to cook, and cargo exits on it.
    let interrupt = fake_cargo(p.sandbox(), "kill -INT $PPID\nexit 130");
    let mut cmd = prebuild_cmd(&builder);
    cmd.env("CARGO", &interrupt)
        .args(["cook", "--skeleton"])
        .arg(&skel);
    let out = run(&mut cmd);
    out.assert_code(130, "interrupted cook");
    assert!(
        out.stderr_str().contains("cook interrupted"),
        "{}",
        out.describe()
    );
    assert_same_tree(
        &before,
        &listing(&builder),
        "builder after an interrupted cook",
    );
}

/// `--no-build` lays the skeleton out and leaves it for a command of the user's own; a later
/// cook in the directory takes those files back.
#[test]
fn no_build_leaves_the_skeleton_for_a_later_cook_to_take_back() {
    let p = app();
    let (skel, builder) = p.skeleton_and_builder();
    cook(&builder, &skel, &["--no-build"]).assert_ok("cook --no-build");
    let tree = skeleton_tree(&skel);
    for rel in files_under(&tree) {
        assert_eq!(
            fs::read(builder.join(&rel)).ok(),
            fs::read(tree.join(&rel)).ok(),
            "{rel} is not laid out as in the skeleton"
        );
    }
    assert!(
        !builder.join("target").exists(),
        "--no-build built something"
    );
    // The user's own command on the laid-out skeleton.
    cargo(&builder, ["build", "--quiet"]).assert_ok("cargo build on the laid-out skeleton");

    cook(&builder, &skel, &[]).assert_ok("cook after --no-build");
    assert_eq!(
        top_level(&builder),
        ["target".to_string()].into(),
        "a later cook left skeleton files behind"
    );
}
