//! The command line as cargo and cargo-chef users write it: every flag of the installed
//! `cargo build` on cook, build and verify; `--manifest-path` there; `--locked`, `--offline`,
//! `--frozen`, `--config` on prepare; cargo-chef's `--no-std`; `-q` on every command.

use std::ffi::OsString;
use std::fs;

use cargo_prebuild::cli::{self, CargoFlag, Command, FlagValue};
use cargo_prebuild::context::{Output, Targets};
use cargo_prebuild::flags::Flags;
use cargo_prebuild::shell::{Shell, Verbosity};

use crate::support::*;

/// A value cargo would take for a flag, by its name.
fn value_for(long: &str) -> &'static str {
    match long {
        "color" => "never",
        "manifest-path" => "Cargo.toml",
        "message-format" => "json",
        "jobs" => "1",
        "config" => "build.jobs=1",
        "profile" => "release",
        "target" => "x86_64-unknown-linux-gnu",
        _ => "x",
    }
}

fn installed_cargo_flags() -> Vec<CargoFlag> {
    let flags = cargo_prebuild::cargo::build_flags(&std::env::temp_dir()).unwrap();
    let longs: Vec<&str> = flags.iter().map(|f| f.long.as_str()).collect();
    // The list is read for real: a few flags every cargo since 1.74 prints.
    for known in ["release", "keep-going", "manifest-path", "features"] {
        assert!(longs.contains(&known), "{known} not read from {longs:?}");
    }
    flags
}

/// Every flag `cargo build --help` lists is accepted by cook, build and verify, and reaches
/// cargo's command line.
#[test]
fn every_flag_of_cargo_build_is_accepted_and_forwarded() {
    let flags = installed_cargo_flags();
    for sub in ["cook", "build", "verify"] {
        for flag in flags.iter().filter(|f| f.long != "help") {
            let mut args: Vec<OsString> = ["cargo-prebuild", "prebuild", sub]
                .iter()
                .map(OsString::from)
                .collect();
            if sub == "cook" {
                args.extend(["--skeleton", "skel"].map(OsString::from));
            }
            if flag.long == "exclude" {
                args.push("--workspace".into());
            }
            let spelled = format!("--{}", flag.long);
            match flag.value {
                FlagValue::None => args.push(spelled.clone().into()),
                FlagValue::Required | FlagValue::Optional { equals: false } => {
                    args.push(spelled.clone().into());
                    args.push(value_for(&flag.long).into());
                }
                FlagValue::Optional { equals: true } => args.push(spelled.clone().into()),
            }
            let what = format!("{sub} {args:?}");
            let cli = cli::try_parse_from(args, || flags.clone())
                .unwrap_or_else(|e| panic!("{what}: rejected: {e}"));
            let cargo_prebuild::cli::Cargo::Prebuild(prebuild) = cli;
            let build = match &prebuild.command {
                Command::Cook(a) => &a.build,
                Command::Build(a) => &a.build,
                Command::Verify(a) => &a.build,
                _ => unreachable!(),
            };
            if matches!(flag.long.as_str(), "manifest-path" | "color") {
                continue; // a directory to run in; the shell's colour choice
            }
            let shell = Shell::new(Verbosity::Normal, cli::ColorChoice::Never);
            let line: Vec<String> = Flags::from_args(build, &shell)
                .unwrap()
                .build_args(Targets::AsGiven, Output::User)
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let expect = match flag.long.as_str() {
                "all" => "--workspace".to_string(),
                _ => spelled.clone(),
            };
            assert!(
                line.iter()
                    .any(|a| a == &expect || a.starts_with(&format!("{expect}="))),
                "{what}: `{expect}` does not reach cargo: {line:?}"
            );
        }
    }
}

/// A flag this cargo does not know stays a usage error (exit 2), with clap's message.
#[test]
fn a_flag_cargo_does_not_know_is_a_usage_error() {
    let p = project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"u\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .file("src/lib.rs", "")
        .build();
    let out = prebuild(p.root(), ["build", "--no-such-flag"]);
    out.assert_code(2, "build --no-such-flag");
    assert!(
        out.stderr_str().contains("--no-such-flag"),
        "{}",
        out.describe()
    );
}

fn itoa_project() -> Project {
    project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"flagged\"\nversion = \"0.1.0\"\nedition = \"2021\"\nrust-version = \"1.99\"\n\n[dependencies]\nitoa = \"1\"\n",
        )
        .file(
            "src/main.rs",
            "fn main() {\n    println!(\"flagged {}\", itoa::Buffer::new().format(4));\n}\n",
        )
        .build()
}

/// cook and build with flags cargo has and the fixed list lacked: `--ignore-rust-version`
/// (the package asks for a newer rustc), `--keep-going`, `--future-incompat-report`.
#[test]
fn cook_and_build_forward_flags_of_the_installed_cargo() {
    let p = itoa_project();
    let (skel, builder) = p.skeleton_and_builder();
    let mut cook = prebuild_cmd(&builder);
    cook.arg("cook").arg("--skeleton").arg(&skel).args([
        "--ignore-rust-version",
        "--keep-going",
        "--future-incompat-report",
        "-v",
    ]);
    let out = run(&mut cook);
    out.assert_ok("cook --ignore-rust-version --keep-going --future-incompat-report");
    assert!(
        out.stderr_str().contains("--ignore-rust-version")
            && out.stderr_str().contains("--keep-going"),
        "the flags are not on cargo's command line\n{}",
        out.describe()
    );
    copy_tree(p.root(), &builder, MtimePolicy::PreserveOlder, &["target"]);
    let out = prebuild(
        &builder,
        ["build", "--ignore-rust-version", "--keep-going", "--verify"],
    );
    out.assert_ok("build --ignore-rust-version --keep-going --verify");
    let ran = run(&mut std::process::Command::new(
        builder.join("target/debug/flagged"),
    ));
    assert_eq!(ran.stdout_str().trim_end(), "flagged 4");
}

/// cargo-chef's `--no-std` is accepted, with a note that stubs need no such thing (clap used
/// to suggest `--no-build`, which does something else).
#[test]
fn cook_accepts_cargo_chefs_no_std_with_a_note() {
    let p = itoa_project();
    let (skel, builder) = p.skeleton_and_builder();
    let mut cook = prebuild_cmd(&builder);
    cook.arg("cook")
        .arg("--skeleton")
        .arg(&skel)
        .args(["--no-std", "--ignore-rust-version"]);
    let out = run(&mut cook);
    out.assert_ok("cook --no-std");
    let stderr = out.stderr_str();
    assert!(
        stderr.contains("note:") && stderr.contains("--no-std") && stderr.contains("not needed"),
        "{}",
        out.describe()
    );
    assert!(
        builder.join("target/debug/deps").is_dir(),
        "nothing cooked\n{}",
        out.describe()
    );
}

/// `--timings` is stable cargo: its help does not call it unstable.
#[test]
fn timings_is_not_called_unstable() {
    let out = prebuild(&std::env::temp_dir(), ["cook", "--help"]);
    out.assert_ok("cook --help");
    let stdout = out.stdout_str();
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("--timings"))
        .unwrap_or_else(|| panic!("no --timings in\n{stdout}"));
    // The flag's line and its description (on the next line in the long help).
    let text = lines[at..(at + 2).min(lines.len())].join("\n");
    assert!(!text.contains("unstable"), "{text}");
}

/// `-q` is accepted by every command, before or after the command's name, and silences its
/// statuses.
#[test]
fn quiet_works_on_every_command() {
    let p = project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"quiet\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"1\"\n",
        )
        .file("src/main.rs", "fn main() {}\n")
        .build();
    let (skel, builder) = p.skeleton_and_builder();
    let skel_s = skel.to_str().unwrap();
    for args in [
        &["-q", "cook", "--skeleton", skel_s][..],
        &["cook", "-q", "--skeleton", skel_s, "--seed", skel_s],
    ] {
        let fresh = p.sandbox().join(format!("builder-{}", args[0]));
        fs::create_dir_all(&fresh).unwrap();
        let out = prebuild(&fresh, args);
        out.assert_ok(&format!("{args:?}"));
        assert!(
            out.stderr_str().trim().is_empty(),
            "{args:?}\n{}",
            out.describe()
        );
    }
    let out = prebuild(&builder, ["cook", "-q", "--skeleton", skel_s]);
    out.assert_ok("cook -q");
    copy_tree(p.root(), &builder, MtimePolicy::PreserveOlder, &["target"]);
    for args in [
        &["build", "-q"][..],
        &["-q", "build"],
        &["verify", "-q"],
        &["-q", "verify"],
        &["build", "--verify", "-q"],
        &["diff", "-q", skel_s, skel_s],
        &["-q", "diff", skel_s, skel_s],
        &["prepare", "-q", "--dry-run"],
        &["-q", "prepare", "--dry-run"],
    ] {
        let dir = if args.contains(&"prepare") {
            p.root()
        } else {
            &builder
        };
        let out = prebuild(dir, args);
        out.assert_ok(&format!("{args:?}"));
        assert!(
            out.stderr_str().trim().is_empty(),
            "{args:?} printed statuses\n{}",
            out.describe()
        );
    }
}

/// `--manifest-path` on cook (the directory the sources will be copied to, possibly not
/// there yet), build and verify, run from elsewhere.
#[test]
fn manifest_path_on_cook_build_and_verify() {
    let p = itoa_project();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let app = p.sandbox().join("app");
    let manifest = app.join("Cargo.toml");
    let elsewhere = p.sandbox().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    let mut cook = prebuild_cmd(&elsewhere);
    cook.arg("cook")
        .arg("--skeleton")
        .arg(&skel)
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--ignore-rust-version");
    run(&mut cook).assert_ok("cook --manifest-path");
    assert!(app.join("target/cargo-prebuild-cook.json").is_file());
    assert!(
        !elsewhere.join("target").exists(),
        "cooked in the current directory"
    );
    assert!(!manifest.exists(), "cook left its skeleton manifest");

    copy_tree(p.root(), &app, MtimePolicy::PreserveOlder, &["target"]);
    for sub in ["build", "verify"] {
        let mut cmd = prebuild_cmd(&elsewhere);
        cmd.args([sub, "--ignore-rust-version", "--manifest-path"])
            .arg(&manifest);
        let out = run(&mut cmd);
        out.assert_ok(&format!("{sub} --manifest-path"));
        assert!(
            out.stderr_str().contains("Verified") || sub == "build",
            "{}",
            out.describe()
        );
    }
    assert!(app.join("target/debug/flagged").is_file());
    assert!(!elsewhere.join("target").exists());
}

/// prepare takes cargo's lock and config flags: `--offline`/`--frozen` and `--config` reach
/// the cargo calls it makes (here the per-image relock, which reads the registry index), and
/// `--locked`/`--frozen` refuse a workspace without `Cargo.lock`, as cargo does.
#[test]
fn prepare_takes_locked_offline_frozen_and_config() {
    let p = itoa_project();
    let skel = p.sandbox().join("skel");
    let skel_s = skel.to_str().unwrap();
    for flags in [
        &["--locked"][..],
        &["--offline"],
        &["--frozen"],
        &["--config", "net.retry=1"],
        &["--frozen", "-p", "flagged"],
    ] {
        let mut args = vec!["prepare", "--skeleton", skel_s];
        args.extend_from_slice(flags);
        prebuild(p.root(), &args).assert_ok(&format!("prepare {flags:?}"));
    }
    // --config reaches cargo: a malformed value is cargo's error.
    let out = prebuild(
        p.root(),
        ["prepare", "--dry-run", "--config", "not valid toml ="],
    );
    out.assert_code(101, "prepare --config <invalid>");
    assert!(out.stderr_str().contains("--config"), "{}", out.describe());

    fs::remove_file(p.path("Cargo.lock")).unwrap();
    for flag in ["--locked", "--frozen"] {
        let out = prebuild(p.root(), ["prepare", "--dry-run", flag]);
        out.assert_code(101, &format!("prepare {flag} without Cargo.lock"));
        assert!(
            out.stderr_str().contains("Cargo.lock") && out.stderr_str().contains(flag),
            "{}",
            out.describe()
        );
    }
}
