//! `prepare`: derive the skeleton and write it (or list it, with `--dry-run`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cli::PrepareArgs;
use crate::shell::Shell;
use crate::skeleton::{self, Derived, PrepareOptions, Skeleton, Staged};
use crate::workspace::{self, Workspace};

mod placement;

pub fn options(args: &PrepareArgs) -> Result<(PrepareOptions, Option<PathBuf>)> {
    let output = args
        .skeleton
        .as_deref()
        .map(crate::fs::absolute)
        .transpose()?;
    let manifest_path = args
        .manifest_path
        .as_deref()
        .map(crate::fs::absolute)
        .transpose()?;
    Ok((
        PrepareOptions {
            manifest_path,
            output: output.clone(),
            packages: args.package.clone(),
            bins: args.bin.clone(),
        },
        output,
    ))
}

/// What the guess made while `cargo metadata` ran: the model it guessed, the skeleton
/// derived from it and, when writing, that skeleton staged beside its destination.
struct Speculation {
    guessed: Workspace,
    derived: Derived,
    staged: Option<Staged>,
}

/// Derives (and stages) the skeleton from a workspace model guessed from the manifests.
/// Any failure just means no head start: the real derivation reports errors.
fn speculate(options: &PrepareOptions, output: Option<&Path>) -> Option<Speculation> {
    let guessed = workspace::guess(options.manifest_path.as_deref())?;
    let derived = skeleton::derive_from(guessed.clone(), options).ok()?;
    // The staging directory goes beside the destination: inside the workspace, a `members`
    // glob could match it while `cargo metadata` reads the workspace. Staged after it, then.
    let staged = match output {
        Some(dir) if outside(dir, &guessed.root) => Some(derived.skeleton.stage(dir).ok()?),
        _ => None,
    };
    Some(Speculation {
        guessed,
        derived,
        staged,
    })
}

/// The skeleton, and when writing, the skeleton staged beside its destination.
///
/// `cargo metadata` is most of prepare's time, and it leaves a core idle: meanwhile, the
/// skeleton is derived and written from a model guessed from the manifests. The metadata
/// model stays the only truth: the head start is used only when the guess equals it, else
/// it is discarded and the skeleton derived again from the metadata model.
fn derive_and_stage(
    options: &PrepareOptions,
    output: Option<&Path>,
    shell: &Shell,
) -> Result<(Derived, Option<Staged>)> {
    let pruned = !options.packages.is_empty() || !options.bins.is_empty();
    std::thread::scope(|scope| {
        // The head start needs a core `cargo metadata` leaves idle; on one core it would
        // only add its CPU time (a busy CI runner, `taskset`, a one-CPU container).
        let spare_core = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
        let guess = (!pruned && spare_core).then(|| scope.spawn(|| speculate(options, output)));
        let ws = Workspace::load(options.manifest_path.as_deref())?;
        // Before anything is written or staged in the workspace: a destination cargo would
        // take for a member, a lockfile cargo would reject.
        if let Some(dir) = output {
            placement::check(dir, &ws.root)?;
        }
        check_lockfile(&ws.root)?;
        match guess.map(|g| g.join()) {
            Some(Ok(Some(spec))) if spec.guessed == ws => {
                shell.verbose("Guessed", "the workspace model from the manifests: used");
                let staged = match (spec.staged, output) {
                    (Some(staged), _) => Some(staged),
                    (None, Some(dir)) => Some(spec.derived.skeleton.stage(dir)?),
                    (None, None) => None,
                };
                return Ok((spec.derived, staged));
            }
            Some(Ok(Some(_))) => {
                shell.verbose("Guessed", "a workspace model unlike cargo's: discarded");
            }
            _ => {}
        }
        let derived = skeleton::derive_from(ws, options)?;
        let staged = output.map(|dir| derived.skeleton.stage(dir)).transpose()?;
        Ok((derived, staged))
    })
}

/// Fails on a `Cargo.lock` cargo would reject (a non-UTF-8 one is derive's to report).
fn check_lockfile(root: &Path) -> Result<()> {
    let path = root.join("Cargo.lock");
    match crate::fs::read_if_exists(&path)?.map(String::from_utf8) {
        Some(Ok(text)) => skeleton::lock_check::check(&text, &path),
        _ => Ok(()),
    }
}

/// Whether `dir` lies outside `root` (both resolved through symlinks as far as they exist).
/// In doubt, it does not.
fn outside(dir: &Path, root: &Path) -> bool {
    let existing = dir.ancestors().find(|a| a.exists());
    let Some(Ok(base)) = existing.map(std::fs::canonicalize) else {
        return false;
    };
    let rest = existing.and_then(|e| dir.strip_prefix(e).ok());
    let resolved = rest.map_or(base.clone(), |r| base.join(r));
    !resolved.starts_with(root)
}

pub fn prepare(args: &PrepareArgs, shell: &Shell) -> Result<()> {
    crate::cargo::set_global_args(lock_args(&args.lock));
    let (options, output) = options(args)?;
    let write_to = output.as_deref().filter(|_| !args.dry_run);
    let (derived, staged) = derive_and_stage(&options, write_to, shell).map_err(|err| {
        match &output {
            // An earlier skeleton inside the workspace can be matched by a `members` glob.
            Some(dir)
                if dir.join(skeleton::INDEX_FILE).is_file()
                    && format!("{err:#}").contains("cargo metadata")
                    && format!("{err:#}").contains(&dir.display().to_string()) =>
            {
                err.context(format!(
                    "the skeleton directory `{}` is inside the workspace and cargo read it as a \
                     member: write the skeleton outside the workspace or add it to \
                     `workspace.exclude`",
                    dir.display()
                ))
            }
            _ => err,
        }
    })?;
    shell.status(
        "Preparing",
        format!("skeleton of `{}`", derived.workspace_root.display()),
    );
    let has_lockfile = derived
        .skeleton
        .files
        .values()
        .any(|f| f.kind == skeleton::FileKind::Lockfile);
    if (args.lock.locked || args.lock.frozen) && !has_lockfile {
        anyhow::bail!(
            "the lock file `{}` needs to be created but {} was passed to prevent this",
            derived.workspace_root.join("Cargo.lock").display(),
            if args.lock.frozen {
                "--frozen"
            } else {
                "--locked"
            }
        );
    }
    for warning in &derived.warnings {
        shell.warn(warning);
    }
    let skeleton = &derived.skeleton;
    let digest = skeleton.digest();
    let mut stdout = std::io::stdout().lock();
    match output.filter(|_| !args.dry_run).zip(staged) {
        Some((dir, staged)) => {
            staged.commit()?;
            shell.status(
                "Finished",
                format!(
                    "skeleton `{}`: {} files, {} bytes",
                    dir.display(),
                    skeleton.files.len(),
                    size(skeleton)
                ),
            );
        }
        None => {
            for (path, file) in &skeleton.files {
                writeln!(
                    stdout,
                    "{:<9} {:>8}  {path}",
                    kind_name(file.kind),
                    file.contents.len()
                )
                .context("failed to write to stdout")?;
            }
        }
    }
    writeln!(stdout, "{digest}").context("failed to write to stdout")?;
    Ok(())
}

fn size(skeleton: &Skeleton) -> usize {
    skeleton.files.values().map(|f| f.contents.len()).sum()
}

fn kind_name(kind: skeleton::FileKind) -> &'static str {
    use skeleton::FileKind::*;
    match kind {
        Manifest => "manifest",
        Lockfile => "lockfile",
        Config => "config",
        Toolchain => "toolchain",
        Stub => "stub",
        Verbatim => "verbatim",
    }
}

/// The cargo arguments prepare's `--offline`, `--frozen`, `--config`, `-Z` mean for the cargo
/// calls it makes. `--locked` is not among them: prepare never writes `Cargo.lock`, and the
/// per-image relock rewrites a pruned copy of it by design; it refuses a missing lockfile.
fn lock_args(lock: &crate::cli::LockArgs) -> Vec<String> {
    let mut out = Vec::new();
    if lock.offline || lock.frozen {
        out.push("--offline".to_string());
    }
    for config in &lock.config {
        out.extend(["--config".to_string(), config.clone()]);
    }
    for z in &lock.unstable {
        out.extend(["-Z".to_string(), z.clone()]);
    }
    out
}
