//! Command-line definitions (clap derive only): the `cargo prebuild` wrapper, `prepare` and
//! `cook` arguments, and the flag groups shared with cargo, spelled and grouped as cargo does.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod build_args;
mod passthrough;
pub use build_args::{
    BuildArgs, ColorChoice, CompileArgs, FeatureArgs, LockArgs, ManifestPathArg, OutputArgs,
    PackageArgs, TargetArgs,
};
pub use passthrough::{parse_cargo_help, try_parse_from, CargoFlag, FlagValue};

/// `cargo` wrapper so that `cargo prebuild <cmd>` parses as cargo hands it to us.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo", styles = clap_cargo_styles())]
pub enum Cargo {
    Prebuild(Prebuild),
}

/// Cache Rust dependency compilation in its own container layer.
///
/// `prepare` writes a skeleton of the workspace: exactly what affects dependency compilation.
/// `cook` builds the dependencies from that skeleton, then removes every file it laid out.
#[derive(Debug, Args)]
#[command(version, about, long_about)]
pub struct Prebuild {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the skeleton of a workspace: manifests, lockfile, config, toolchain file, stubs
    Prepare(PrepareArgs),
    /// Lay a skeleton out here, build its dependencies, then remove every laid-out file
    Cook(Box<CookArgs>),
    /// Run the real `cargo build`, warning first where it differs from how cook ran
    Build(Box<BuildCmdArgs>),
    /// Build (a no-op when up to date) and check: no external package recompiled, no stub
    Verify(Box<VerifyArgs>),
    /// Explain a cache miss: what changed between two skeletons (or a skeleton and a workspace)
    Diff(DiffArgs),
}

#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// Directory to write the skeleton to (replaced wholly if it holds an earlier skeleton)
    #[arg(long, value_name = "DIR", required_unless_present = "dry_run")]
    pub skeleton: Option<PathBuf>,

    /// Print the skeleton's files and digest without writing anything
    #[arg(long)]
    pub dry_run: bool,

    /// Path to Cargo.toml
    #[arg(long, value_name = "PATH", help_heading = "Manifest Options")]
    pub manifest_path: Option<PathBuf>,

    /// Per-image skeleton: only this member and what it needs (repeatable)
    #[arg(
        short = 'p',
        long = "package",
        value_name = "SPEC",
        help_heading = "Package Selection"
    )]
    pub package: Vec<String>,

    /// Per-image skeleton: only the member owning this binary and what it needs (repeatable)
    #[arg(long, value_name = "NAME", help_heading = "Package Selection")]
    pub bin: Vec<String>,

    /// Keep this local package real in the skeleton (repeatable): its sources go in, so cook
    /// compiles it and the skeleton changes when they do. For stable crates (a generated
    /// protocol crate, a vendored fork); it may depend only on external and other real
    /// packages. Also `[workspace.metadata.cargo-prebuild] real = [...]`
    #[arg(long, value_name = "NAME")]
    pub real: Vec<String>,

    /// `--locked`, `--offline`, `--frozen`, `--config`, `-Z`, for the cargo calls prepare makes
    #[command(flatten)]
    pub lock: LockArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// What cook asks cargo to do with the skeleton.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum CookCommand {
    /// `cargo build`
    #[default]
    Build,
    /// `cargo check`
    Check,
    /// `cargo clippy`
    Clippy,
    /// `cargo test --no-run`
    Test,
    /// `cargo doc`
    Doc,
    /// `cargo zigbuild` (cargo-zigbuild: zig links and compiles C; its settings change every
    /// fingerprint, so cook with it when the real build uses it)
    Zigbuild,
}

impl From<CookCommand> for crate::context::Subcommand {
    fn from(command: CookCommand) -> Self {
        use crate::context::Subcommand;
        match command {
            CookCommand::Build => Subcommand::Build,
            CookCommand::Check => Subcommand::Check,
            CookCommand::Clippy => Subcommand::Clippy,
            CookCommand::Test => Subcommand::Test,
            CookCommand::Doc => Subcommand::Doc,
            CookCommand::Zigbuild => Subcommand::Zigbuild,
        }
    }
}

#[derive(Debug, Args)]
pub struct CookArgs {
    /// Skeleton directory written by `cargo prebuild prepare`
    #[arg(long, value_name = "DIR")]
    pub skeleton: PathBuf,

    /// Cargo command to cook with
    #[arg(long, value_enum, default_value_t, value_name = "COMMAND")]
    pub command: CookCommand,

    /// Same as `--command check` (cargo-chef's spelling)
    #[arg(long, conflicts_with_all = ["command", "clippy", "zigbuild"])]
    pub check: bool,

    /// Same as `--command clippy` (cargo-chef's spelling)
    #[arg(long, conflicts_with_all = ["command", "zigbuild"])]
    pub clippy: bool,

    /// Same as `--command zigbuild` (cargo-chef's spelling)
    #[arg(long, conflicts_with = "command")]
    pub zigbuild: bool,

    /// Only download dependencies (`cargo fetch`), build nothing: a download-only layer
    #[arg(long, conflicts_with_all = ["command", "check", "clippy", "zigbuild"])]
    pub fetch_only: bool,

    /// Lay the skeleton out and stop, leaving it in place for a command of your own. Its files
    /// stay until the real sources are copied over them; a later cook in this directory
    /// removes the ones still unchanged
    #[arg(long, conflicts_with_all = ["fetch_only", "seed"])]
    pub no_build: bool,

    /// Start from the target directory of an earlier cook (e.g. copied from the previous
    /// dependency image): reuse what is still fresh, prune what the graph no longer uses
    #[arg(long, value_name = "DIR", conflicts_with = "fetch_only")]
    pub seed: Option<PathBuf>,

    /// Accepted for cargo-chef's Dockerfiles and not needed: stubs are `no_std`/`no_main`
    /// already where there is no `std`
    #[arg(long)]
    pub no_std: bool,

    #[command(flatten)]
    pub manifest_path: ManifestPathArg,

    #[command(flatten)]
    pub build: BuildArgs,

    /// Extra arguments appended to the cargo command line
    #[arg(last = true, value_name = "ARGS")]
    pub extra: Vec<OsString>,
}

/// `cargo prebuild build`: the real build, checked against how cook ran.
#[derive(Debug, Args)]
pub struct BuildCmdArgs {
    /// After building, report recompiled external packages and any stub artifact (as `verify`)
    #[arg(long)]
    pub verify: bool,

    /// Fail before building when the build differs from cook in a way that recompiles
    /// dependencies
    #[arg(long)]
    pub deny_rebuild: bool,

    /// Remove the local crates' artifacts first (`cargo clean -p` for each), so they are
    /// rebuilt from these sources whatever their mtimes: for target dirs shared between
    /// builds (cache mounts), where another branch's newer artifacts could pass as fresh
    #[arg(long)]
    pub rebuild_local: bool,

    /// Judge local crates by content: plant DIR (the target directory of the previous final
    /// build, e.g. copied from the previous builder image) over this target directory, then
    /// recompile only the local crates whose files changed, and their dependents. Rewrites
    /// source mtimes
    #[arg(long, value_name = "DIR", conflicts_with = "rebuild_local")]
    pub seed: Option<PathBuf>,

    /// Judge local crates by content in this target directory as it is (a cache mount):
    /// recompile only the local crates whose files changed since the last such build, and
    /// their dependents, whatever the mtimes. Rewrites source mtimes
    #[arg(long, conflicts_with_all = ["rebuild_local", "seed"])]
    pub content_freshness: bool,

    #[command(flatten)]
    pub manifest_path: ManifestPathArg,

    #[command(flatten)]
    pub build: BuildArgs,

    /// Extra arguments appended to the cargo command line
    #[arg(last = true, value_name = "ARGS")]
    pub extra: Vec<OsString>,
}

/// `cargo prebuild verify`: prove the build output holds no stub and reused the cook.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub manifest_path: ManifestPathArg,

    #[command(flatten)]
    pub build: BuildArgs,

    /// Extra arguments appended to the cargo command line
    #[arg(last = true, value_name = "ARGS")]
    pub extra: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier skeleton directory (or workspace directory)
    pub old: PathBuf,
    /// The later skeleton directory (or workspace directory)
    pub new: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: DiffFormat,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DiffFormat {
    /// For people
    #[default]
    Human,
    /// One JSON object
    Json,
}

impl Cargo {
    pub fn output(&self) -> &OutputArgs {
        let Cargo::Prebuild(prebuild) = self;
        match &prebuild.command {
            Command::Prepare(args) => &args.output,
            Command::Cook(args) => &args.build.output,
            Command::Build(args) => &args.build.output,
            Command::Verify(args) => &args.build.output,
            Command::Diff(args) => &args.output,
        }
    }
}

/// Parse `std::env::args`, accepting both `cargo prebuild <cmd>` (as cargo runs us) and a
/// direct `cargo-prebuild <cmd>` (then `prebuild` is inserted, as cargo-semver-checks does).
pub fn parse() -> Cargo {
    let args = normalize_args(std::env::args_os());
    let cargo_flags = || {
        let dir = std::env::current_dir().unwrap_or_default();
        crate::cargo::build_flags(&dir).unwrap_or_default()
    };
    try_parse_from(args, cargo_flags).unwrap_or_else(|err| err.exit())
}

pub fn normalize_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_none_or(|arg| arg != "prebuild") {
        args.insert(1.min(args.len()), OsString::from("prebuild"));
    }
    move_output_flags_after_command(&mut args);
    args
}

/// `cargo prebuild -q prepare` means `cargo prebuild prepare -q`, as `cargo -q build` means
/// `cargo build -q`: output flags before the command move behind it.
fn move_output_flags_after_command(args: &mut Vec<OsString>) {
    let mut moved = Vec::new();
    let i = 2;
    while let Some(arg) = args.get(i).map(|a| a.to_string_lossy().into_owned()) {
        let is_flag = arg == "-q"
            || arg == "--quiet"
            || arg == "--verbose"
            || arg.starts_with("--color=")
            || (arg.len() > 1 && arg.starts_with('-') && arg[1..].chars().all(|c| c == 'v'));
        if is_flag {
            moved.push(args.remove(i));
        } else if arg == "--color" && i + 1 < args.len() {
            moved.push(args.remove(i));
            moved.push(args.remove(i));
        } else {
            break;
        }
    }
    if moved.is_empty() {
        return;
    }
    // Behind the command name, if there is one; else back where they were, for clap to judge.
    let at = if i < args.len() { i + 1 } else { 2 };
    for (n, arg) in moved.into_iter().enumerate() {
        args.insert(at + n, arg);
    }
}

fn clap_cargo_styles() -> clap::builder::Styles {
    use anstyle::{AnsiColor, Effects};
    clap::builder::Styles::styled()
        .header(AnsiColor::Green.on_default().effects(Effects::BOLD))
        .usage(AnsiColor::Green.on_default().effects(Effects::BOLD))
        .literal(AnsiColor::Cyan.on_default().effects(Effects::BOLD))
        .placeholder(AnsiColor::Cyan.on_default())
        .error(AnsiColor::Red.on_default().effects(Effects::BOLD))
        .valid(AnsiColor::Cyan.on_default().effects(Effects::BOLD))
        .invalid(AnsiColor::Yellow.on_default().effects(Effects::BOLD))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cargo::command().debug_assert();
    }

    #[test]
    fn direct_invocation_gets_prebuild_inserted() {
        let args = normalize_args(["cargo-prebuild", "prepare"].map(OsString::from));
        assert_eq!(
            args,
            ["cargo-prebuild", "prebuild", "prepare"].map(OsString::from)
        );
        let args = normalize_args(["cargo-prebuild", "prebuild", "cook"].map(OsString::from));
        assert_eq!(
            args,
            ["cargo-prebuild", "prebuild", "cook"].map(OsString::from)
        );
        let args = normalize_args(
            [
                "cargo-prebuild",
                "-q",
                "--color",
                "never",
                "prepare",
                "--dry-run",
            ]
            .map(OsString::from),
        );
        assert_eq!(
            args,
            [
                "cargo-prebuild",
                "prebuild",
                "prepare",
                "-q",
                "--color",
                "never",
                "--dry-run"
            ]
            .map(OsString::from)
        );
    }
}
