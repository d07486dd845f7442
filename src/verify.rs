//! `build` and `verify`: run the real build, compare it with the cook record first (one
//! `warning:` per difference that recompiles dependencies), and check its outcome: which
//! external packages cargo recompiled, with cargo's own fingerprint reason, and whether any
//! local artifact came from a stub.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::cargo::Message;
use crate::cli::{BuildCmdArgs, VerifyArgs};
use crate::context::{BuildContext, Output, Subcommand, Targets};
use crate::flags::Flags;
use crate::record::{self, Mismatch, Record};
use crate::shell::Shell;
use crate::skeleton::stubs::{MARKER, STUB_DIR};
use crate::units::package_desc;

#[derive(Debug)]
pub struct BuildOptions {
    pub ctx: BuildContext,
    pub verify: bool,
    pub deny_rebuild: bool,
    pub rebuild_local: bool,
    /// Judge local crates by content (`--seed`, `--content-freshness`).
    pub content: crate::freshness::Request,
}

impl BuildOptions {
    /// `cargo prebuild build`.
    pub fn for_build(args: &BuildCmdArgs, shell: &Shell) -> Result<BuildOptions> {
        let flags = Flags::from_args(&args.build, shell)?;
        Ok(BuildOptions {
            ctx: BuildContext::new(args.manifest_path.dir()?, flags, args.extra.clone()),
            verify: args.verify,
            deny_rebuild: args.deny_rebuild,
            rebuild_local: args.rebuild_local,
            content: match (&args.seed, args.content_freshness) {
                (Some(seed), _) => crate::freshness::Request::Seed(seed.clone()),
                (None, true) => crate::freshness::Request::InPlace,
                (None, false) => crate::freshness::Request::Off,
            },
        })
    }

    /// `cargo prebuild verify`: the build, checked.
    pub fn for_verify(args: &VerifyArgs, shell: &Shell) -> Result<BuildOptions> {
        let flags = Flags::from_args(&args.build, shell)?;
        Ok(BuildOptions {
            ctx: BuildContext::new(args.manifest_path.dir()?, flags, args.extra.clone()),
            verify: true,
            deny_rebuild: false,
            rebuild_local: false,
            content: crate::freshness::Request::Off,
        })
    }
}

/// What the build did that a cached dependency layer should have prevented.
#[derive(Debug, Default, Serialize)]
pub struct Findings {
    /// External packages compiled by this build, or by any build after cook (`name version`),
    /// with cargo's reason.
    pub recompiled: BTreeMap<String, String>,
    /// Unit hash -> package id of every artifact this build reported, fresh or not.
    #[serde(skip)]
    pub unit_packages: BTreeMap<String, String>,
    /// Local artifacts that are, or were built from, cargo-prebuild stubs.
    pub stubs: Vec<PathBuf>,
    pub mismatches: Vec<Mismatch>,
}

/// Runs `cargo build` after comparing with the cook record. Returns cargo's exit code, or
/// fails when `--deny-rebuild` or `--verify` find a problem.
pub fn build(options: &BuildOptions, shell: &Shell) -> Result<i32> {
    let ctx = &options.ctx;
    // Content freshness (when asked) prepares the sources while the cook record is compared:
    // each waits mostly on a cargo or rustc process.
    let (compared, session) = std::thread::scope(|scope| {
        let session = scope.spawn(|| crate::freshness::begin(&options.content, ctx, shell));
        let compared = compare(options, shell);
        let session = session
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("content freshness panicked")));
        (compared, session)
    });
    let (compared, session) = (compared?, session?);
    let mismatches = compared.mismatches;
    for m in &mismatches {
        let verb = if m.certain { "will" } else { "may" };
        shell.warn(format!("dependencies {verb} recompile: {}", m.message));
    }
    if options.deny_rebuild && !mismatches.is_empty() {
        bail!(
            "this build differs from how cook ran in {} way(s) that recompile dependencies \
             (`--deny-rebuild`)",
            mismatches.len()
        );
    }
    if options.rebuild_local {
        clean_local(ctx, shell)?;
    }
    if !options.verify {
        let cmd = ctx.build_command(Subcommand::Build, Targets::AsGiven, Output::User);
        shell.verbose("Running", format!("`{cmd}`"));
        let code = cmd.status()?.code().unwrap_or(101);
        crate::freshness::finish(session, code)?;
        return Ok(code);
    }
    let (code, mut findings) = run_observed(ctx, shell)?;
    crate::freshness::finish(session, code)?;
    findings.mismatches = mismatches;
    if let Some(cook) = &compared.cook {
        crate::gate::judge_target_dir(cook, ctx, &mut findings)?;
    }
    report(&findings, code, options, shell)?;
    let stale = crate::freshness::stale_artifacts(ctx, shell)?;
    if code == 0
        && (!findings.recompiled.is_empty() || !findings.stubs.is_empty() || !stale.is_empty())
    {
        bail!(
            "verification failed: {} external package(s) recompiled, {} stub artifact(s) found, \
             {} local artifact(s) older than their sources' content",
            findings.recompiled.len(),
            findings.stubs.len(),
            stale.len()
        );
    }
    Ok(code)
}

/// `cargo clean -p` for every local package, in the profile and targets of this build. A
/// local package sharing its name with a registry crate cannot be cleaned by name (cargo
/// would delete the registry crate's artifacts too): its sources are touched instead.
fn clean_local(ctx: &BuildContext, shell: &Shell) -> Result<()> {
    let ws = ctx.model()?;
    let external = ctx.external_packages()?;
    let mut specs = Vec::new();
    for pkg in ws.packages.values() {
        if external.contains(&pkg.name) {
            touch_sources(&pkg.dir)?;
        } else {
            specs.push(format!("{}@{}", pkg.name, pkg.version));
        }
    }
    if !specs.is_empty() {
        let cmd = ctx.clean_command(&specs)?;
        shell.verbose("Running", format!("`{cmd}`"));
        cmd.output()?;
    }
    shell.status(
        "Cleaned",
        format!(
            "{} local packages, to rebuild them from these sources",
            ws.packages.len()
        ),
    );
    Ok(())
}

/// Sets the mtime of a package's files (not `target/` or hidden directories) to now.
fn touch_sources(dir: &Path) -> Result<()> {
    let now = std::time::SystemTime::now();
    let walker = walkdir::WalkDir::new(dir).into_iter().filter_entry(|e| {
        e.depth() == 0
            || !(e.file_type().is_dir()
                && (e.file_name() == "target" || e.file_name().to_string_lossy().starts_with('.')))
    });
    for entry in walker {
        let entry = entry.with_context(|| format!("failed to walk `{}`", dir.display()))?;
        if entry.file_type().is_file() {
            std::fs::File::options()
                .write(true)
                .open(entry.path())
                .and_then(|f| f.set_modified(now))
                .with_context(|| format!("failed to touch `{}`", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The build compared with the cook record.
struct Compared {
    mismatches: Vec<Mismatch>,
    cook: Option<Record>,
}

fn compare(options: &BuildOptions, shell: &Shell) -> Result<Compared> {
    let ctx = &options.ctx;
    let target_dir = &ctx.target_dir()?;
    let Some(cook) = Record::read(target_dir)? else {
        let path = target_dir.join(record::RECORD_FILE);
        if options.deny_rebuild || options.verify {
            bail!(
                "no cook record `{}`: dependencies were not cooked into this target directory, \
                 so there is nothing to verify the build against (`cargo prebuild cook` writes \
                 it; give `build`/`verify` the target dir cook used)",
                path.display()
            );
        }
        shell.warn(format!(
            "no cook record in `{}`: dependencies were not cooked into this target directory, so \
             they all compile now",
            target_dir.display()
        ));
        return Ok(Compared {
            mismatches: Vec::new(),
            cook: None,
        });
    };
    if options.verify && cook.units.is_none() {
        bail!(
            "the cook record `{}` is from an older cargo-prebuild and does not list the units \
             cook produced: cook again to verify against it",
            target_dir.join(record::RECORD_FILE).display()
        );
    }
    // The build's unit graph (when cook recorded one to compare with) is asked for while the
    // workspace, the toolchain and the config are read: each waits on a process.
    let (now, graph) = std::thread::scope(|scope| {
        let graph = cook.unit_graph.is_some().then(|| {
            scope.spawn(|| {
                let cmd = ctx.build_command(Subcommand::Build, Targets::AsGiven, Output::Listing);
                crate::units::unit_graph(&cmd)
            })
        });
        let now = ctx.workspace().and_then(|ws| {
            let now = Record::capture(Subcommand::Build, ctx, &ctx.rustc()?)?;
            Ok((ws, now))
        });
        let graph = graph.map(|g| {
            g.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the unit graph call panicked")))
        });
        (now, graph)
    });
    let (ws, now) = now?;
    let mut mismatches = record::mismatches(&cook, &now, &ws);
    crate::gate::predict(&cook, ctx, graph, &mut mismatches, shell)?;
    Ok(Compared {
        mismatches,
        cook: Some(cook),
    })
}

/// Runs the build with JSON messages and cargo's fingerprint log, both parsed.
fn run_observed(ctx: &BuildContext, shell: &Shell) -> Result<(i32, Findings)> {
    // The user's message format is forwarded below; cargo is asked for JSON it renders.
    let mut cmd = ctx.build_command(Subcommand::Build, Targets::AsGiven, Output::Observed);
    cmd.args(["--message-format", "json-render-diagnostics"]);
    shell.verbose("Running", format!("`{cmd}`"));
    let mut child = cmd
        .std_command()
        .env(crate::cargo::log::ENV.0, crate::cargo::log::ENV.1)
        .env("RUST_LIB_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("failed to run `{cmd}`"))?;
    let stderr = child.stderr.take().context("no stderr pipe")?;
    let log = std::thread::spawn(move || crate::cargo::log::filter_log(stderr));
    let mut findings = Findings::default();
    let forward_json = ctx.flags.user_message_format();
    if let Some(stdout) = child.stdout.take() {
        let mut out = std::io::stdout().lock();
        for line in BufReader::new(stdout).lines() {
            let line = line.context("failed to read cargo's output")?;
            if forward_json {
                let _ = writeln!(out, "{line}");
            }
            let Some(msg) = Message::parse(&line) else {
                continue;
            };
            if msg.reason != "compiler-artifact" {
                continue;
            }
            inspect(&msg, &mut findings)?;
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("failed to wait for `{cmd}`"))?;
    let reasons = log.join().unwrap_or_default();
    for (pkg, reason) in findings.recompiled.iter_mut() {
        if let Some(r) = reasons
            .iter()
            .find(|(id, _)| id.starts_with(pkg.as_str()))
            .map(|(_, r)| r)
        {
            *reason = r.clone();
        }
    }
    Ok((status.code().unwrap_or(101), findings))
}

fn inspect(msg: &Message, findings: &mut Findings) -> Result<()> {
    for file in &msg.filenames {
        if let Some(hash) = crate::gate::unit_hash(file) {
            findings.unit_packages.insert(hash, msg.package_id.clone());
        }
    }
    let local = crate::units::is_local(&msg.package_id);
    if !local {
        if !msg.fresh {
            let key = package_desc(&msg.package_id);
            findings
                .recompiled
                .entry(key)
                .or_insert_with(|| "cargo gave no reason".to_string());
        }
        return Ok(());
    }
    let from_stub = msg
        .target
        .as_ref()
        .is_some_and(|t| t.src_path.components().any(|c| c.as_os_str() == STUB_DIR));
    let files = msg.filenames.iter().chain(msg.executable.iter());
    for file in files {
        if findings.stubs.contains(file) {
            continue;
        }
        if from_stub || contains_marker(file)? {
            findings.stubs.push(file.clone());
        }
    }
    Ok(())
}

fn contains_marker(path: &Path) -> Result<bool> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if matches!(ext, "d" | "json" | "rmeta") {
        return Ok(false);
    }
    let Some(bytes) = crate::fs::read_if_exists(path)? else {
        return Ok(false);
    };
    let marker = MARKER.as_bytes();
    Ok(bytes.windows(marker.len()).any(|w| w == marker))
}

fn report(findings: &Findings, code: i32, options: &BuildOptions, shell: &Shell) -> Result<()> {
    for (pkg, reason) in &findings.recompiled {
        shell.warn(format!("external package `{pkg}` was recompiled: {reason}"));
    }
    for stub in &findings.stubs {
        shell.print_error(&format!(
            "`{}` is a cargo-prebuild stub artifact, not built from real sources",
            stub.display()
        ));
    }
    if code == 0 && findings.recompiled.is_empty() && findings.stubs.is_empty() {
        shell.status(
            "Verified",
            "no external package recompiled, no stub artifact",
        );
    }
    if options.ctx.flags.user_message_format() {
        let mut json = serde_json::to_value(findings)?;
        if let Some(obj) = json.as_object_mut() {
            obj.insert("reason".to_string(), "cargo-prebuild-verify".into());
        }
        println!("{json}");
    }
    Ok(())
}
