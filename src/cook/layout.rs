//! Laying a skeleton out where the real sources will go, without ever overwriting a real
//! file, and removing exactly what was laid out.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::skeleton::{self, Skeleton};

/// One file cook wrote, to be removed afterwards.
#[derive(Debug)]
pub struct Laid {
    pub files: Vec<PathBuf>,
    pub dirs: Vec<PathBuf>,
}

/// The skeleton tree root: the workspace directory, raised by the depth of the workspace
/// inside the tree (out-of-root packages and ancestor config files widen the tree).
pub fn tree_root(workspace_dir: &Path, workspace: &str) -> Result<PathBuf> {
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
pub fn plan_layout(skeleton: &Skeleton, root: &Path) -> Result<(Vec<String>, Vec<String>)> {
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

pub fn lay_out(skeleton: &Skeleton, root: &Path, paths: &[String]) -> Result<Laid> {
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

pub fn remove_laid_out(laid: &Laid) -> Result<()> {
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
