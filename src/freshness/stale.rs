//! `verify`'s side of content freshness: the local artifacts the content record vouches for
//! whose sources no longer hold the contents they were built from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;

use super::context::Context;
use super::files::{content_hash, local_paths};
use super::record::{Record, RECORD_FILE};
use crate::context::BuildContext;
use crate::shell::Shell;

/// For `verify`: every local artifact the content record vouches for whose inputs no longer
/// hold the recorded contents (cargo would take it as fresh by mtime, yet it is older than
/// its sources' content). Each is printed as an error; none without a record.
pub fn stale_artifacts(build: &BuildContext, shell: &Shell) -> Result<Vec<String>> {
    // Most verifications have no record: answer those without asking cargo.
    if let Some(target_dir) = build.local_target_dir()? {
        if !target_dir.join(RECORD_FILE).is_file() {
            return Ok(Vec::new());
        }
    }
    let ctx = Context::resolve(build)?;
    let Some(record) = Record::read(&ctx.target_dir)? else {
        return Ok(Vec::new());
    };
    let mut hashes: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    let mut stale = Vec::new();
    for unit in ctx.units()? {
        if !record.trusts(&unit) {
            continue;
        }
        let files = local_paths(&ctx.scope, &unit.inputs)?;
        for (path, is_dir) in files {
            let Some(entry) = record.files.get(&ctx.key(&path)) else {
                continue;
            };
            let hash = match hashes.get(&path) {
                Some(h) => h.clone(),
                None => {
                    let h = content_hash(&path, is_dir).ok();
                    hashes.insert(path.clone(), h.clone());
                    h
                }
            };
            if hash.as_deref() != Some(entry.sha256.as_str()) {
                let line = format!(
                    "`{}` is older than the content of `{}`",
                    unit.key,
                    path.display()
                );
                shell.print_error(&format!(
                    "local artifact {line}: it was built from other contents"
                ));
                stale.push(line);
            }
        }
    }
    Ok(stale)
}
