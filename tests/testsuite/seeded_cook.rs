//! `cook --seed`: a cook seeded with the previous dependency layer's target directory compiles
//! only the bumped crates and their reverse dependencies, prunes the units no longer used, and
//! falls back to a cold cook when the seed is missing or from another toolchain.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::process::Output;

use crate::support::*;

fn seed_fixture() -> Project {
    project()
        .file(
            "Cargo.toml",
            &pkg(
                "app",
                "itoa = \"1\"\nsmallvec = \"1\"\neither = \"1\"\ncfg-if = \"1\"\n",
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

/// Prepares `<sandbox>/<skel>`, cooks it in `builder-1` and keeps a copy of that target
/// directory as `<sandbox>/seed` (the previous dependency layer); returns the three.
fn first_cook_as_seed(p: &Project, skel: &str) -> (PathBuf, PathBuf, PathBuf) {
    let (_, skel) = p.prepare_as(skel, &[]);
    let (builder, _) = p.cook_in(&skel, "builder-1", &[]);
    let seed = p.sandbox().join("seed");
    cp_a(&builder.join("target"), &seed);
    (skel, builder, seed)
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
    let (_, skel1) = p.prepare_as("skel-1", &[]);
    let mut args = vec!["--message-format", "json"];
    args.extend_from_slice(b.flags);
    let (builder1, cook1) = p.cook_in(&skel1, "builder-1", &args);
    let cold = BuildReport::parse(&cook1.stdout);
    let all: BTreeSet<String> = set(b.recompiled).union(&set(b.reused)).cloned().collect();
    assert_eq!(
        package_names(&cold.external_compiled()),
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
    let (_, skel2) = p.prepare_as("skel-2", &[]);

    let mut args = vec!["--seed", seed.to_str().unwrap(), "--message-format", "json"];
    args.extend_from_slice(b.flags);
    let (builder2, cook2) = p.cook_in(&skel2, "builder-2", &args);
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
        package_names(&warm.external_compiled()),
        set(b.recompiled),
        "{what}: compiled more than the bump and its dependents\n{}",
        cook2.describe()
    );
    assert_eq!(
        package_names(&warm.external_fresh()),
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
            &pkg("app", "aho-corasick = \"1\"\nitoa = \"1\"\n"),
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

/// A bumped crate with a build script: its build-script units (`build/anyhow-<hash>`) are
/// pruned with the rest, and the reused crates' build outputs stay usable.
#[test]
fn seeded_cook_prunes_the_build_script_units_of_a_bump() {
    let p = project()
        .file("Cargo.toml", &pkg("app", "anyhow = \"1\"\nitoa = \"1\"\n"))
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
    let (_, _, seed) = first_cook_as_seed(&p, "skel-1");
    let either = unit_hashes(&seed, "debug", "either");
    assert!(!either.is_empty());

    p.edit("Cargo.toml", "either = \"1\"\n", "");
    p.write(
        "src/main.rs",
        "fn main() {\n    println!(\"{}\", itoa::Buffer::new().format(smallvec::SmallVec::<[u8; 2]>::new().len()));\n}\n",
    );
    p.generate_lockfile();
    let (_, skel2) = p.prepare_as("skel-2", &[]);
    let (builder2, out) = p.cook_in(
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
    let (skel, _, seed) = first_cook_as_seed(&p, "skel");
    let (_, out) = p.cook_in(&skel, "builder-2", &["--seed", seed.to_str().unwrap()]);
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
    let (_, _, seed) = first_cook_as_seed(&p, "skel-1");
    let (_, new) = other_version(&p, "itoa", ["1.0.10", "1.0.9"]);
    p.cargo(&["update", "-p", "itoa", "--precise", &new])
        .assert_ok("cargo update --precise");
    let (_, skel2) = p.prepare_as("skel-2", &[]);

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
        package_names(&BuildReport::parse(&out.stdout).external_compiled()),
        set(&["cfg-if", "either", "itoa", "smallvec"]),
        "{what}: a cold cook compiles everything\n{}",
        out.describe()
    );
}

#[test]
fn seeded_cook_with_a_missing_seed_is_a_cold_cook() {
    let p = seed_fixture();
    let (_, skel) = p.prepare_as("skel", &[]);
    let missing = p.sandbox().join("no-such-seed");
    let (builder, out) = p.cook_in(
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
    let (skel, builder1, seed) = first_cook_as_seed(&p, "skel");
    let record_path = seed.join("cargo-prebuild-cook.json");
    let mut record: serde_json::Value =
        serde_json::from_slice(&fs::read(&record_path).unwrap()).unwrap();
    let rustc = record["rustc"].as_str().unwrap().to_string();
    record["rustc"] = rustc.replacen("rustc 1.", "rustc 0.", 1).into();
    fs::write(&record_path, serde_json::to_vec_pretty(&record).unwrap()).unwrap();

    let (_, out) = p.cook_in(
        &skel,
        "builder-2",
        &["--seed", seed.to_str().unwrap(), "--message-format", "json"],
    );
    assert_cold(&out, "seed from another toolchain");

    // A seed without a cook record (not a cook's target dir): cold too.
    let seed = p.sandbox().join("seed-2");
    cp_a(&builder1.join("target"), &seed);
    fs::remove_file(seed.join("cargo-prebuild-cook.json")).unwrap();
    let (_, out) = p.cook_in(
        &skel,
        "builder-3",
        &["--seed", seed.to_str().unwrap(), "--message-format", "json"],
    );
    assert_cold(&out, "seed without a record");
}
