//! cargo-prebuild: cache Rust dependency compilation in its own container layer.
//!
//! `prepare` derives a skeleton (everything that affects dependency compilation, nothing
//! else); `cook` builds dependencies from it and removes every stub. The modules are public so
//! tests and benchmarks can call them in-process.
#![forbid(unsafe_code)]

pub mod cargo;
pub mod clean;
pub mod cli;
pub mod context;
pub mod cook;
pub mod diff;
pub mod flags;
pub mod freshness;
pub mod fs;
pub mod gate;
pub mod prepare;
pub mod record;
pub mod seed;
pub mod shell;
pub mod skeleton;
pub(crate) mod toml;
pub use cargo::units;
pub mod verify;
pub mod workspace;

use cli::{Cargo, Command};
use shell::Shell;

/// How a run failed: cargo's own exit code passes through (and `diff` exits 1 when the sides
/// differ); our errors exit 101.
#[derive(Debug)]
pub enum Failure {
    Cargo(u8),
    Error(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        Failure::Error(err)
    }
}

pub fn run(cli: Cargo, shell: &mut Shell) -> Result<(), Failure> {
    let Cargo::Prebuild(prebuild) = cli;
    match prebuild.command {
        Command::Prepare(args) => prepare::prepare(&args, shell)?,
        Command::Cook(args) => {
            if args.no_std {
                shell.note(
                    "`--no-std` is not needed: stubs are `no_std` and `no_main` already where \
                     the target has no `std`",
                );
            }
            let options = cook::CookOptions::from_args(&args, shell)?;
            exit_with(cook::cook(options, shell)?)?;
        }
        Command::Build(args) => {
            let options = verify::BuildOptions::for_build(&args, shell)?;
            exit_with(verify::build(&options, shell)?)?;
        }
        Command::Diff(args) => {
            let old = diff::load(&args.old)?;
            let new = diff::load(&args.new)?;
            let changes = diff::diff(&old, &new)?;
            let json = args.format == cli::DiffFormat::Json;
            // Exit 1 when the sides differ, as `diff` and `git diff --exit-code` do, so CI can
            // gate on it.
            if diff::print(&changes, json, &old, &new)? {
                return Err(Failure::Cargo(1));
            }
        }
        Command::Verify(args) => {
            let options = verify::BuildOptions::for_verify(&args, shell)?;
            exit_with(verify::build(&options, shell)?)?;
        }
    }
    Ok(())
}

fn exit_with(code: i32) -> Result<(), Failure> {
    if code == 0 {
        Ok(())
    } else {
        Err(Failure::Cargo(u8::try_from(code).unwrap_or(101)))
    }
}
