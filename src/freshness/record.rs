//! The content record, `<target-dir>/cargo-prebuild-content.json`: the header a build must
//! share with it to be trusted (toolchain, workspace directory, profile, targets, skeleton),
//! the content hash and mtime of every local file, and the local units it vouches for.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use filetime::FileTime;
use serde::{Deserialize, Serialize};

use super::units::Unit;

/// File name of the content record inside the target directory.
pub const RECORD_FILE: &str = "cargo-prebuild-content.json";
pub(super) const FORMAT: u32 = 1;

/// What a record must share with a build to be trusted by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Header {
    pub format: u32,
    /// `rustc -vV`.
    pub rustc: String,
    pub workspace_root: String,
    pub profile: String,
    pub targets: Vec<String>,
    /// Digest of the workspace's skeleton (what dependency compilation depends on).
    pub skeleton: String,
}

impl Header {
    /// What differs, for a note: `toolchain`, `profile`, ...
    pub(super) fn difference(&self, other: &Header) -> String {
        let mut what = Vec::new();
        for (differs, name) in [
            (self.format != other.format, "record format"),
            (self.rustc != other.rustc, "toolchain"),
            (
                self.workspace_root != other.workspace_root,
                "workspace directory",
            ),
            (self.profile != other.profile, "profile"),
            (self.targets != other.targets, "target"),
            (self.skeleton != other.skeleton, "skeleton (dependencies)"),
        ] {
            if differs {
                what.push(name);
            }
        }
        what.join(", ")
    }
}

/// An mtime as `[seconds, nanoseconds]`.
pub type Stamp = (i64, u32);

pub(super) fn stamp(t: FileTime) -> Stamp {
    (t.unix_seconds(), t.nanoseconds())
}

/// The recorded mtime cut to the whole second. Given back to an unchanged file, it stays no
/// newer than every unit built from that content even when the seed's mtimes were cut to the
/// second too (an image layer): cargo takes an input as fresh when not newer than the unit.
pub(super) fn whole_second(s: Stamp) -> FileTime {
    FileTime::from_unix_time(s.0, 0)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub sha256: String,
    pub mtime: Stamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    #[serde(flatten)]
    pub header: Header,
    /// Local files and directories (relative to the workspace root, or absolute outside it).
    pub files: BTreeMap<String, FileEntry>,
    /// Local units this record vouches for: identifying file (relative to the target
    /// directory) and its mtime.
    pub units: BTreeMap<String, Stamp>,
}

impl Record {
    pub(super) fn empty(header: Header) -> Record {
        Record {
            header,
            files: BTreeMap::new(),
            units: BTreeMap::new(),
        }
    }

    pub fn read(target_dir: &Path) -> Result<Option<Record>> {
        let path = target_dir.join(RECORD_FILE);
        let Some(bytes) = crate::fs::read_if_exists(&path)? else {
            return Ok(None);
        };
        // An unreadable record is no record: doubt means rebuild, never fail the build.
        Ok(serde_json::from_slice(&bytes).ok())
    }

    pub(super) fn write(&self, target_dir: &Path) -> Result<()> {
        let path = target_dir.join(RECORD_FILE);
        let tmp = target_dir.join(format!("{RECORD_FILE}.tmp"));
        let json = serde_json::to_vec(self).context("failed to encode the content record")?;
        crate::fs::write(&tmp, &json)?;
        crate::fs::rename(&tmp, &path)
    }

    /// Whether the record vouches for the unit: it is the very build the record was written
    /// after. An image layer stores mtimes in whole seconds (a tar header), so a seed copied
    /// out of an image (`COPY --from=<previous builder>`) carries the recorded mtime cut to the
    /// second: that is the same build too. A re-stamp (`--timestamp`, Kaniko) or a rebuild by
    /// a plain `cargo build` gives another second.
    pub(super) fn trusts(&self, unit: &Unit) -> bool {
        let now = stamp(unit.identity);
        !unit.stub
            && self
                .units
                .get(&unit.key)
                .is_some_and(|&recorded| recorded == now || (now.1 == 0 && now.0 == recorded.0))
    }
}
