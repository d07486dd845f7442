//! `cook`: lay a skeleton out where the real sources will go, run cargo on it, then remove
//! every file laid out and every stub artifact, leaving only reusable dependency artifacts.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

mod journal;
mod layout;
mod stubs;

use anyhow::{Context, Result};

use crate::cli::{CookArgs, CookCommand};
use crate::context::{BuildContext, Output, Subcommand, Targets};
use crate::flags::Flags;
use crate::record::Record;
use crate::shell::Shell;
use crate::skeleton::{FileKind, Skeleton};
use crate::units::UnitGraph;
use layout::{lay_out, plan_layout, remove_laid_out, tree_root};

/// Everything cook decided from its arguments, with absolute paths.
#[derive(Debug)]
pub struct CookOptions {
    pub skeleton_dir: PathBuf,
    pub command: Subcommand,
    pub fetch_only: bool,
    /// Lay the skeleton out and leave it there.
    pub no_build: bool,
    /// Target directory of an earlier cook to start from.
    pub seed: Option<PathBuf>,
    /// The build, run in the directory the real workspace root will be copied to.
    pub ctx: BuildContext,
}

impl CookOptions {
    pub fn from_args(args: &CookArgs, shell: &Shell) -> Result<CookOptions> {
        let command = if args.check {
            CookCommand::Check
        } else if args.clippy {
            CookCommand::Clippy
        } else if args.zigbuild {
            CookCommand::Zigbuild
        } else {
            args.command
        };
        let flags = Flags::from_args(&args.build, shell)?;
        Ok(CookOptions {
            skeleton_dir: crate::fs::absolute(&args.skeleton)?,
            command: command.into(),
            fetch_only: args.fetch_only,
            no_build: args.no_build,
            seed: args.seed.as_deref().map(crate::fs::absolute).transpose()?,
            ctx: BuildContext::new(cook_dir(args)?, flags, args.extra.clone()),
        })
    }
}

/// The directory the real workspace root will be copied to: the current one, or that of
/// `--manifest-path` (made if missing: cook runs before the sources are copied there).
fn cook_dir(args: &CookArgs) -> Result<PathBuf> {
    let dir = args.manifest_path.dir()?;
    crate::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Outcome of cook: the exit code of cargo (0 on success).
pub fn cook(mut options: CookOptions, shell: &Shell) -> Result<i32> {
    let skeleton = Skeleton::read(&options.skeleton_dir)?;
    let tree_root = tree_root(&options.ctx.dir, &skeleton.workspace)?;
    choose_toolchain(&mut options.ctx, &skeleton, shell);
    let options = &options;
    shell.status(
        "Cooking",
        format!(
            "skeleton `{}` ({})",
            options.skeleton_dir.display(),
            skeleton.digest()
        ),
    );

    if let Some(removed) = journal::recover(&tree_root)? {
        shell.status(
            "Recovered",
            format!(
                "removed {removed} files an interrupted cook left in `{}`",
                tree_root.display()
            ),
        );
    }
    // Ctrl-C reaches cargo too (one process group): cook outlives it to remove what it laid
    // out, then exits as interrupted.
    let interrupted = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted));

    let (to_write, _already_there) = plan_layout(&skeleton, &tree_root)?;
    journal::begin(&tree_root, &skeleton, &to_write)?;
    let laid = lay_out(&skeleton, &tree_root, &to_write).inspect_err(|_| {
        // lay_out removed what it wrote; the journal goes with whatever it left.
        let _ = journal::recover(&tree_root);
    })?;
    shell.verbose(
        "Laid out",
        format!("{} files in `{}`", laid.files.len(), tree_root.display()),
    );
    if options.no_build {
        // The journal stays with the files: a later cook here removes what is unchanged.
        shell.status(
            "Finished",
            format!(
                "cook --no-build: {} skeleton files laid out in `{}` and left there",
                laid.files.len(),
                tree_root.display()
            ),
        );
        return Ok(0);
    }

    // A Ctrl-C while laying out reached no cargo yet: do not start one.
    let result = if interrupted.load(Ordering::SeqCst) {
        Ok(Ran {
            code: 130,
            used: None,
            record: None,
        })
    } else {
        seed_and_run(options, shell)
    };
    let interrupted = interrupted.load(Ordering::SeqCst);
    let cleaned = if options.fetch_only || interrupted {
        Ok(())
    } else {
        // After a failed run (or when only cargo knows the target dir), `cargo clean -p`
        // finds the stubs; laid-out files must go whatever happens, so no `?` here.
        let target_dir = match &result {
            Ok(_) => options.ctx.local_target_dir().ok().flatten(),
            Err(_) => None,
        };
        stubs::clean_stub_artifacts(&options.ctx, &skeleton, target_dir.as_deref(), shell)
    };
    // After the stubs went, so the count is of dependency artifacts only.
    let pruned = match result.as_ref().ok().and_then(|r| r.used.as_ref()) {
        Some(used) if !interrupted => Some(crate::seed::prune(used)),
        _ => None,
    };
    // The journal goes only once everything on it is: a failed removal is retried by the
    // next cook.
    let removed = remove_laid_out(&laid).and_then(|()| journal::finish(&tree_root));
    if interrupted {
        shell.warn(format!(
            "cook interrupted: removed the {} laid-out files",
            laid.files.len()
        ));
        removed?;
        return Ok(130);
    }
    let ran = result?;
    removed?;
    if let Some(pruned) = pruned {
        shell.status(
            "Pruned",
            format!("{} artifacts the dependency graph no longer uses", pruned?),
        );
    }
    if let Some(recorded) = ran.record {
        write_record(recorded, shell)?;
    }
    let code = ran.code;
    if let Err(err) = cleaned {
        // Stub artifacts can never be mistaken for real ones (their sources are gone), so a
        // failed cleanup costs disk space, not correctness.
        shell.warn(format!("could not remove stub artifacts: {err:#}"));
    }
    if code == 0 {
        shell.status(
            "Finished",
            format!("cook: removed {} laid-out files", laid.files.len()),
        );
    }
    Ok(code)
}

/// The rustup proxy that started us set `RUSTUP_TOOLCHAIN` for the toolchain it picked in a
/// directory without the toolchain file; unless the user chose one (`+toolchain`, or the
/// variable), the laid-out file decides, as it will for the real build.
fn choose_toolchain(ctx: &mut BuildContext, skeleton: &Skeleton, shell: &Shell) {
    let has_toolchain_file = skeleton
        .files
        .values()
        .any(|f| f.kind == FileKind::Toolchain);
    let user_chose = matches!(
        std::env::var("RUSTUP_TOOLCHAIN_SOURCE").as_deref(),
        Ok("cli") | Ok("env")
    );
    if has_toolchain_file && !user_chose {
        shell.verbose("Toolchain", "from the skeleton's toolchain file");
        ctx.use_toolchain_file();
    }
}

fn run_cargo(options: &CookOptions, shell: &Shell) -> Result<i32> {
    let ctx = &options.ctx;
    let cmd = if options.fetch_only {
        ctx.fetch_command()
    } else {
        ctx.build_command(options.command, Targets::Skeleton, Output::User)
    };
    shell.verbose("Running", format!("`{cmd}`"));
    let status = cmd.status()?;
    Ok(status.code().unwrap_or(101))
}

/// Plants the seed (if any), runs cargo, prunes what a seed left unused, records how cook ran.
/// Returns cargo's exit code, the units a seed left in use and the record to write.
fn seed_and_run(options: &CookOptions, shell: &Shell) -> Result<Ran> {
    if options.fetch_only {
        return Ok(Ran {
            code: run_cargo(options, shell)?,
            used: None,
            record: None,
        });
    }
    let ctx = &options.ctx;
    // Cook's own cargo and rustc calls are overhead on every build: the target dir is worked
    // out from flags, environment and config, and rustc's version read from cargo's cache.
    let target_dir = ctx.target_dir()?;
    let seeded = match &options.seed {
        Some(seed) => crate::seed::plant(seed, &target_dir, &ctx.rustc()?, shell)?,
        None => false,
    };
    let units_dir = ctx.build_dir()?;
    let (code, graph) = build_and_graph(options, &units_dir, shell)?;
    if code != 0 {
        return Ok(Ran {
            code,
            used: None,
            record: None,
        });
    }
    let used = if seeded {
        let mut cmd = ctx.build_command(options.command, Targets::Skeleton, Output::Listing);
        cmd.args(["--quiet", "--message-format", "json"]);
        shell.verbose("Listing", format!("the units in use: `{cmd}`"));
        match crate::seed::used_units(&cmd) {
            Ok(used) => Some(used),
            Err(err) => {
                shell.warn(format!(
                    "kept every artifact of the seed: cargo could not list the units in use, \
                     and pruning from a partial list would delete some: {err:#}"
                ));
                None
            }
        }
    } else {
        None
    };
    let rustc = ctx.rustc_cached(&target_dir)?;
    let mut record = Record::capture(options.command, ctx, &rustc)?;
    record.unit_graph = match graph {
        Some(graph) => graph,
        None => cook_unit_graph(options, shell),
    };
    Ok(Ran {
        code,
        used,
        record: Some(Recorded {
            record,
            target_dir,
            units_dir,
        }),
    })
}

/// Runs cook's build and, once it compiles units (its resolution and downloads are done, so
/// the package cache lock is free and the build never waits on us), asks cargo for the unit
/// graph beside it: one cargo start-up off cook's own time. Returns cargo's exit code and the
/// graph, if the build compiled long enough for it to start (`None`: ask after the build).
fn build_and_graph(
    options: &CookOptions,
    units_dir: &Path,
    shell: &Shell,
) -> Result<(i32, Option<Option<UnitGraph>>)> {
    let cmd = options
        .ctx
        .build_command(options.command, Targets::Skeleton, Output::User);
    shell.verbose("Running", format!("`{cmd}`"));
    let before = unit_count(units_dir);
    let mut child = cmd
        .std_command()
        .spawn()
        .with_context(|| format!("failed to run `{cmd}`"))?;
    let finished = AtomicBool::new(false);
    let (status, graph) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            while !finished.load(Ordering::SeqCst) {
                if unit_count(units_dir) > before {
                    return Some(cook_unit_graph(options, shell));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            None
        });
        let status = child.wait();
        finished.store(true, Ordering::SeqCst);
        (status, watcher.join().unwrap_or(None))
    });
    let status = status.with_context(|| format!("failed to wait for `{cmd}`"))?;
    Ok((status.code().unwrap_or(101), graph))
}

/// Unit directories in the `.fingerprint` directories of any profile and target: a new one
/// means cargo is compiling.
fn unit_count(units_dir: &Path) -> usize {
    let dirs = crate::clean::profile_dirs(units_dir).unwrap_or_default();
    dirs.iter()
        .filter_map(|d| std::fs::read_dir(d.join(".fingerprint")).ok())
        .map(Iterator::count)
        .sum()
}

/// Cook's external unit graph, for `build` to predict which packages it compiles anew;
/// `None` (and `build` says "may") when cargo refuses `--unit-graph`.
fn cook_unit_graph(options: &CookOptions, shell: &Shell) -> Option<UnitGraph> {
    let cmd = options
        .ctx
        .build_command(options.command, Targets::Skeleton, Output::Listing);
    match crate::units::unit_graph(&cmd) {
        Ok(graph) => Some(graph),
        Err(err) => {
            shell.verbose("Skipped", format!("recording the unit graph: {err:#}"));
            None
        }
    }
}

/// What [`seed_and_run`] did.
struct Ran {
    /// cargo's exit code.
    code: i32,
    /// With a seed: the units the graph uses, to prune the rest once the stubs are gone.
    used: Option<std::collections::BTreeSet<(PathBuf, String)>>,
    /// After a successful build: the record to write once the stubs are gone.
    record: Option<Recorded>,
}

/// A record of how cook ran, to complete with the units cook left and to write.
struct Recorded {
    record: Record,
    /// Where the record goes.
    target_dir: PathBuf,
    /// Where cargo keeps units: the build dir, if one is configured.
    units_dir: PathBuf,
}

/// Records how cook ran in the target directory, with the units it left, for `build` and
/// `verify` to compare with.
fn write_record(recorded: Recorded, shell: &Shell) -> Result<()> {
    let Recorded {
        mut record,
        target_dir,
        units_dir,
    } = recorded;
    record.units = Some(crate::units::target_units(&units_dir)?);
    record.write(&target_dir)?;
    shell.verbose(
        "Recorded",
        format!(
            "cook settings in `{}`",
            target_dir.join(crate::record::RECORD_FILE).display()
        ),
    );
    Ok(())
}
