//! Issue 4 and 8: per-image skeletons, diff, skeleton digest; seeded cook; `build
//! --rebuild-local`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

fn pkg(name: &str, extra: &str) -> String {
    format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{extra}")
}

/// `prepare --skeleton <name> <args>` in the planner; returns (digest, skeleton dir).
fn prepare(p: &Project, name: &str, args: &[&str]) -> (String, PathBuf) {
    let skel = p.sandbox().join(name);
    let mut all = vec!["prepare", "--skeleton", skel.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = prebuild(p.root(), &all);
    out.assert_ok(&format!("prepare {args:?}"));
    (parse_digest(&out.stdout_str()), skel)
}

/// `cook --skeleton <skel> <args>` in a new empty builder `<sandbox>/<name>/app`.
fn cook_in(p: &Project, skel: &Path, name: &str, args: &[&str]) -> (PathBuf, Output) {
    let builder = p.sandbox().join(name).join("app");
    fs::create_dir_all(&builder).unwrap();
    let mut all = vec!["cook", "--skeleton", skel.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = prebuild(&builder, &all);
    out.assert_ok(&format!("cook {args:?}"));
    (builder, out)
}

/// Locked packages of a lockfile as `name version`.
fn locked(lock: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = ") {
            if let Some(n) = name.take() {
                out.insert(format!("{n} {}", v.trim_matches('"')));
            }
        }
    }
    out
}

fn locked_version(lock: &str, name: &str) -> String {
    locked(lock)
        .into_iter()
        .find_map(|e| e.strip_prefix(&format!("{name} ")).map(str::to_string))
        .unwrap_or_else(|| panic!("{name} not locked:\n{lock}"))
}

fn names(ids: &BTreeSet<String>) -> BTreeSet<String> {
    ids.iter().map(|id| package_name(id)).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// Per-image skeletons

/// Members a (bin a, on local `common`), b (bin b, with an optional dependency only its own
/// feature enables), common.
fn three_members() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"a\", \"b\", \"common\"]\nresolver = \"2\"\n",
        )
        .file(
            "a/Cargo.toml",
            &pkg(
                "a",
                "\n[dependencies]\ncommon = { path = \"../common\" }\nitoa = \"1\"\n",
            ),
        )
        .file(
            "a/src/main.rs",
            "fn main() {\n    println!(\"a {} {}\", common::name(), itoa::Buffer::new().format(7));\n}\n",
        )
        .file(
            "b/Cargo.toml",
            &pkg(
                "b",
                "\n[features]\nfancy = [\"dep:either\"]\n\n[dependencies]\nsmallvec = \"1\"\neither = { version = \"1\", optional = true }\n",
            ),
        )
        .file(
            "b/src/main.rs",
            "fn main() {\n    println!(\"b {}\", smallvec::SmallVec::<[u8; 1]>::new().len());\n}\n",
        )
        .file(
            "common/Cargo.toml",
            &pkg("common", "\n[dependencies]\ncfg-if = \"1\"\n"),
        )
        .file(
            "common/src/lib.rs",
            "pub fn name() -> &'static str {\n    cfg_if::cfg_if! {\n        if #[cfg(unix)] { \"unix\" } else { \"other\" }\n    }\n}\n",
        )
        .build()
}

#[test]
fn per_image_skeleton_prunes_other_members_and_cooks_locked() {
    let p = three_members();
    let full_lock = p.read("Cargo.lock");
    assert!(
        full_lock.contains("name = \"either\"") && full_lock.contains("name = \"smallvec\""),
        "fixture: the full lockfile holds b's dependencies\n{full_lock}"
    );
    let (bin_digest, skel) = prepare(&p, "skel-bin-a", &["--bin", "a"]);
    let (pkg_digest, skel_p) = prepare(&p, "skel-p-a", &["-p", "a"]);
    assert_eq!(
        bin_digest, pkg_digest,
        "`--bin a` and `-p a` select the same"
    );
    assert_same_tree(&listing(&skel), &listing(&skel_p), "--bin a vs -p a");

    let files = skeleton_files(&skel);
    assert!(
        !files.iter().any(|f| f.starts_with("b/")),
        "b kept: {files:?}"
    );
    assert!(files.contains("a/Cargo.toml") && files.contains("common/Cargo.toml"));
    let lock = skeleton_file(&skel, "Cargo.lock");
    let pkgs: BTreeSet<String> = locked(&lock)
        .into_iter()
        .map(|e| e.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(
        pkgs,
        set(&["a", "cfg-if", "common", "itoa"]),
        "pruned lockfile (b, smallvec and b's optional either gone)\n{lock}"
    );
    let root = skeleton_file(&skel, "Cargo.toml");
    assert!(
        !root.contains("\"b\""),
        "root manifest still names b:\n{root}"
    );

    // The digest prepare prints is the skeleton's own.
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(skel.join("cargo-prebuild.json")).unwrap()).unwrap();
    assert_eq!(index["digest"], bin_digest.as_str(), "index digest");

    let (builder, _) = cook_in(&p, &skel, "builder", &["--locked", "-p", "a"]);
    copy_tree(p.root(), &builder, MtimePolicy::PreserveOlder, &["target"]);
    let out = cargo(
        &builder,
        ["build", "--locked", "-p", "a", "--message-format", "json"],
    );
    out.assert_ok("real build --locked -p a");
    let report = BuildReport::parse(&out.stdout);
    assert!(
        report.external_compiled().is_empty(),
        "external recompiled after a per-image cook: {:?}\n{}",
        report.external_compiled(),
        out.stderr_str()
    );
    assert_eq!(report.local_compiled(), set(&["a", "common"]));
    assert_eq!(names(&report.external_fresh()), set(&["cfg-if", "itoa"]));
    let exe = report.executables()["bin:a"].clone();
    let ran = run(&mut Command::new(exe));
    ran.assert_ok("running a");
    assert_eq!(ran.stdout_str().trim_end(), "a unix 7");

    // Built as cooked: `build --deny-rebuild --verify` has nothing to say.
    let out = prebuild(
        &builder,
        ["build", "--locked", "-p", "a", "--deny-rebuild", "--verify"],
    );
    out.assert_ok("build -p a --deny-rebuild --verify");
    assert!(
        !out.stderr_str().contains("warning:") && out.stderr_str().contains("Verified"),
        "{}",
        out.describe()
    );
}

#[test]
fn per_image_skeleton_key_ignores_unrelated_members() {
    let p = three_members();
    let (d0, s0) = prepare(&p, "skel-0", &["--bin", "a"]);
    let (w0, _) = prepare(&p, "skel-w0", &[]);

    // A new dependency of b (lockfile regenerated): a's skeleton is unchanged.
    p.edit(
        "b/Cargo.toml",
        "smallvec = \"1\"\n",
        "smallvec = \"1\"\nstatic_assertions = \"1\"\n",
    );
    p.generate_lockfile();
    assert!(p
        .read("Cargo.lock")
        .contains("name = \"static_assertions\""));
    let (d1, s1) = prepare(&p, "skel-1", &["--bin", "a"]);
    let (w1, _) = prepare(&p, "skel-w1", &[]);
    assert_ne!(w0, w1, "the whole-workspace skeleton must change");
    assert_same_tree(
        &listing(&s0),
        &listing(&s1),
        "`--bin a` skeleton after editing b",
    );
    assert_eq!(d0, d1, "`--bin a` digest changed by a dependency of b");

    // b's own optional dependency feature flipped on by b: still unchanged for a.
    p.edit(
        "b/Cargo.toml",
        "fancy = [\"dep:either\"]",
        "default = [\"fancy\"]\nfancy = [\"dep:either\"]",
    );
    let (d2, _) = prepare(&p, "skel-2", &["--bin", "a"]);
    assert_eq!(d0, d2, "`--bin a` digest changed by b's features");

    // A new dependency of common, which a reaches: the skeleton changes.
    p.edit(
        "common/Cargo.toml",
        "cfg-if = \"1\"\n",
        "cfg-if = \"1\"\neither = \"1\"\n",
    );
    p.cargo(&["update", "-w"]).assert_ok("cargo update -w");
    let (d3, s3) = prepare(&p, "skel-3", &["--bin", "a"]);
    assert_ne!(
        d0, d3,
        "`--bin a` digest unchanged by a dependency of common"
    );
    let lock = skeleton_file(&s3, "Cargo.lock");
    assert!(lock.contains("name = \"either\""), "{lock}");
    let out = prebuild(p.root(), ["diff".as_ref(), s0.as_os_str(), s3.as_os_str()]);
    out.assert_code(1, "diff of differing skeletons");
    assert!(
        out.stdout_str().contains("either"),
        "diff does not name the new dependency\n{}",
        out.describe()
    );
}

// ---------------------------------------------------------------------------------------------
// diff

fn diff_base() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/api\", \"crates/core\"]\nresolver = \"2\"\n\n[profile.release]\nopt-level = 3\n",
        )
        .file(
            "crates/api/Cargo.toml",
            &pkg(
                "api",
                "\n[dependencies]\ncore-x = { path = \"../core\", package = \"corex\" }\nsmallvec = \"1\"\n",
            ),
        )
        .file("crates/api/src/lib.rs", "pub fn api() {}\n")
        .file(
            "crates/core/Cargo.toml",
            &pkg("corex", "\n[dependencies]\nitoa = \"1\"\n"),
        )
        .file("crates/core/src/lib.rs", "pub fn core() {}\n")
        .build()
}

/// `diff OLD NEW`, asserting its exit status: 0 when the skeletons are the same, 1 when they
/// differ (as `diff` and `git diff --exit-code`).
fn diff(p: &Project, old: &Path, new: &Path, json: bool) -> Output {
    let mut cmd = prebuild_cmd(p.sandbox());
    cmd.arg("diff").arg(old).arg(new);
    if json {
        cmd.args(["--format", "json"]);
    }
    let out = run(&mut cmd);
    let digest = |dir: &Path| -> Option<String> {
        let index = fs::read(dir.join("cargo-prebuild.json")).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&index).ok()?;
        v["digest"].as_str().map(str::to_string)
    };
    let same = match (digest(old), digest(new)) {
        (Some(a), Some(b)) => a == b,
        // A workspace side: judged by what diff printed.
        _ => out.stdout_str().contains("identical") || out.stdout_str().contains("\"same\":true"),
    };
    out.assert_code(if same { 0 } else { 1 }, "diff");
    out
}

fn diff_json(p: &Project, old: &Path, new: &Path) -> serde_json::Value {
    let out = diff(p, old, new, true);
    serde_json::from_str(out.stdout_str().trim()).unwrap_or_else(|e| {
        panic!(
            "diff --format json is not one JSON value: {e}\n{}",
            out.describe()
        )
    })
}

/// Prepares before and after `edit`; asserts the human diff names `phrase` and the JSON one
/// agrees (not the same, a change with that message, both digests).
fn assert_diff_names(what: &str, edit: impl FnOnce(&Project) -> String) {
    let p = diff_base();
    let (d0, s0) = prepare(&p, "before", &[]);
    let phrase = edit(&p);
    let (d1, s1) = prepare(&p, "after", &[]);
    assert_ne!(d0, d1, "{what}: skeleton unchanged");
    let human = diff(&p, &s0, &s1, false);
    assert!(
        human.stdout_str().contains(&phrase),
        "{what}: human diff does not say {phrase:?}\n{}",
        human.describe()
    );
    let json = diff_json(&p, &s0, &s1);
    assert_eq!(json["same"], false, "{what}: {json:#}");
    assert_eq!(json["old"], d0.as_str(), "{what}: {json:#}");
    assert_eq!(json["new"], d1.as_str(), "{what}: {json:#}");
    let changes = json["changes"].as_array().expect("changes is an array");
    assert!(
        changes
            .iter()
            .any(|c| c["message"].as_str().is_some_and(|m| m.contains(&phrase))),
        "{what}: no JSON change says {phrase:?}: {json:#}"
    );
    // A workspace directory on either side works like its skeleton.
    let from_ws = diff(&p, &s0, p.root(), false);
    assert!(
        from_ws.stdout_str().contains(&phrase),
        "{what}: skeleton -> workspace diff does not say {phrase:?}\n{}",
        from_ws.describe()
    );
}

#[test]
fn diff_names_a_lockfile_bump() {
    assert_diff_names("itoa bump", |p| {
        let old = locked_version(&p.read("Cargo.lock"), "itoa");
        let older = if old == "1.0.10" { "1.0.9" } else { "1.0.10" };
        p.cargo(&["update", "-p", "itoa", "--precise", older])
            .assert_ok("cargo update --precise");
        format!("itoa {old} -> {older}")
    });
}

#[test]
fn diff_names_an_added_dependency_feature() {
    assert_diff_names("feature added", |p| {
        p.edit(
            "crates/api/Cargo.toml",
            "smallvec = \"1\"",
            "smallvec = { version = \"1\", features = [\"union\"] }",
        );
        "feature `union` added to smallvec in crates/api".to_string()
    });
}

#[test]
fn diff_names_a_profile_change() {
    assert_diff_names("profile change", |p| {
        p.edit(
            "Cargo.toml",
            "opt-level = 3\n",
            "opt-level = 3\nlto = true\n",
        );
        "profile.release.lto".to_string()
    });
}

#[test]
fn diff_names_a_new_member() {
    assert_diff_names("new member", |p| {
        p.edit(
            "Cargo.toml",
            "\"crates/core\"]",
            "\"crates/core\", \"crates/extra\"]",
        );
        p.write("crates/extra/Cargo.toml", &pkg("extra", ""));
        p.write("crates/extra/src/lib.rs", "");
        p.generate_lockfile();
        "new package crates/extra".to_string()
    });
}

#[test]
fn diff_of_identical_skeletons_and_of_a_skeleton_and_its_workspace() {
    let p = diff_base();
    let (d0, s0) = prepare(&p, "one", &[]);
    // Unrelated edits: a source file and a description.
    p.edit(
        "crates/api/src/lib.rs",
        "pub fn api() {}",
        "pub fn api() { let _ = 1; }",
    );
    p.edit(
        "crates/core/Cargo.toml",
        "edition = \"2021\"\n",
        "edition = \"2021\"\ndescription = \"core\"\n",
    );
    let (d1, s1) = prepare(&p, "two", &[]);
    assert_eq!(d0, d1);
    for (old, new) in [(&s0, &s1), (&s0, &p.root().to_path_buf())] {
        let human = diff(&p, old, new, false);
        let text = human.stdout_str();
        assert!(
            text.contains("identical") && text.contains(&d0),
            "identical skeletons not said so\n{}",
            human.describe()
        );
        let json = diff_json(&p, old, new);
        assert_eq!(json["same"], true, "{json:#}");
        assert_eq!(json["changes"], serde_json::json!([]), "{json:#}");
        assert_eq!(json["old"], d0.as_str());
        assert_eq!(json["new"], d0.as_str());
    }
}

#[test]
fn prepare_prints_the_digest_of_the_index() {
    let p = diff_base();
    for (name, args) in [("whole", &[][..]), ("api", &["-p", "api"][..])] {
        let (digest, skel) = prepare(&p, name, args);
        let index: serde_json::Value =
            serde_json::from_slice(&fs::read(skel.join("cargo-prebuild.json")).unwrap()).unwrap();
        assert_eq!(index["digest"], digest.as_str(), "{name}: {index:#}");
    }
}

// ---------------------------------------------------------------------------------------------
// Seeded cook

fn seed_fixture() -> Project {
    project()
        .file(
            "Cargo.toml",
            &pkg(
                "app",
                "\n[dependencies]\nitoa = \"1\"\nsmallvec = \"1\"\neither = \"1\"\ncfg-if = \"1\"\n",
            ),
        )
        .file(
            "src/main.rs",
            r#"fn main() {
    let v: smallvec::SmallVec<[u32; 4]> = (1..=3).collect();
    let e: either::Either<u32, u32> = either::Either::Left(v.iter().sum());
    let mut buf = itoa::Buffer::new();
    cfg_if::cfg_if! {
        if #[cfg(unix)] { let os = "unix"; } else { let os = "other"; }
    }
    println!("app {} {}", buf.format(e.either(|x| x, |x| x)), os);
}
"#,
        )
        .build()
}

/// Unit hashes of a crate's entries in `<target>/<profile>/{deps,.fingerprint,build}`
/// (`libitoa-<hash>.rlib`, `aho-corasick-<hash>/`, ...).
fn unit_hashes(target: &Path, profile: &str, krate: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for sub in ["deps", ".fingerprint", "build"] {
        let Ok(entries) = fs::read_dir(target.join(profile).join(sub)) else {
            continue;
        };
        for e in entries {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let stem = name.split('.').next().unwrap();
            let stem = stem.strip_prefix("lib").unwrap_or(stem);
            for spelling in [krate.to_string(), krate.replace('-', "_")] {
                if let Some(hash) = stem.strip_prefix(&format!("{spelling}-")) {
                    if hash.len() == 16 {
                        out.insert(hash.to_string());
                    }
                }
            }
        }
    }
    out
}

/// A version of `krate` other than the locked one, for `cargo update --precise`.
fn other_version(p: &Project, krate: &str, candidates: [&str; 2]) -> (String, String) {
    let old = locked_version(&p.read("Cargo.lock"), krate);
    let new = if old == candidates[0] {
        candidates[1]
    } else {
        candidates[0]
    };
    (old, new.to_string())
}

struct Bump<'a> {
    flags: &'a [&'a str],
    profile: &'a str,
    krate: &'a str,
    versions: [&'a str; 2],
    /// The bumped crate and its reverse dependencies: all a seeded cook may compile.
    recompiled: &'a [&'a str],
    reused: &'a [&'a str],
    stdout: &'a str,
}

/// The seed fixture's itoa bump (1.0.10 -> 1.0.9), cooked with `flags` into `profile`: only
/// itoa recompiles.
fn itoa_bump<'a>(flags: &'a [&'a str], profile: &'a str) -> Bump<'a> {
    Bump {
        flags,
        profile,
        krate: "itoa",
        versions: ["1.0.10", "1.0.9"],
        recompiled: &["itoa"],
        reused: &["cfg-if", "either", "smallvec"],
        stdout: "app 6 unix",
    }
}

/// Cook W1, keep its target as the seed, bump one crate in the lockfile, prepare again and
/// cook in a new empty builder from the seed: only the bump and its dependents compile, their
/// old units are pruned, and the real build compiles no external package.
fn seeded_bump(p: &Project, b: Bump<'_>) {
    let (_, skel1) = prepare(p, "skel-1", &[]);
    let mut args = vec!["--message-format", "json"];
    args.extend_from_slice(b.flags);
    let (builder1, cook1) = cook_in(p, &skel1, "builder-1", &args);
    let cold = BuildReport::parse(&cook1.stdout);
    let all: BTreeSet<String> = set(b.recompiled).union(&set(b.reused)).cloned().collect();
    assert_eq!(
        names(&cold.external_compiled()),
        all,
        "cold cook\n{}",
        cook1.describe()
    );
    let seed = p.sandbox().join("seed");
    cp_a(&builder1.join("target"), &seed);
    let old_units: Vec<(String, BTreeSet<String>)> = b
        .recompiled
        .iter()
        .map(|k| (k.to_string(), unit_hashes(&seed, b.profile, k)))
        .collect();
    for (k, units) in &old_units {
        assert!(!units.is_empty(), "no {k} units in the seed");
    }

    let (old, new) = other_version(p, b.krate, b.versions);
    p.cargo(&["update", "-p", b.krate, "--precise", &new])
        .assert_ok("cargo update --precise");
    let (_, skel2) = prepare(p, "skel-2", &[]);

    let mut args = vec!["--seed", seed.to_str().unwrap(), "--message-format", "json"];
    args.extend_from_slice(b.flags);
    let (builder2, cook2) = cook_in(p, &skel2, "builder-2", &args);
    let what = format!("seeded cook after {} {old} -> {new}", b.krate);
    let warm = BuildReport::parse(&cook2.stdout);
    let ids: Vec<(String, String)> = warm
        .artifacts
        .iter()
        .filter(|a| !a.local)
        .map(|a| (a.package_id.clone(), a.key()))
        .collect();
    assert_eq!(
        ids.len(),
        ids.iter().collect::<BTreeSet<_>>().len(),
        "{what}: cook printed an artifact twice (its own pruning run leaked to stdout?)\n{}",
        cook2.describe()
    );
    assert_eq!(
        names(&warm.external_compiled()),
        set(b.recompiled),
        "{what}: compiled more than the bump and its dependents\n{}",
        cook2.describe()
    );
    assert_eq!(
        names(&warm.external_fresh()),
        set(b.reused),
        "{what}: did not reuse the unchanged crates\n{}",
        cook2.describe()
    );
    assert!(
        warm.local_compiled().is_subset(&set(&["app"])),
        "{what}: only local stubs besides: {:?}",
        warm.local_compiled()
    );
    assert!(
        !cook2.stderr_str().contains("cold cook"),
        "{what}\n{}",
        cook2.describe()
    );
    let target2 = builder2.join("target");
    let deps: Vec<String> = fs::read_dir(target2.join(b.profile).join("deps"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for (k, units) in &old_units {
        let now = unit_hashes(&target2, b.profile, k);
        assert!(!now.is_empty(), "{what}: no {k} units");
        let stale: BTreeSet<_> = units.intersection(&now).collect();
        assert!(
            stale.is_empty(),
            "{what}: old {k} units not pruned: {stale:?} (seed {units:?}, now {now:?})"
        );
        let left: Vec<&String> = deps
            .iter()
            .filter(|n| units.iter().any(|h| n.contains(h.as_str())))
            .collect();
        assert!(left.is_empty(), "{what}: old {k} artifacts left: {left:?}");
    }

    copy_tree(p.root(), &builder2, MtimePolicy::PreserveOlder, &["target"]);
    let mut args = vec!["build", "--locked", "--message-format", "json"];
    // cook's `-- ARGS` are plain cargo arguments to the real build.
    args.extend(b.flags.iter().filter(|f| **f != "--"));
    let out = cargo(&builder2, &args);
    out.assert_ok("real build after the seeded cook");
    let report = BuildReport::parse(&out.stdout);
    assert!(
        report.external_compiled().is_empty(),
        "{what}: external recompiled by the real build: {:?}",
        report.external_compiled()
    );
    assert_eq!(report.local_compiled(), set(&["app"]));
    let ran = run(&mut Command::new(target2.join(b.profile).join("app")));
    ran.assert_ok("running app");
    assert_eq!(ran.stdout_str().trim_end(), b.stdout);
}

#[test]
fn seeded_cook_recompiles_only_the_bumped_crate_and_prunes_the_old_one() {
    seeded_bump(&seed_fixture(), itoa_bump(&[], "debug"));
}

#[test]
fn seeded_cook_release() {
    seeded_bump(&seed_fixture(), itoa_bump(&["--release"], "release"));
}

/// A mid-graph bump: memchr changes, so aho-corasick (which depends on it) recompiles too,
/// and nothing else.
#[test]
fn seeded_cook_recompiles_the_reverse_dependencies_of_a_bump() {
    let p = project()
        .file(
            "Cargo.toml",
            &pkg(
                "app",
                "\n[dependencies]\naho-corasick = \"1\"\nitoa = \"1\"\n",
            ),
        )
        .file(
            "src/main.rs",
            r#"fn main() {
    let ac = aho_corasick::AhoCorasick::new(["b"]).unwrap();
    let n = ac.find_iter("abcb").count();
    println!("app {}", itoa::Buffer::new().format(n));
}
"#,
        )
        .build();
    seeded_bump(
        &p,
        Bump {
            flags: &[],
            profile: "debug",
            krate: "memchr",
            versions: ["2.8.0", "2.7.4"],
            recompiled: &["aho-corasick", "memchr"],
            reused: &["itoa"],
            stdout: "app 2",
        },
    );
}

fn assert_cold(out: &Output, what: &str) {
    let notes: Vec<&str> = out
        .stderr
        .split(|&b| b == b'\n')
        .filter_map(|l| std::str::from_utf8(l).ok())
        .filter(|l| l.starts_with("note:") && l.contains("cold cook"))
        .collect();
    assert_eq!(
        notes.len(),
        1,
        "{what}: expected one `note: ... cold cook` line\n{}",
        out.describe()
    );
    assert_eq!(
        names(&BuildReport::parse(&out.stdout).external_compiled()),
        set(&["cfg-if", "either", "itoa", "smallvec"]),
        "{what}: a cold cook compiles everything\n{}",
        out.describe()
    );
}

#[test]
fn seeded_cook_with_a_missing_seed_is_a_cold_cook() {
    let p = seed_fixture();
    let (_, skel) = prepare(&p, "skel", &[]);
    let missing = p.sandbox().join("no-such-seed");
    let (builder, out) = cook_in(
        &p,
        &skel,
        "builder",
        &[
            "--seed",
            missing.to_str().unwrap(),
            "--message-format",
            "json",
        ],
    );
    assert_cold(&out, "missing seed");
    assert!(builder.join("target/cargo-prebuild-cook.json").is_file());
}

#[test]
fn seeded_cook_with_a_seed_from_another_toolchain_is_a_cold_cook() {
    let p = seed_fixture();
    let (_, skel) = prepare(&p, "skel", &[]);
    let (builder1, _) = cook_in(&p, &skel, "builder-1", &[]);
    let seed = p.sandbox().join("seed");
    cp_a(&builder1.join("target"), &seed);
    let record_path = seed.join("cargo-prebuild-cook.json");
    let mut record: serde_json::Value =
        serde_json::from_slice(&fs::read(&record_path).unwrap()).unwrap();
    let rustc = record["rustc"].as_str().unwrap().to_string();
    record["rustc"] = rustc.replacen("rustc 1.", "rustc 0.", 1).into();
    fs::write(&record_path, serde_json::to_vec_pretty(&record).unwrap()).unwrap();

    let (_, out) = cook_in(
        &p,
        &skel,
        "builder-2",
        &["--seed", seed.to_str().unwrap(), "--message-format", "json"],
    );
    assert_cold(&out, "seed from another toolchain");

    // A seed without a cook record (not a cook's target dir): cold too.
    let seed = p.sandbox().join("seed-2");
    cp_a(&builder1.join("target"), &seed);
    fs::remove_file(seed.join("cargo-prebuild-cook.json")).unwrap();
    let (_, out) = cook_in(
        &p,
        &skel,
        "builder-3",
        &["--seed", seed.to_str().unwrap(), "--message-format", "json"],
    );
    assert_cold(&out, "seed without a record");
}

// ---------------------------------------------------------------------------------------------
// build --rebuild-local

fn local_fixture() -> Project {
    project()
        .file(
            "Cargo.toml",
            &pkg(
                "app",
                "\n[workspace]\nmembers = [\"greet\"]\n\n[dependencies]\ngreet = { path = \"greet\" }\nitoa = \"1\"\n",
            ),
        )
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"{} {}\", greet::greeting(), itoa::Buffer::new().format(1));\n}\n",
        )
        .file("greet/Cargo.toml", &pkg("greet", "\n[dependencies]\ncfg-if = \"1\"\n"))
        .file(
            "greet/src/lib.rs",
            "pub fn greeting() -> &'static str {\n    \"version one\"\n}\n",
        )
        .build()
}

/// After a real build, another version of the local sources arrives with older mtimes (a
/// shared target dir, another branch): plain cargo keeps the stale local artifacts, `build
/// --rebuild-local` rebuilds them and nothing external.
fn rebuild_local(flags: &[&str], out_dir: &str) {
    let p = local_fixture();
    let with = |args: &[&'static str]| -> Vec<String> {
        args.iter()
            .map(|s| s.to_string())
            .chain(flags.iter().map(|s| s.to_string()))
            .collect()
    };
    let (_, skel) = prepare(&p, "skel", &[]);
    let (builder, _) = cook_in(&p, &skel, "builder", flags);
    copy_tree(p.root(), &builder, MtimePolicy::Now, &["target"]);
    cargo(&builder, with(&["build"])).assert_ok("first real build");
    let exe = builder.join(out_dir).join("app");
    let ran = run(&mut Command::new(&exe));
    assert_eq!(ran.stdout_str().trim_end(), "version one 1");

    // Another version of the local sources, stamped older than the artifacts (2020-04-16).
    p.edit("greet/src/lib.rs", "version one", "version two");
    p.edit("src/main.rs", "{} {}", "{} / {}");
    copy_tree(p.root(), &builder, MtimePolicy::Earthly, &["target"]);

    // Negative control, in place (same paths), then the builder is restored: plain cargo
    // keeps the stale local artifacts.
    let backup = p.sandbox().join("backup");
    cp_a(&builder, &backup);
    let out = cargo(&builder, with(&["build", "--message-format", "json"]));
    out.assert_ok("control build");
    let report = BuildReport::parse(&out.stdout);
    assert!(
        report.local_compiled().is_empty(),
        "control: cargo rebuilt the local crates from older sources, so the scenario proves \
         nothing: {:?}",
        report.local_compiled()
    );
    let ran = run(&mut Command::new(&exe));
    assert_eq!(
        ran.stdout_str().trim_end(),
        "version one 1",
        "control: the stale binary"
    );
    rm_rf(&builder);
    cp_a(&backup, &builder);

    let out = prebuild(
        &builder,
        with(&["build", "--rebuild-local", "--message-format", "json"]),
    );
    out.assert_ok("build --rebuild-local");
    let report = BuildReport::parse(&out.stdout);
    assert_eq!(
        report.local_compiled(),
        set(&["app", "greet"]),
        "local crates rebuilt\n{}",
        out.describe()
    );
    assert!(
        report.external_compiled().is_empty(),
        "--rebuild-local recompiled external packages: {:?}",
        report.external_compiled()
    );
    let ran = run(&mut Command::new(&exe));
    ran.assert_ok("running app");
    assert_eq!(ran.stdout_str().trim_end(), "version two / 1");

    // And the rebuilt output verifies.
    prebuild(&builder, with(&["verify"])).assert_ok("verify after --rebuild-local");
}

#[test]
fn rebuild_local_rebuilds_local_crates_from_older_sources() {
    rebuild_local(&[], "target/debug");
}

#[test]
fn rebuild_local_release_for_a_target() {
    let host = host_triple();
    let flags = ["--release", "--target", host.as_str()];
    rebuild_local(&flags, &format!("target/{host}/release"));
}

/// A bumped crate with a build script: its build-script units (`build/anyhow-<hash>`) are
/// pruned with the rest, and the reused crates' build outputs stay usable.
#[test]
fn seeded_cook_prunes_the_build_script_units_of_a_bump() {
    let p = project()
        .file(
            "Cargo.toml",
            &pkg("app", "\n[dependencies]\nanyhow = \"1\"\nitoa = \"1\"\n"),
        )
        .file(
            "src/main.rs",
            r#"fn main() -> anyhow::Result<()> {
    let n: u32 = "6".parse()?;
    println!("app {}", itoa::Buffer::new().format(n));
    Ok(())
}
"#,
        )
        .build();
    seeded_bump(
        &p,
        Bump {
            flags: &[],
            profile: "debug",
            krate: "anyhow",
            versions: ["1.0.102", "1.0.100"],
            recompiled: &["anyhow"],
            reused: &["itoa"],
            stdout: "app 6",
        },
    );
}

/// A removed dependency: nothing compiles, and its units are pruned from the layer.
#[test]
fn seeded_cook_prunes_a_removed_dependency() {
    let p = seed_fixture();
    let (_, skel1) = prepare(&p, "skel-1", &[]);
    let (builder1, _) = cook_in(&p, &skel1, "builder-1", &[]);
    let seed = p.sandbox().join("seed");
    cp_a(&builder1.join("target"), &seed);
    let either = unit_hashes(&seed, "debug", "either");
    assert!(!either.is_empty());

    p.edit("Cargo.toml", "either = \"1\"\n", "");
    p.write(
        "src/main.rs",
        "fn main() {\n    println!(\"{}\", itoa::Buffer::new().format(smallvec::SmallVec::<[u8; 2]>::new().len()));\n}\n",
    );
    p.generate_lockfile();
    let (_, skel2) = prepare(&p, "skel-2", &[]);
    let (builder2, out) = cook_in(
        &p,
        &skel2,
        "builder-2",
        &["--seed", seed.to_str().unwrap(), "--message-format", "json"],
    );
    let report = BuildReport::parse(&out.stdout);
    assert!(
        report.external_compiled().is_empty(),
        "{:?}\n{}",
        report.external_compiled(),
        out.describe()
    );
    let target = builder2.join("target");
    assert!(
        unit_hashes(&target, "debug", "either").is_empty(),
        "the removed dependency's units stay in the layer: {:?}",
        unit_hashes(&target, "debug", "either")
    );
    assert!(!unit_hashes(&target, "debug", "itoa").is_empty());
}

/// `--rebuild-local` cleans the local `itoa`, not the registry `itoa` another member uses:
/// that is an external package, and cleaning it recompiles it.
#[test]
fn rebuild_local_keeps_a_registry_crate_named_like_a_local_one() {
    let p = project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"app\", \"itoa\"]\nresolver = \"2\"\n",
        )
        .file("itoa/Cargo.toml", &pkg("itoa", "").replace("0.1.0", "0.5.0"))
        .file(
            "itoa/src/lib.rs",
            "pub fn local() -> &'static str {\n    \"local itoa\"\n}\n",
        )
        .file(
            "app/Cargo.toml",
            &pkg(
                "app",
                "\n[dependencies]\nitoa = { path = \"../itoa\" }\nreal-itoa = { package = \"itoa\", version = \"1\" }\n",
            ),
        )
        .file(
            "app/src/main.rs",
            "fn main() {\n    println!(\"{} and {}\", itoa::local(), real_itoa::Buffer::new().format(1));\n}\n",
        )
        .build();
    let (_, skel) = prepare(&p, "skel", &[]);
    let (builder, _) = cook_in(&p, &skel, "builder", &[]);
    copy_tree(p.root(), &builder, MtimePolicy::PreserveOlder, &["target"]);
    cargo(&builder, ["build"]).assert_ok("first real build");

    let out = prebuild(
        &builder,
        ["build", "--rebuild-local", "--message-format", "json"],
    );
    out.assert_ok("build --rebuild-local");
    let report = BuildReport::parse(&out.stdout);
    assert_eq!(report.local_compiled(), set(&["app", "itoa"]));
    assert!(
        report.external_compiled().is_empty(),
        "--rebuild-local recompiled external packages: {:?}\n{}",
        report.external_compiled(),
        out.describe()
    );
    let ran = run(&mut Command::new(builder.join("target/debug/app")));
    assert_eq!(ran.stdout_str().trim_end(), "local itoa and 1");
}

#[test]
fn diff_names_an_added_dependency() {
    assert_diff_names("dependency added", |p| {
        p.edit(
            "crates/core/Cargo.toml",
            "itoa = \"1\"\n",
            "itoa = \"1\"\neither = \"1\"\n",
        );
        p.generate_lockfile();
        "dependencies `either` added to crates/core".to_string()
    });
}

#[test]
fn diff_names_a_toolchain_file_and_a_config_file() {
    assert_diff_names("toolchain file added", |p| {
        p.write(
            "rust-toolchain.toml",
            "[toolchain]\nchannel = \"nightly\"\n",
        );
        "toolchain file `rust-toolchain.toml`".to_string()
    });
    assert_diff_names("config file added", |p| {
        p.write(
            ".cargo/config.toml",
            "[build]\nrustflags = [\"--cfg\", \"x\"]\n",
        );
        ".cargo/config.toml".to_string()
    });
}

/// The seeded cook's listing run must not clash with the user's output flags: with `-v`
/// (cargo rejects `--quiet` beside it) and `-q` it still prunes the bumped crate's old units.
#[test]
fn seeded_cook_prunes_under_verbose_and_quiet() {
    for flag in ["-v", "-q"] {
        seeded_bump(&seed_fixture(), itoa_bump(&[flag], "debug"));
    }
}

/// A seed with nothing stale prunes nothing: the count leaves out the workspace's own stub
/// artifacts (cook removes those itself).
#[test]
fn seeded_cook_of_an_unchanged_graph_prunes_nothing() {
    let p = seed_fixture();
    let (_, skel) = prepare(&p, "skel", &[]);
    let (builder1, _) = cook_in(&p, &skel, "builder-1", &[]);
    let seed = p.sandbox().join("seed");
    cp_a(&builder1.join("target"), &seed);
    let (_, out) = cook_in(&p, &skel, "builder-2", &["--seed", seed.to_str().unwrap()]);
    assert!(
        out.stderr_str().contains("Pruned 0 artifacts"),
        "{}",
        out.describe()
    );
}

/// A listing run that fails after listing part of the graph (a cargo that dies mid-way)
/// deletes nothing: cook says so, and the real build then compiles no external package.
#[test]
fn seeded_cook_prunes_nothing_when_the_listing_fails() {
    let p = seed_fixture();
    let (_, skel1) = prepare(&p, "skel-1", &[]);
    let (builder1, _) = cook_in(&p, &skel1, "builder-1", &[]);
    let seed = p.sandbox().join("seed");
    cp_a(&builder1.join("target"), &seed);
    let (_, new) = other_version(&p, "itoa", ["1.0.10", "1.0.9"]);
    p.cargo(&["update", "-p", "itoa", "--precise", &new])
        .assert_ok("cargo update --precise");
    let (_, skel2) = prepare(&p, "skel-2", &[]);

    // A cargo whose JSON listing stops after two messages and fails.
    let wrapper = p.sandbox().join("cargo-dies-listing.sh");
    fs::write(
        &wrapper,
        "#!/bin/sh\ncase \" $* \" in\n  *\" --quiet --message-format json \"*)\n    \"$REAL_CARGO\" \"$@\" | head -n 2\n    exit 101;;\nesac\nexec \"$REAL_CARGO\" \"$@\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
    let real = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let builder2 = p.sandbox().join("builder-2/app");
    fs::create_dir_all(&builder2).unwrap();
    let mut cook = prebuild_cmd(&builder2);
    cook.env("CARGO", &wrapper)
        .env("REAL_CARGO", &real)
        .args(["cook", "--skeleton", skel2.to_str().unwrap(), "--seed"])
        .arg(&seed);
    let out = run(&mut cook);
    out.assert_ok("seeded cook with a failing listing");
    assert!(
        out.stderr_str().contains("kept every artifact of the seed")
            && !out.stderr_str().contains("Pruned"),
        "{}",
        out.describe()
    );
    copy_tree(p.root(), &builder2, MtimePolicy::PreserveOlder, &["target"]);
    let out = cargo(&builder2, ["build", "--locked", "--message-format", "json"]);
    out.assert_ok("real build");
    let report = BuildReport::parse(&out.stdout);
    assert!(
        report.external_compiled().is_empty(),
        "units in use were deleted: {:?}",
        report.external_compiled()
    );
}

/// Arguments after `--` reach the seeded cook's listing run too: cooked `-- --release`, the
/// bumped crate's old release units are pruned (a listing without them would list the debug
/// profile instead, compiling it, and prune nothing in release).
#[test]
fn seeded_cook_lists_with_the_arguments_after_double_dash() {
    seeded_bump(&seed_fixture(), itoa_bump(&["--", "--release"], "release"));
}
