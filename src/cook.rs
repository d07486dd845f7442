//! `cook`: lay a skeleton out where the real sources will go, run cargo on it, then remove
//! every file laid out and every stub artifact, leaving only reusable dependency artifacts.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

mod journal;

use anyhow::{bail, Result};

use crate::cargo::CargoCommand;
use crate::clean::{Layout, StubNames};
use crate::cli::{CookArgs, CookCommand};
use crate::flags::Flags;
use crate::record::Record;
use crate::shell::Shell;
use crate::skeleton::{self, FileKind, Skeleton, StubPackage};

/// Everything cook decided from its arguments, with absolute paths.
#[derive(Debug)]
pub struct CookOptions {
    pub skeleton_dir: PathBuf,
    /// The directory the real workspace root will be copied to (the current directory).
    pub workspace_dir: PathBuf,
    pub command: CookCommand,
    pub fetch_only: bool,
    /// Lay the skeleton out and leave it there.
    pub no_build: bool,
    pub flags: Flags,
    /// Target directory of an earlier cook to start from.
    pub seed: Option<PathBuf>,
    pub extra: Vec<OsString>,
}

impl CookOptions {
    pub fn from_args(args: &CookArgs, shell: &Shell) -> Result<CookOptions> {
        Ok(CookOptions {
            skeleton_dir: crate::fs::absolute(&args.skeleton)?,
            workspace_dir: cook_dir(args)?,
            command: if args.check {
                CookCommand::Check
            } else if args.clippy {
                CookCommand::Clippy
            } else if args.zigbuild {
                CookCommand::Zigbuild
            } else {
                args.command
            },
            fetch_only: args.fetch_only,
            no_build: args.no_build,
            flags: Flags::from_args(&args.build, shell)?,
            extra: args.extra.clone(),
            seed: args.seed.as_deref().map(crate::fs::absolute).transpose()?,
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

/// One file cook wrote, to be removed afterwards.
#[derive(Debug)]
struct Laid {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

/// Outcome of cook: the exit code of cargo (0 on success).
pub fn cook(options: &CookOptions, shell: &Shell) -> Result<i32> {
    let skeleton = Skeleton::read(&options.skeleton_dir)?;
    let tree_root = tree_root(&options.workspace_dir, &skeleton.workspace)?;
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
            target_dir: None,
            used: None,
            record: None,
        })
    } else {
        seed_and_run(options, &skeleton, shell)
    };
    let interrupted = interrupted.load(Ordering::SeqCst);
    let cleaned = if options.fetch_only || interrupted {
        Ok(())
    } else {
        let target_dir = result.as_ref().ok().and_then(|r| r.target_dir.as_deref());
        clean_stub_artifacts(options, &skeleton, target_dir, shell)
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
    if let Some((record, target_dir)) = ran.record {
        write_record(record, &target_dir, shell)?;
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

/// The skeleton tree root: the workspace directory, raised by the depth of the workspace
/// inside the tree (out-of-root packages and ancestor config files widen the tree).
fn tree_root(workspace_dir: &Path, workspace: &str) -> Result<PathBuf> {
    let mut root = workspace_dir.to_path_buf();
    if workspace != "." {
        skeleton::check_relative(workspace)?;
        for _ in Path::new(workspace).components() {
            if !root.pop() {
                bail!(
                    "the skeleton's workspace sits at `{workspace}` in its tree, which does not fit \
                     under `{}`",
                    workspace_dir.display()
                );
            }
        }
    }
    Ok(root)
}

/// Decides which files to write. Refuses, before writing anything, if any destination holds
/// other contents: cook must never destroy a real file (cook after `COPY . .`, or in a
/// checkout). Files already there with the skeleton's contents are left alone and not removed.
fn plan_layout(skeleton: &Skeleton, root: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let mut to_write = Vec::new();
    let mut present = Vec::new();
    let mut conflicts = Vec::new();
    for (path, file) in &skeleton.files {
        let dest = root.join(path);
        match crate::fs::read_if_exists(&dest) {
            Ok(None) if dest.symlink_metadata().is_err() => to_write.push(path.clone()),
            Ok(Some(existing)) if existing == file.contents => present.push(path.clone()),
            _ => conflicts.push(dest),
        }
    }
    if !conflicts.is_empty() {
        let shown: Vec<String> = conflicts
            .iter()
            .take(10)
            .map(|p| format!("  {}", p.display()))
            .collect();
        let more = conflicts.len().saturating_sub(10);
        bail!(
            "refusing to cook: {} file(s) the skeleton would lay out already exist with other \
             contents, and cook never overwrites a real file:\n{}{}\nrun cook in the empty \
             directory where the sources will be copied, before copying them (`COPY . .` after \
             cook), and nothing was written",
            conflicts.len(),
            shown.join("\n"),
            if more > 0 {
                format!("\n  ... and {more} more")
            } else {
                String::new()
            }
        );
    }
    Ok((to_write, present))
}

fn lay_out(skeleton: &Skeleton, root: &Path, paths: &[String]) -> Result<Laid> {
    let mut laid = Laid {
        files: Vec::new(),
        dirs: Vec::new(),
    };
    for path in paths {
        let Some(file) = skeleton.files.get(path) else {
            continue;
        };
        let dest = root.join(path);
        let result = skeleton::create_dirs(root, &dest, &mut laid.dirs)
            .and_then(|()| crate::fs::write_new(&dest, &file.contents));
        if let Err(err) = result {
            let _ = remove_laid_out(&laid);
            return Err(err);
        }
        laid.files.push(dest);
    }
    Ok(laid)
}

fn remove_laid_out(laid: &Laid) -> Result<()> {
    let mut first_error = None;
    for file in &laid.files {
        if let Err(err) = crate::fs::remove_file(file) {
            first_error.get_or_insert(err);
        }
    }
    // Deepest first; a directory that gained other files (target/, say) stays.
    for dir in laid.dirs.iter().rev() {
        let _ = std::fs::remove_dir(dir);
    }
    first_error.map_or(Ok(()), Err)
}

fn base_command(options: &CookOptions, skeleton: &Skeleton, shell: &Shell) -> CargoCommand {
    let cmd = CargoCommand::new(&options.workspace_dir);
    let has_toolchain_file = skeleton
        .files
        .values()
        .any(|f| f.kind == FileKind::Toolchain);
    // The rustup proxy that started us set RUSTUP_TOOLCHAIN for the toolchain it picked in a
    // directory without the toolchain file; unless the user chose one (`+toolchain`, or the
    // variable), let the laid-out file decide, as it will for the real build.
    let user_chose = matches!(
        std::env::var("RUSTUP_TOOLCHAIN_SOURCE").as_deref(),
        Ok("cli") | Ok("env")
    );
    if has_toolchain_file && !user_chose {
        shell.verbose("Toolchain", "from the skeleton's toolchain file");
        cmd.through_toolchain_file()
    } else {
        cmd
    }
}

/// The cargo subcommand cook runs: `test` builds its units without running them.
fn cook_subcommand(command: CookCommand) -> Vec<&'static str> {
    let mut args = vec![command.cargo_subcommand()];
    if command == CookCommand::Test {
        args.push("--no-run");
    }
    args
}

fn run_cargo(options: &CookOptions, skeleton: &Skeleton, shell: &Shell) -> Result<i32> {
    let mut cmd = base_command(options, skeleton, shell);
    if options.fetch_only {
        cmd.arg("fetch").args(options.flags.fetch_args());
    } else {
        cmd.args(cook_subcommand(options.command));
        cmd.args(options.flags.build_args(true, true));
    }
    cmd.args(&options.extra);
    shell.verbose("Running", format!("`{cmd}`"));
    let status = cmd.status()?;
    Ok(status.code().unwrap_or(101))
}

/// Plants the seed (if any), runs cargo, prunes what a seed left unused, records how cook ran.
/// Returns cargo's exit code and the target dir if it was worked out without cargo.
fn seed_and_run(options: &CookOptions, skeleton: &Skeleton, shell: &Shell) -> Result<Ran> {
    if options.fetch_only {
        return Ok(Ran {
            code: run_cargo(options, skeleton, shell)?,
            target_dir: None,
            used: None,
            record: None,
        });
    }
    let base = base_command(options, skeleton, shell);
    // Cook's own cargo and rustc calls are overhead on every build: the target dir is worked
    // out from flags, environment and config, and rustc's version read from cargo's cache.
    let local_target_dir = crate::record::target_dir_of(&options.flags, &options.workspace_dir)?;
    let target_dir = match &local_target_dir {
        Some(dir) => dir.clone(),
        None => {
            crate::record::WorkspaceInfo::load(&base, &options.flags, &options.workspace_dir)?
                .target_directory
        }
    };
    let mut rustc = None;
    let seeded = match &options.seed {
        Some(seed) => {
            let version = crate::record::rustc_version(&base)?;
            let planted = crate::seed::plant(seed, &target_dir, &version, shell)?;
            rustc = Some(version);
            planted
        }
        None => false,
    };
    let code = run_cargo(options, skeleton, shell)?;
    if code != 0 {
        return Ok(Ran {
            code,
            target_dir: local_target_dir,
            used: None,
            record: None,
        });
    }
    let used = if seeded {
        let mut cmd = base.clone();
        cmd.args(cook_subcommand(options.command));
        cmd.args(options.flags.listing_args(true))
            .args(["--quiet", "--message-format", "json"])
            .args(&options.extra);
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
    let rustc = match rustc.or_else(|| crate::record::cached_rustc_version(&target_dir)) {
        Some(version) => version,
        None => crate::record::rustc_version(&base)?,
    };
    let command = options.command.cargo_subcommand();
    let mut record = Record::capture(command, &options.flags, &options.workspace_dir, &rustc)?;
    record.unit_graph = cook_unit_graph(options, &base, shell);
    Ok(Ran {
        code,
        target_dir: local_target_dir,
        used,
        record: Some((record, target_dir)),
    })
}

/// Cook's external unit graph, for `build` to predict which packages it compiles anew;
/// `None` (and `build` says "may") when cargo refuses `--unit-graph`.
fn cook_unit_graph(
    options: &CookOptions,
    base: &CargoCommand,
    shell: &Shell,
) -> Option<crate::units::UnitGraph> {
    let mut cmd = base.clone();
    cmd.args(cook_subcommand(options.command));
    cmd.args(options.flags.listing_args(true))
        .args(&options.extra);
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
    /// The target dir, if worked out without cargo.
    target_dir: Option<PathBuf>,
    /// With a seed: the units the graph uses, to prune the rest once the stubs are gone.
    used: Option<std::collections::BTreeSet<(PathBuf, String)>>,
    /// After a successful build: the record to write once the stubs are gone, and the
    /// target dir it goes to.
    record: Option<(Record, PathBuf)>,
}

/// Records how cook ran in the target directory, with the units it left there, for `build`
/// and `verify` to compare with.
fn write_record(mut record: Record, target_dir: &Path, shell: &Shell) -> Result<()> {
    record.units = Some(crate::units::target_units(target_dir)?);
    record.write(target_dir)?;
    shell.verbose(
        "Recorded",
        format!(
            "cook settings in `{}`",
            target_dir.join(crate::record::RECORD_FILE).display()
        ),
    );
    Ok(())
}

/// Names of the non-local packages in the skeleton's lockfile.
fn external_names(skeleton: &Skeleton) -> Result<std::collections::BTreeSet<String>> {
    let mut names = std::collections::BTreeSet::new();
    for (path, file) in skeleton
        .files
        .iter()
        .filter(|(_, f)| f.kind == FileKind::Lockfile)
    {
        let text = String::from_utf8_lossy(&file.contents);
        names.extend(crate::skeleton::lockfile::external_names(
            &text,
            Path::new(path),
        )?);
    }
    Ok(names)
}

/// Removes the stub packages' artifacts: directly, by exact name, when the target dir is laid
/// out as cargo does by default (a `cargo clean -p` costs tens of milliseconds, much of cook's
/// own overhead); otherwise through `cargo clean -p`, which knows every layout.
fn clean_stub_artifacts(
    options: &CookOptions,
    skeleton: &Skeleton,
    target_dir: Option<&Path>,
    shell: &Shell,
) -> Result<()> {
    if skeleton.stub_packages.is_empty() {
        return Ok(());
    }
    // A stub package named like a registry package shares its artifact names, so its stubs
    // stay (their sources are gone, so cargo can never judge them fresh).
    let external = external_names(skeleton)?;
    let packages: Vec<_> = skeleton
        .stub_packages
        .iter()
        .filter(|p| !external.contains(&p.name))
        .collect();
    if packages.is_empty() {
        return Ok(());
    }
    match crate::clean::layout(target_dir, &options.flags, &options.workspace_dir)? {
        Layout::Known(dirs) => {
            let names = StubNames::new(skeleton, &packages, &external)?;
            let removed = crate::clean::remove(&dirs, &names)?;
            if removed.units == 0 {
                // The build just compiled the stubs, yet no unit of theirs sits where the
                // default layout keeps units: cargo lays them out some other way.
                shell.verbose(
                    "Cleaning",
                    "with `cargo clean -p`: no stub unit where cargo's default layout keeps them",
                );
                return cargo_clean(options, skeleton, &packages, shell);
            }
            let dirs: Vec<String> = dirs.iter().map(|d| format!("`{}`", d.display())).collect();
            shell.verbose(
                "Removed",
                format!(
                    "{} stub artifacts from {} (without `cargo clean`)",
                    removed.entries,
                    dirs.join(", ")
                ),
            );
            Ok(())
        }
        Layout::Unknown(why) => {
            shell.verbose("Cleaning", format!("with `cargo clean -p`: {why}"));
            cargo_clean(options, skeleton, &packages, shell)
        }
    }
}

/// Asks cargo itself to remove the stub packages' artifacts (`cargo clean -p`), following
/// cargo's own layout (`build.target`, `target-dir`, `build-dir`, per-package build
/// directories) instead of guessing paths.
fn cargo_clean(
    options: &CookOptions,
    skeleton: &Skeleton,
    packages: &[&StubPackage],
    shell: &Shell,
) -> Result<()> {
    let mut cmd = base_command(options, skeleton, shell);
    cmd.arg("clean");
    for pkg in packages {
        cmd.arg("--package")
            .arg(format!("{}@{}", pkg.name, crate::skeleton::MASKED_VERSION));
    }
    cmd.args(options.flags.clean_args(&options.workspace_dir)?);
    cmd.arg("--quiet");
    shell.verbose("Running", format!("`{cmd}`"));
    cmd.output()?;
    Ok(())
}
