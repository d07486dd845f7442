//! `prepare`: derive the skeleton and write it (or list it, with `--dry-run`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::PrepareArgs;
use crate::shell::Shell;
use crate::skeleton::{self, PrepareOptions, Skeleton};

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

pub fn prepare(args: &PrepareArgs, shell: &Shell) -> Result<()> {
    let (options, output) = options(args)?;
    let derived = skeleton::derive(&options).map_err(|err| {
        match &output {
            // An earlier skeleton inside the workspace can be matched by a `members` glob.
            Some(dir)
                if dir.join(skeleton::INDEX_FILE).is_file()
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
    for warning in &derived.warnings {
        shell.warn(warning);
    }
    let skeleton = &derived.skeleton;
    let digest = skeleton.digest();
    let mut stdout = std::io::stdout().lock();
    match output.filter(|_| !args.dry_run) {
        Some(dir) => {
            skeleton.write(&dir)?;
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
