//! cargo-prebuild: cache Rust dependency compilation in its own container layer.
//!
//! `prepare` derives a skeleton (everything that affects dependency compilation, nothing
//! else); `cook` builds dependencies from it and removes every stub. The modules are public so
//! tests and benchmarks can call them in-process.
#![forbid(unsafe_code)]

pub mod cargo;
pub mod cli;
pub mod cook;
pub mod fs;
pub mod prepare;
pub mod shell;
pub mod skeleton;
pub mod workspace;

use cli::{Cargo, Command};
use shell::Shell;

/// How a run failed: cargo's own exit code passes through; our errors exit 101.
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
            let options = cook::CookOptions::from_args(&args, shell)?;
            let code = cook::cook(&options, shell)?;
            if code != 0 {
                return Err(Failure::Cargo(u8::try_from(code).unwrap_or(101)));
            }
        }
    }
    Ok(())
}
