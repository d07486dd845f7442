//! The one boundary to cargo: a command builder whose `Display` is the exact command line (so
//! errors and `-v` output name what ran), the named calls that are not builds (`calls`), and
//! the parsing of what cargo prints: JSON messages (here) and the fingerprint log (`log`).

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

mod calls;
pub mod log;
pub mod units;

pub use calls::{
    build_flags, cached_rustc_version, clean_packages, metadata_no_deps, rustc_version,
    WorkspaceInfo,
};

use anyhow::{Context, Result};

#[derive(Debug, Clone)]
pub struct CargoCommand {
    program: OsString,
    args: Vec<OsString>,
    cwd: PathBuf,
    env_remove: Vec<&'static str>,
}

/// Flags for every cargo call of this run that takes no flags of its own (`prepare`'s
/// `--locked`, `--offline`, `--frozen`, `--config`, `-Z`): set once, at the command's entry.
static GLOBAL_ARGS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Sets the flags every cargo call of this run takes (once; later calls are ignored).
pub fn set_global_args(args: Vec<String>) {
    let _ = GLOBAL_ARGS.set(args);
}

/// The flags set by [`set_global_args`], placed before the subcommand (cargo takes them
/// there), or after it for `cargo metadata` run through `cargo_metadata`.
pub fn global_args() -> Vec<String> {
    GLOBAL_ARGS.get().cloned().unwrap_or_default()
}

impl CargoCommand {
    /// Cargo as the caller's cargo ran us (`CARGO`), or `cargo` from `PATH`.
    pub fn new(cwd: &Path) -> Self {
        let program = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        CargoCommand {
            program,
            args: global_args().into_iter().map(OsString::from).collect(),
            cwd: cwd.to_path_buf(),
            env_remove: Vec::new(),
        }
    }

    /// Cargo through the rustup proxy on `PATH`, with the toolchain the outer proxy chose
    /// forgotten, so a `rust-toolchain(.toml)` laid out by cook decides, as it will for the
    /// real build.
    pub fn through_toolchain_file(mut self) -> Self {
        self.program = OsString::from("cargo");
        self.env_remove
            .extend(["RUSTUP_TOOLCHAIN", "RUSTUP_TOOLCHAIN_SOURCE"]);
        self
    }

    /// The same directory and environment, another program (`rustc` beside cargo).
    pub fn with_program(mut self, program: OsString) -> Self {
        self.program = program;
        self.args.clear();
        self
    }

    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&mut self, args: I) -> &mut Self {
        for arg in args {
            self.arg(arg);
        }
        self
    }

    /// The `std` command, for callers that need pipes.
    pub fn std_command(&self) -> Command {
        self.command()
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).current_dir(&self.cwd);
        for var in &self.env_remove {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs with inherited stdio.
    pub fn status(&self) -> Result<ExitStatus> {
        self.command()
            .status()
            .with_context(|| format!("failed to run `{self}`"))
    }

    /// Runs capturing output; fails with the command line and its stderr if cargo fails.
    pub fn output(&self) -> Result<std::process::Output> {
        let output = self
            .command()
            .output()
            .with_context(|| format!("failed to run `{self}`"))?;
        if !output.status.success() {
            anyhow::bail!(
                "`{self}` failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim_end()
            );
        }
        Ok(output)
    }
}

impl fmt::Display for CargoCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let program = Path::new(&self.program)
            .file_name()
            .map_or_else(|| self.program.to_string_lossy(), |n| n.to_string_lossy());
        write!(f, "{program}")?;
        for arg in &self.args {
            let arg = arg.to_string_lossy();
            if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            {
                write!(f, " '{}'", arg.replace('\'', "'\\''"))?;
            } else {
                write!(f, " {arg}")?;
            }
        }
        Ok(())
    }
}

/// One line of cargo's `--message-format json` output: the fields cook, seed, verify and the
/// tests read (one type for every reader).
#[derive(Debug, serde::Deserialize)]
pub struct Message {
    /// `compiler-artifact`, `build-script-executed`, `build-finished`, ...
    pub reason: String,
    #[serde(default)]
    pub package_id: String,
    /// Whether cargo judged the unit fresh (not compiled by this build).
    #[serde(default)]
    pub fresh: bool,
    #[serde(default)]
    pub filenames: Vec<PathBuf>,
    #[serde(default)]
    pub executable: Option<PathBuf>,
    #[serde(default)]
    pub target: Option<MessageTarget>,
    #[serde(default)]
    pub profile: Option<MessageProfile>,
    /// `build-script-executed`: the script's `OUT_DIR`.
    #[serde(default)]
    pub out_dir: Option<PathBuf>,
    /// `build-finished`: whether the whole build succeeded.
    #[serde(default)]
    pub success: Option<bool>,
}

#[derive(Debug, serde::Deserialize)]
pub struct MessageTarget {
    #[serde(default)]
    pub name: String,
    /// `lib`, `bin`, `test`, `custom-build`, ... (cargo lists one).
    #[serde(default)]
    pub kind: Vec<String>,
    #[serde(default)]
    pub src_path: PathBuf,
}

#[derive(Debug, serde::Deserialize)]
pub struct MessageProfile {
    /// Whether the unit is a test harness build (`cargo test`'s lib and bin tests).
    #[serde(default)]
    pub test: bool,
}

impl Message {
    /// The message on `line`, or `None` for a line that is not one (cargo's human output).
    pub fn parse(line: &str) -> Option<Message> {
        serde_json::from_str(line).ok()
    }
}
