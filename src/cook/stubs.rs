//! Removing the stub packages' artifacts after cook: by exact name where cargo's default
//! layout keeps them ([`crate::clean`]), else through `cargo clean -p`.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Result;

use crate::clean::{Layout, StubNames};
use crate::context::BuildContext;
use crate::shell::Shell;
use crate::skeleton::{FileKind, Skeleton, StubPackage};

/// Names of the non-local packages in the skeleton's lockfile.
fn external_names(skeleton: &Skeleton) -> Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
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
pub fn clean_stub_artifacts(
    ctx: &BuildContext,
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
    match crate::clean::layout(ctx, target_dir)? {
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
                return cargo_clean(ctx, &packages, shell);
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
            cargo_clean(ctx, &packages, shell)
        }
    }
}

/// Asks cargo itself to remove the stub packages' artifacts (`cargo clean -p`), following
/// cargo's own layout (`build.target`, `target-dir`, `build-dir`, per-package build
/// directories) instead of guessing paths.
fn cargo_clean(ctx: &BuildContext, packages: &[&StubPackage], shell: &Shell) -> Result<()> {
    let specs: Vec<String> = packages
        .iter()
        .map(|pkg| format!("{}@{}", pkg.name, crate::skeleton::MASKED_VERSION))
        .collect();
    let cmd = ctx.clean_command(&specs)?;
    shell.verbose("Running", format!("`{cmd}`"));
    cmd.output()?;
    Ok(())
}
