//! The flag groups `cook`, `build` and `verify` share with `cargo build`, spelled, grouped and
//! documented as cargo does (clap derive only).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// The flags `cargo build` takes, shared by cook, build and verify with cargo's meanings.
#[derive(Debug, Args, Default, Clone)]
pub struct BuildArgs {
    #[command(flatten)]
    pub packages: PackageArgs,

    #[command(flatten)]
    pub targets: TargetArgs,

    #[command(flatten)]
    pub features: FeatureArgs,

    #[command(flatten)]
    pub compile: CompileArgs,

    #[command(flatten)]
    pub manifest: LockArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Other flags of the installed `cargo build` (see [`parse`]), forwarded as given.
    #[arg(skip)]
    pub passthrough: Vec<OsString>,
}

/// `--manifest-path` of cook, build and verify: they run in the manifest's directory.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Manifest Options")]
pub struct ManifestPathArg {
    /// Path to Cargo.toml (cook: where the real one will be; it need not exist yet)
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

impl ManifestPathArg {
    /// The directory to run in: the manifest's, else the current one.
    pub fn dir(&self) -> anyhow::Result<PathBuf> {
        let Some(path) = &self.manifest_path else {
            return Ok(std::env::current_dir()?);
        };
        if path.file_name().is_none_or(|n| n != "Cargo.toml") {
            anyhow::bail!(
                "the manifest-path must be a path to a Cargo.toml file: `{}`",
                path.display()
            );
        }
        let path = crate::fs::absolute(path)?;
        Ok(path
            .parent()
            .map_or_else(|| path.clone(), std::path::Path::to_path_buf))
    }
}

#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Package Selection")]
pub struct PackageArgs {
    /// Package to build (see `cargo help pkgid`)
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    pub package: Vec<String>,

    /// Build all packages in the workspace
    #[arg(long, visible_alias = "all")]
    pub workspace: bool,

    /// Exclude packages from the build
    #[arg(long, value_name = "SPEC", requires = "workspace")]
    pub exclude: Vec<String>,
}

#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Target Selection")]
pub struct TargetArgs {
    /// Build only this package's library
    #[arg(long)]
    pub lib: bool,
    /// Build only the specified binary
    #[arg(long, value_name = "NAME")]
    pub bin: Vec<String>,
    /// Build all binaries
    #[arg(long)]
    pub bins: bool,
    /// Build only the specified example
    #[arg(long, value_name = "NAME")]
    pub example: Vec<String>,
    /// Build all examples
    #[arg(long)]
    pub examples: bool,
    /// Build only the specified test target
    #[arg(long, value_name = "NAME")]
    pub test: Vec<String>,
    /// Build all targets that have `test = true` set
    #[arg(long)]
    pub tests: bool,
    /// Build only the specified bench target
    #[arg(long, value_name = "NAME")]
    pub bench: Vec<String>,
    /// Build all targets that have `bench = true` set
    #[arg(long)]
    pub benches: bool,
    /// Build all targets
    #[arg(long)]
    pub all_targets: bool,
}

#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Feature Selection")]
pub struct FeatureArgs {
    /// Space or comma separated list of features to activate
    #[arg(short = 'F', long, value_name = "FEATURES")]
    pub features: Vec<String>,
    /// Activate all available features
    #[arg(long)]
    pub all_features: bool,
    /// Do not activate the `default` feature
    #[arg(long)]
    pub no_default_features: bool,
}

#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Compilation Options")]
pub struct CompileArgs {
    /// Build artifacts in release mode, with optimizations
    #[arg(short = 'r', long, conflicts_with = "profile")]
    pub release: bool,
    /// Build artifacts with the specified profile
    #[arg(long, value_name = "PROFILE-NAME")]
    pub profile: Option<String>,
    /// Build for the target triple (repeatable)
    #[arg(long, value_name = "TRIPLE")]
    pub target: Vec<String>,
    /// Directory for all generated artifacts
    #[arg(long, value_name = "DIRECTORY")]
    pub target_dir: Option<PathBuf>,
    /// Number of parallel jobs
    #[arg(short = 'j', long, value_name = "N", allow_hyphen_values = true)]
    pub jobs: Option<String>,
    /// Output a build timing report at the end of the build
    #[arg(long, value_name = "FMTS", num_args = 0..=1, require_equals = true)]
    pub timings: Option<Option<String>>,
}

#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Manifest Options")]
pub struct LockArgs {
    /// Assert that `Cargo.lock` will remain unchanged
    #[arg(long)]
    pub locked: bool,
    /// Run without accessing the network
    #[arg(long)]
    pub offline: bool,
    /// Equivalent to specifying both --locked and --offline
    #[arg(long)]
    pub frozen: bool,
    /// Override a configuration value
    #[arg(long, value_name = "KEY=VALUE|PATH")]
    pub config: Vec<String>,
    /// Unstable (nightly-only) flags to Cargo
    #[arg(short = 'Z', value_name = "FLAG")]
    pub unstable: Vec<String>,
}

#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Output Options")]
pub struct OutputArgs {
    /// Use verbose output (-vv very verbose/build.rs output)
    #[arg(short = 'v', long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Do not print cargo log messages
    #[arg(short = 'q', long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Coloring
    #[arg(long, value_enum, value_name = "WHEN", global = true)]
    pub color: Option<ColorChoice>,
    /// Error format (forwarded to cargo)
    #[arg(long, value_name = "FMT")]
    pub message_format: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}
