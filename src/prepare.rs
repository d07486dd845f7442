//! `prepare`: load the workspace's inputs, derive the skeleton from them, relock a per-image
//! skeleton, and write it (or list it, with `--dry-run`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cli::PrepareArgs;
use crate::shell::Shell;
use crate::skeleton::{self, Derived, PrepareOptions, Skeleton, Staged};
use crate::workspace::{Inputs, Workspace};

mod placement;
mod relock;

/// The skeleton of the workspace `options` names: load, derive, relock.
pub fn derive(options: &PrepareOptions) -> Result<Derived> {
    derive_from(Workspace::load(options.manifest_path.as_deref())?, options)
}

/// The skeleton of a workspace model already loaded: what [`derive`] does after
/// `cargo metadata`. A per-image skeleton prunes the model first and is relocked last.
pub fn derive_from(mut ws: Workspace, options: &PrepareOptions) -> Result<Derived> {
    if options.per_image() {
        ws.prune(&options.packages, &options.bins)?;
    }
    let inputs = Inputs::read(ws, options.output.as_deref(), &options.real)?;
    let mut derived = skeleton::derive(&inputs, options)?;
    if options.per_image() && inputs.lockfile.is_some() {
        relock::relock(&mut derived.skeleton)?;
    }
    Ok(derived)
}

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
            real: args.real.clone(),
        },
        output,
    ))
}

/// The skeleton, and when writing, the skeleton staged in its destination. One
/// `cargo metadata`, one derivation: no speculative second model, so prepare costs no more
/// CPU than the metadata call plus one pass over the manifests (a busy CI runner has no idle
/// core to hide a second pass in).
fn derive_and_stage(
    options: &PrepareOptions,
    output: Option<&Path>,
) -> Result<(Derived, Option<Staged>)> {
    let ws = Workspace::load(options.manifest_path.as_deref()).map_err(|err| {
        match options.output.as_deref() {
            // An earlier skeleton inside the workspace can be matched by a `members` glob.
            Some(dir) if placement::read_as_member(dir, options.manifest_path.as_deref()) => err
                .context(format!(
                    "the skeleton directory `{}` is inside the workspace and cargo read it as a \
                     member: write the skeleton outside the workspace or add it to \
                     `workspace.exclude`",
                    dir.display()
                )),
            _ => err,
        }
    })?;
    // Before anything is written or staged in the workspace: a destination cargo would take
    // for a member, a lockfile cargo would reject.
    if let Some(dir) = output {
        placement::check(dir, &ws.root)?;
    }
    check_lockfile(&ws.root)?;
    let derived = derive_from(ws, options)?;
    let staged = output.map(|dir| derived.skeleton.stage(dir)).transpose()?;
    Ok((derived, staged))
}

/// Fails on a `Cargo.lock` cargo would reject (a non-UTF-8 one is derive's to report).
fn check_lockfile(root: &Path) -> Result<()> {
    let path = root.join("Cargo.lock");
    match crate::fs::read_if_exists(&path)?.map(String::from_utf8) {
        Some(Ok(text)) => skeleton::lock_check::check(&text, &path),
        _ => Ok(()),
    }
}

pub fn prepare(args: &PrepareArgs, shell: &Shell) -> Result<()> {
    crate::cargo::set_global_args(lock_args(&args.lock));
    let (options, output) = options(args)?;
    let write_to = output.as_deref().filter(|_| !args.dry_run);
    let (derived, staged) = derive_and_stage(&options, write_to)?;
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
