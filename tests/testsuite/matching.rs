//! Cook and build must match: record, warn, verify, explain.
//!
//! Each mismatch test runs prepare -> cook (flags A) in an empty builder -> copies of the cooked
//! builder with the real tree on top -> three builds with flags B:
//! - plain `cargo build --message-format json` (the baseline: what really recompiles),
//! - `cargo prebuild build --deny-rebuild` (fails before compiling anything), then
//!   `cargo prebuild build --verify` in the same copy (warns before cargo's first `Compiling`
//!   line, names exactly the baseline's recompiled external packages, exits non-zero),
//! - plain `cargo prebuild build` (warns before compiling, builds, exits 0).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use filetime::FileTime;

use cargo_prebuild::units::package_desc;

use crate::support::*;

const ROOT_MANIFEST: &str = r#"[package]
name = "app"
version = "0.1.0"
edition = "2021"

[workspace]
members = ["other"]

[features]
x = ["dep:either", "smallvec/const_generics"]

[dependencies]
itoa = "1"
smallvec = "1"
either = { version = "1", optional = true }
"#;

const MAIN_RS: &str = r#"fn main() {
    let v: smallvec::SmallVec<[u32; 4]> = (1..=3).collect();
    let mut buf = itoa::Buffer::new();
    println!("app {}", buf.format(v.iter().sum::<u32>()));
}
"#;

/// `app` (root package, default member) with feature `x` enabling an optional dependency and
/// a dependency feature; `other` (a member `app` does not depend on) unifies `smallvec` with
/// `union`, so selecting `-p app` or the whole workspace compiles `smallvec` differently.
fn fixture() -> Project {
    project()
        .file("Cargo.toml", ROOT_MANIFEST)
        .file("src/main.rs", MAIN_RS)
        .file(
            "other/Cargo.toml",
            r#"[package]
name = "other"
version = "0.1.0"
edition = "2021"

[dependencies]
smallvec = { version = "1", features = ["union"] }
"#,
        )
        .file(
            "other/src/lib.rs",
            "pub fn other() -> usize {\n    smallvec::SmallVec::<[u8; 2]>::new().len()\n}\n",
        )
        .build()
}

/// How a child process is run: extra environment and whether toolchain selection is left to
/// the rustup proxy (as when a user types `cargo ...` in a directory with a toolchain file).
#[derive(Clone, Default)]
struct Env {
    vars: Vec<(String, String)>,
    via_proxy: bool,
}

impl Env {
    fn apply(&self, cmd: &mut Command) {
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        if self.via_proxy {
            // The test runs under `cargo test`, whose proxy fixed the toolchain; forget it.
            for var in [
                "CARGO",
                "RUSTUP_TOOLCHAIN",
                "RUSTUP_TOOLCHAIN_SOURCE",
                "RUSTC",
            ] {
                cmd.env_remove(var);
            }
        }
    }

    fn prebuild(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = prebuild_cmd(dir);
        self.apply(&mut cmd);
        cmd.args(args);
        run(&mut cmd)
    }

    fn cargo(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = if self.via_proxy {
            let mut c = Command::new("cargo");
            scrub(&mut c);
            c.current_dir(dir);
            c
        } else {
            cargo_cmd(dir)
        };
        self.apply(&mut cmd);
        cmd.args(args);
        run(&mut cmd)
    }
}

/// prepare + cook in an empty builder; returns the cooked builder (kept as a snapshot).
fn cook(p: &Project, flags: &[&str], env: &Env) -> PathBuf {
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let builder = p.sandbox().join("cooked/app");
    fs::create_dir_all(&builder).unwrap();
    let mut args = vec!["cook", "--skeleton", skel.to_str().unwrap()];
    args.extend_from_slice(flags);
    env.prebuild(&builder, &args)
        .assert_ok(&format!("cook {flags:?}"));
    assert!(
        builder
            .join(target_dir_of(flags))
            .join("cargo-prebuild-cook.json")
            .is_file(),
        "cook left no record in its target dir"
    );
    builder
}

fn target_dir_of<'a>(flags: &[&'a str]) -> &'a str {
    flags
        .iter()
        .position(|f| *f == "--target-dir")
        .map_or("target", |i| flags[i + 1])
}

/// A copy of the cooked builder with the real tree copied over it (older mtimes, as a COPY
/// of a checkout gives).
fn real_copy(p: &Project, cooked: &Path, name: &str) -> PathBuf {
    let dir = p.sandbox().join(name).join("app");
    fs::create_dir_all(dir.parent().unwrap()).unwrap();
    cp_a(cooked, &dir);
    copy_tree(p.root(), &dir, MtimePolicy::PreserveOlder, &["target"]);
    dir
}

fn names(set: &BTreeSet<String>) -> BTreeSet<String> {
    set.iter()
        .map(|d| d.split(' ').next().unwrap().to_string())
        .collect()
}

/// Lines of `warning: dependencies will recompile: ...` (or `may`, for a difference that
/// might reach no dependency, such as a config file).
fn mismatch_warnings(stderr: &str) -> Vec<(usize, String)> {
    stderr
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            l.starts_with("warning: dependencies will recompile:")
                || l.starts_with("warning: dependencies may recompile:")
        })
        .map(|(i, l)| (i, l.to_string()))
        .collect()
}

fn first_compiling(stderr: &str) -> Option<usize> {
    stderr
        .lines()
        .position(|l| l.trim_start().starts_with("Compiling "))
}

/// `warning: external package `X` was recompiled: REASON` -> {X: REASON}.
fn recompiled_report(stderr: &str) -> Vec<(String, String)> {
    stderr
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("warning: external package `")?;
            let (pkg, reason) = rest.split_once("` was recompiled: ")?;
            Some((pkg.to_string(), reason.to_string()))
        })
        .collect()
}

/// Asserts the mismatch warnings are exactly one per expected phrase and all come before
/// cargo's first `Compiling` line.
fn assert_warned_first(out: &Output, phrases: &[&str], what: &str) {
    let stderr = out.stderr_str();
    let warnings = mismatch_warnings(&stderr);
    assert_eq!(
        warnings.len(),
        phrases.len(),
        "{what}: expected one mismatch warning per difference {phrases:?}\n{}",
        out.describe()
    );
    for phrase in phrases {
        assert!(
            warnings.iter().any(|(_, w)| w.contains(phrase)),
            "{what}: no warning names {phrase:?}\n{}",
            out.describe()
        );
    }
    let compiling = first_compiling(&stderr)
        .unwrap_or_else(|| panic!("{what}: nothing compiled?\n{}", out.describe()));
    for (line, warning) in &warnings {
        assert!(
            *line < compiling,
            "{what}: warning {warning:?} came after cargo started compiling\n{}",
            out.describe()
        );
    }
}

struct Case<'a> {
    name: &'a str,
    cook_flags: &'a [&'a str],
    build_flags: &'a [&'a str],
    /// Environment of the builds only (cook runs without it).
    build_env: Env,
    /// Files added only to the real tree (after cook), relative to the workspace root.
    real_files: &'a [(&'a str, &'a str)],
    /// One phrase per expected warning.
    phrases: &'a [&'a str],
    /// External packages the fixture must make recompile (subset of the baseline).
    must_recompile: &'a [&'a str],
    /// Also check `--verify --message-format json`.
    json: bool,
}

fn run_case(case: Case<'_>) {
    let p = fixture();
    let cooked = cook(&p, case.cook_flags, &Env::default());
    let env = &case.build_env;
    let with_real_files = |dir: &Path| {
        for (rel, body) in case.real_files {
            let path = dir.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, body).unwrap();
        }
    };
    let what = |step: &str| format!("[{}] {step}", case.name);

    // Baseline: what plain cargo recompiles with these flags.
    let a = real_copy(&p, &cooked, "baseline");
    with_real_files(&a);
    let mut args = vec!["build", "--message-format", "json"];
    args.extend_from_slice(case.build_flags);
    let out = env.cargo(&a, &args);
    out.assert_ok(&what("baseline cargo build"));
    let baseline: BTreeSet<String> = BuildReport::parse(&out.stdout)
        .external_compiled()
        .iter()
        .map(|id| package_desc(id))
        .collect();
    let must: BTreeSet<String> = case.must_recompile.iter().map(|s| s.to_string()).collect();
    assert!(
        must.is_subset(&names(&baseline)),
        "{}: the fixture does not recompile {must:?} (baseline: {baseline:?})",
        what("baseline")
    );

    // --deny-rebuild: fails before compiling anything, leaving the target dir as it was.
    let b = real_copy(&p, &cooked, "verify");
    with_real_files(&b);
    let before = files_under(&b.join("target"));
    let mut args = vec!["build", "--deny-rebuild"];
    args.extend_from_slice(case.build_flags);
    let out = env.prebuild(&b, &args);
    out.assert_code(101, &what("build --deny-rebuild"));
    let stderr = out.stderr_str();
    assert!(
        first_compiling(&stderr).is_none(),
        "{}: compiled before refusing\n{}",
        what("build --deny-rebuild"),
        out.describe()
    );
    assert!(
        stderr.contains("--deny-rebuild") && stderr.contains("error:"),
        "{}: no error naming --deny-rebuild\n{}",
        what("build --deny-rebuild"),
        out.describe()
    );
    for phrase in case.phrases {
        assert!(
            stderr.contains(phrase),
            "{}: does not name {phrase:?}\n{}",
            what("build --deny-rebuild"),
            out.describe()
        );
    }
    assert_eq!(
        files_under(&b.join("target")),
        before,
        "{}: the target dir changed",
        what("build --deny-rebuild")
    );

    // --verify in the same copy: warns first, reports exactly the baseline, exits non-zero.
    let mut args = vec!["build", "--verify"];
    args.extend_from_slice(case.build_flags);
    let out = env.prebuild(&b, &args);
    assert_warned_first(&out, case.phrases, &what("build --verify"));
    assert!(
        !out.status.success(),
        "{}: verification passed although dependencies recompiled\n{}",
        what("build --verify"),
        out.describe()
    );
    assert_eq!(
        out.status.code(),
        Some(101),
        "{}\n{}",
        what("build --verify"),
        out.describe()
    );
    let report = recompiled_report(&out.stderr_str());
    let reported: BTreeSet<String> = report.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(
        reported,
        baseline,
        "{}: reported recompiled packages differ from what plain cargo recompiles\n{}",
        what("build --verify"),
        out.describe()
    );
    assert_eq!(report.len(), reported.len(), "each package reported once");
    for (pkg, reason) in &report {
        assert!(
            !reason.trim().is_empty(),
            "{}: no reason for {pkg}",
            what("build --verify")
        );
    }

    // --verify --message-format json: the same findings in the cargo-prebuild-verify line.
    if case.json {
        let d = real_copy(&p, &cooked, "verify-json");
        with_real_files(&d);
        let mut args = vec!["build", "--verify", "--message-format", "json"];
        args.extend_from_slice(case.build_flags);
        let out = env.prebuild(&d, &args);
        assert_eq!(out.status.code(), Some(101), "{}", out.describe());
        let line = verify_line(&out);
        let keys: BTreeSet<String> = line["recompiled"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, baseline, "{}: {line:#}", what("json"));
        assert_eq!(
            line["mismatches"].as_array().unwrap().len(),
            case.phrases.len(),
            "{}: {line:#}",
            what("json")
        );
        assert_eq!(
            BuildReport::parse(&out.stdout).external_compiled().len(),
            baseline.len(),
            "{}: cargo's messages not forwarded\n{}",
            what("json"),
            out.describe()
        );
    }

    // Plain build: warns before compiling and succeeds.
    let c = real_copy(&p, &cooked, "plain");
    with_real_files(&c);
    let mut args = vec!["build"];
    args.extend_from_slice(case.build_flags);
    let out = env.prebuild(&c, &args);
    out.assert_ok(&what("build"));
    assert_warned_first(&out, case.phrases, &what("build"));
}

#[test]
fn features_mismatch() {
    run_case(Case {
        name: "features",
        cook_flags: &[],
        build_flags: &["--features", "x"],
        build_env: Env::default(),
        real_files: &[],
        phrases: &["cook ran with default features, this build has `--features x`: give cook `--features x`"],
        must_recompile: &["either", "smallvec"],
        json: true,
    });
}

#[test]
fn package_selection_mismatch() {
    run_case(Case {
        name: "-p",
        cook_flags: &["--workspace"],
        build_flags: &["-p", "app"],
        build_env: Env::default(),
        real_files: &[],
        phrases: &["cook selected `--workspace`, this build selects `-p app`"],
        must_recompile: &["smallvec"],
        json: false,
    });
}

#[test]
fn profile_mismatch() {
    run_case(Case {
        name: "profile",
        cook_flags: &[],
        build_flags: &["--release"],
        build_env: Env::default(),
        real_files: &[],
        phrases: &[
            "cook built profile `dev`, this build uses profile `release`: cook with `--release`",
        ],
        must_recompile: &["itoa", "smallvec"],
        json: false,
    });
}

#[test]
fn target_mismatch() {
    let host = host_triple();
    let phrase = format!("this build for {host}: give cook `--target {host}`");
    run_case(Case {
        name: "target",
        cook_flags: &[],
        build_flags: &["--target", &host],
        build_env: Env::default(),
        real_files: &[],
        phrases: &[&phrase],
        must_recompile: &["itoa", "smallvec"],
        json: false,
    });
}

/// Cooked with `cargo zigbuild` (zig's linker and C compiler settings change every
/// fingerprint), built with plain cargo.
#[test]
fn zigbuild_cook_plain_build_mismatch() {
    if !have_tools(&["cargo-zigbuild"], "pip install cargo-zigbuild") {
        return;
    }
    let host = host_triple();
    run_case(Case {
        name: "zigbuild",
        cook_flags: &["--zigbuild", "--target", &host],
        build_flags: &["--target", &host],
        build_env: Env::default(),
        real_files: &[],
        phrases: &["cook ran `cargo zigbuild`"],
        must_recompile: &["itoa", "smallvec"],
        json: false,
    });
}

#[test]
fn rustflags_env_mismatch() {
    run_case(Case {
        name: "RUSTFLAGS",
        cook_flags: &[],
        build_flags: &[],
        build_env: Env {
            vars: vec![("RUSTFLAGS".into(), "--cfg cpb_matching".into())],
            via_proxy: false,
        },
        real_files: &[],
        phrases: &["`RUSTFLAGS` was unset during cook and is `--cfg cpb_matching` now"],
        must_recompile: &["itoa", "smallvec"],
        json: false,
    });
}

#[test]
fn toolchain_file_mismatch() {
    // Cook with the default (stable) toolchain, then the real tree pins nightly.
    run_case(Case {
        name: "toolchain file",
        cook_flags: &[],
        build_flags: &[],
        build_env: Env {
            vars: Vec::new(),
            via_proxy: true,
        },
        real_files: &[(
            "rust-toolchain.toml",
            "[toolchain]\nchannel = \"nightly\"\n",
        )],
        phrases: &["this build uses `rustc 1.", "the toolchain file differs"],
        must_recompile: &["itoa", "smallvec"],
        json: false,
    });
}

#[test]
fn config_rustflags_mismatch() {
    run_case(Case {
        name: "config rustflags",
        cook_flags: &[],
        build_flags: &[],
        build_env: Env::default(),
        real_files: &[(
            ".cargo/config.toml",
            "[build]\nrustflags = [\"--cfg\", \"cpb_config\"]\n",
        )],
        phrases: &["cargo config `.cargo/config.toml` is in effect now but was not during cook"],
        must_recompile: &["itoa", "smallvec"],
        json: false,
    });
}

/// Same flags and environment for cook and build: no warning, nothing external recompiled,
/// `--verify` passes. The record says how cook ran.
#[test]
fn matching_flags_verify_and_record() {
    let p = fixture();
    let env = Env {
        vars: vec![("RUSTFLAGS".into(), "--cfg cpb_same".into())],
        via_proxy: false,
    };
    let flags = ["--release", "--features", "x"];
    let cooked = cook(&p, &flags, &env);

    let record = cook_record(&cooked.join("target"));
    assert_eq!(record["command"], "build", "{record:#}");
    assert_eq!(record["profile"], "release", "{record:#}");
    assert_eq!(record["features"], serde_json::json!(["x"]), "{record:#}");
    let rustc_vv =
        run(Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())).arg("-vV"))
            .stdout_str();
    assert_eq!(
        record["rustc"].as_str().unwrap().trim_end(),
        rustc_vv.trim_end(),
        "record's rustc"
    );
    assert_eq!(
        record["env"]["RUSTFLAGS"], "--cfg cpb_same",
        "record's env: {record:#}"
    );
    assert!(record["format"].is_number(), "{record:#}");

    // Baseline: plain cargo compiles no external package.
    let a = real_copy(&p, &cooked, "baseline");
    let mut args = vec!["build", "--message-format", "json"];
    args.extend_from_slice(&flags);
    let out = env.cargo(&a, &args);
    out.assert_ok("baseline cargo build");
    let report = BuildReport::parse(&out.stdout);
    assert!(
        report.external_compiled().is_empty(),
        "matching flags recompiled {:?}",
        report.external_compiled()
    );
    assert!(!report.external_fresh().is_empty());

    let b = real_copy(&p, &cooked, "verify");
    let mut args = vec!["build", "--verify", "--deny-rebuild"];
    args.extend_from_slice(&flags);
    let out = env.prebuild(&b, &args);
    out.assert_ok("build --verify --deny-rebuild with cook's flags");
    let stderr = out.stderr_str();
    assert!(
        !stderr.contains("warning:"),
        "warning with matching flags\n{}",
        out.describe()
    );
    assert!(stderr.contains("Verified"), "{}", out.describe());
    assert!(
        stderr.contains("Compiling app v0.1.0"),
        "the real app was not compiled\n{}",
        out.describe()
    );
    let exe = b.join("target/release/app");
    let run_out = run(&mut Command::new(&exe));
    run_out.assert_ok("running app");
    assert_eq!(run_out.stdout_str().trim_end(), "app 6");

    // verify afterwards (a no-op build) passes too.
    let mut args = vec!["verify"];
    args.extend_from_slice(&flags);
    let out = env.prebuild(&b, &args);
    out.assert_ok("verify after the build");
    assert!(out.stderr_str().contains("Verified"), "{}", out.describe());

    // With JSON messages, cargo's messages are forwarded and verify adds its own line.
    args.extend_from_slice(&["--message-format", "json"]);
    let out = env.prebuild(&b, &args);
    out.assert_ok("verify --message-format json");
    let report = BuildReport::parse(&out.stdout);
    assert!(
        report
            .artifacts
            .iter()
            .any(|a| a.package == "app" && a.fresh),
        "cargo's messages not forwarded\n{}",
        out.describe()
    );
    let line = verify_line(&out);
    assert_eq!(line["recompiled"], serde_json::json!({}), "{line:#}");
    assert_eq!(line["stubs"], serde_json::json!([]), "{line:#}");
    assert_eq!(line["mismatches"], serde_json::json!([]), "{line:#}");
}

/// The `{"reason":"cargo-prebuild-verify",...}` line of `--message-format json`.
fn verify_line(out: &Output) -> serde_json::Value {
    let lines: Vec<serde_json::Value> = out
        .stdout_str()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["reason"] == "cargo-prebuild-verify")
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one cargo-prebuild-verify line\n{}",
        out.describe()
    );
    lines.into_iter().next().unwrap()
}

/// The skeleton's toolchain file pins nightly: cook compiles with it (not with the toolchain
/// that ran cook), so a build that picks the toolchain the usual way (the rustup proxy reading
/// the file) matches cook: no warning, nothing recompiled.
#[test]
fn toolchain_file_in_the_skeleton_matches() {
    let p = fixture();
    p.write(
        "rust-toolchain.toml",
        "[toolchain]\nchannel = \"nightly\"\n",
    );
    let cooked = cook(&p, &[], &Env::default());
    let record = cook_record(&cooked.join("target"));
    assert!(
        record["rustc"].as_str().unwrap().contains("nightly"),
        "cook did not use the pinned toolchain: {record:#}"
    );
    let env = Env {
        vars: Vec::new(),
        via_proxy: true,
    };
    let a = real_copy(&p, &cooked, "baseline");
    let out = env.cargo(&a, &["build", "--message-format", "json"]);
    out.assert_ok("baseline");
    let report = BuildReport::parse(&out.stdout);
    assert!(
        report.external_compiled().is_empty(),
        "the pinned toolchain recompiled {:?}",
        report.external_compiled()
    );
    let b = real_copy(&p, &cooked, "verify");
    let out = env.prebuild(&b, &["build", "--verify", "--deny-rebuild"]);
    out.assert_ok("build --verify --deny-rebuild");
    assert!(!out.stderr_str().contains("warning:"), "{}", out.describe());
}

/// A stub forced into the final output (a stub binary built from the skeleton copied over the
/// real one, mtimes kept so cargo still judges the unit fresh) is caught by `verify`.
#[test]
fn verify_catches_a_stub_in_the_output() {
    let p = fixture();
    let cooked = cook(&p, &[], &Env::default());
    let b = real_copy(&p, &cooked, "real");
    cargo(&b, ["build"]).assert_ok("real build");
    prebuild(&b, ["verify"]).assert_ok("verify of the real build");

    // A stub binary, built straight from the skeleton's tree.
    let stub_ws = p.sandbox().join("stub-ws");
    extract_tree(&p.sandbox().join("skel"), &stub_ws);
    cargo(&stub_ws, ["build", "--bin", "app-prebuild-stub"]).assert_ok("building the stub");
    let stub = stub_ws.join("target/debug/app-prebuild-stub");
    let stub_bytes = fs::read(&stub).unwrap();
    assert!(contains(&stub_bytes, b"cargo-prebuild-stub"));

    let deps = b.join("target/debug/deps");
    let hashed: Vec<PathBuf> = fs::read_dir(&deps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.strip_prefix("app-")
                .is_some_and(|h| h.len() == 16 && h.chars().all(|c| c.is_ascii_hexdigit()))
        })
        .collect();
    assert_eq!(hashed.len(), 1, "app binaries in deps: {hashed:?}");
    let shipped = b.join("target/debug/app");
    for path in [&hashed[0], &shipped] {
        let mtime = FileTime::from_last_modification_time(&fs::metadata(path).unwrap());
        fs::write(path, &stub_bytes).unwrap();
        filetime::set_file_times(path, mtime, mtime).unwrap();
    }
    let ran = run(&mut Command::new(&shipped));
    assert!(
        !ran.status.success() && ran.stderr_str().contains("stub"),
        "the forced binary is not the stub\n{}",
        ran.describe()
    );

    let out = prebuild(&b, ["verify"]);
    assert_eq!(out.status.code(), Some(101), "{}", out.describe());
    let stderr = out.stderr_str();
    let shipped_str = shipped.to_str().unwrap();
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(shipped_str) && l.contains("stub")),
        "verify does not name the stub artifact {shipped_str}\n{}",
        out.describe()
    );
    assert!(
        first_compiling(&stderr).is_none(),
        "the build verify ran was not a no-op (cargo rebuilt app)\n{}",
        out.describe()
    );
    assert!(!stderr.contains("Verified"), "{}", out.describe());
    assert!(
        recompiled_report(&stderr).is_empty(),
        "no external package recompiled here\n{}",
        out.describe()
    );

    let out = prebuild(&b, ["verify", "--message-format", "json"]);
    assert_eq!(out.status.code(), Some(101), "{}", out.describe());
    let line = verify_line(&out);
    let stubs: Vec<&str> = line["stubs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(stubs, [shipped_str], "{line:#}");
}

/// Cook with `cook_flags`, build with `build_flags` that select exactly the same units: plain
/// cargo recompiles no external package, so `build` must not warn and `--deny-rebuild` must
/// pass.
fn assert_equivalent(cook_flags: &[&str], build_flags: &[&str], build_env: Env) {
    let what = format!("cook {cook_flags:?} vs build {build_flags:?}");
    let p = fixture();
    let cooked = cook(&p, cook_flags, &Env::default());

    let a = real_copy(&p, &cooked, "baseline");
    let mut args = vec!["build", "--message-format", "json"];
    args.extend_from_slice(build_flags);
    let out = build_env.cargo(&a, &args);
    out.assert_ok(&format!("{what}: baseline"));
    let report = BuildReport::parse(&out.stdout);
    assert!(
        report.external_compiled().is_empty() && !report.external_fresh().is_empty(),
        "{what}: not equivalent for cargo, it recompiled {:?}",
        report.external_compiled()
    );

    let b = real_copy(&p, &cooked, "verify");
    let mut args = vec!["build", "--deny-rebuild", "--verify"];
    args.extend_from_slice(build_flags);
    let out = build_env.prebuild(&b, &args);
    assert!(
        mismatch_warnings(&out.stderr_str()).is_empty(),
        "{what}: warned that dependencies will recompile, but cargo recompiles none\n{}",
        out.describe()
    );
    out.assert_ok(&format!("{what}: build --deny-rebuild --verify"));
    assert!(out.stderr_str().contains("Verified"), "{}", out.describe());
}

#[test]
fn equivalent_spellings_of_cooks_flags_do_not_warn() {
    assert_equivalent(&["--release"], &["--profile", "release"], Env::default());
    assert_equivalent(
        &["--features", "x", "--bins"],
        &["-F", "x", "--bin", "app", "--locked", "-j", "1"],
        Env::default(),
    );
}

/// `app` is the only default member: `-p app` selects what the default does.
#[test]
fn selecting_the_default_member_by_name_does_not_warn() {
    assert_equivalent(&[], &["-p", "app"], Env::default());
}

/// `--features app/x` and `--features x` enable the same feature of the root package.
#[test]
fn package_qualified_feature_of_the_root_does_not_warn() {
    assert_equivalent(
        &["--features", "x"],
        &["--features", "app/x"],
        Env::default(),
    );
}

/// An empty `RUSTFLAGS` is no flags, as cargo reads it.
#[test]
fn empty_rustflags_does_not_warn() {
    assert_equivalent(
        &[],
        &[],
        Env {
            vars: vec![("RUSTFLAGS".into(), String::new())],
            via_proxy: false,
        },
    );
}

/// Cook wrote its artifacts (and record) to another target dir than the build uses: every
/// dependency compiles, `build` says so before compiling, and `--deny-rebuild` must refuse.
#[test]
fn deny_rebuild_refuses_a_target_dir_cook_never_filled() {
    let p = fixture();
    let cooked = cook(&p, &["--target-dir", "cooked-target"], &Env::default());
    let b = real_copy(&p, &cooked, "verify");
    let out = prebuild(&b, ["build"]);
    out.assert_ok("build");
    let stderr = out.stderr_str();
    let warned = stderr
        .lines()
        .position(|l| l.starts_with("warning:") && l.contains("no cook record"))
        .unwrap_or_else(|| panic!("no warning about the missing record\n{}", out.describe()));
    assert!(
        warned < first_compiling(&stderr).unwrap(),
        "{}",
        out.describe()
    );

    let c = real_copy(&p, &cooked, "deny");
    let out = prebuild(&c, ["build", "--deny-rebuild"]);
    out.assert_code(101, "build --deny-rebuild without a cook record");
    assert!(
        first_compiling(&out.stderr_str()).is_none(),
        "compiled before refusing\n{}",
        out.describe()
    );
}
