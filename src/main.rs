//! `cargo-prebuild` entry point: parse, run, map errors to exit codes.

use std::process::ExitCode;

use cargo_prebuild::{cli, run, shell::Shell, Failure};

fn main() -> ExitCode {
    let cli = cli::parse();
    let mut shell = Shell::from_output(cli.output());
    match run(cli, &mut shell) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Cargo(code)) => ExitCode::from(code),
        Err(Failure::Error(err)) => {
            shell.error(&err);
            ExitCode::from(101)
        }
    }
}
