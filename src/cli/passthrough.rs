//! Every flag of the installed `cargo build` on cook, build and verify: a flag they do not
//! define is looked up in `cargo build --help` (only then, so a known command line costs no
//! process), added to the command line parser and forwarded to cargo as given.

use std::ffi::OsString;

use clap::{CommandFactory, FromArgMatches, Parser};

use super::{Cargo, Command};

/// The subcommands that take every `cargo build` flag.
const BUILD_LIKE: [&str; 3] = ["cook", "build", "verify"];

/// Parses `args`. A flag cook, build or verify do not define themselves is looked up in the
/// installed cargo's own list (`cargo_flags`, which runs `cargo build --help`, asked only
/// then, so a known command line costs no process) and forwarded to cargo as given: every
/// flag of this cargo is accepted, including ones added after this tool was written.
pub fn try_parse_from(
    args: Vec<OsString>,
    cargo_flags: impl FnOnce() -> Vec<CargoFlag>,
) -> Result<Cargo, clap::Error> {
    let err = match Cargo::try_parse_from(&args) {
        Ok(cli) => return Ok(cli),
        Err(err) => err,
    };
    let is_build_like = args
        .iter()
        .skip(2)
        .find(|a| !a.to_string_lossy().starts_with('-'))
        .is_some_and(|a| BUILD_LIKE.iter().any(|c| a == c));
    if err.kind() != clap::error::ErrorKind::UnknownArgument || !is_build_like {
        return Err(err);
    }
    let flags = cargo_flags();
    let mut cmd = Cargo::command();
    let mut added: Vec<(String, CargoFlag)> = Vec::new();
    cmd = cmd.mut_subcommand("prebuild", |mut prebuild| {
        for name in BUILD_LIKE {
            prebuild = prebuild.mut_subcommand(name, |sub| {
                let (sub, ids) = add_cargo_flags(sub, &flags);
                for id in ids {
                    if !added.iter().any(|(a, _)| a == &id.0) {
                        added.push(id);
                    }
                }
                sub
            });
        }
        prebuild
    });
    let matches = cmd.try_get_matches_from(&args)?;
    let mut cli = Cargo::from_arg_matches(&matches)?;
    let sub = matches
        .subcommand_matches("prebuild")
        .and_then(|m| m.subcommand())
        .map(|(_, m)| m);
    let mut passthrough = Vec::new();
    if let Some(m) = sub {
        for (id, flag) in &added {
            flag.forward(m, id, &mut passthrough);
        }
    }
    let Cargo::Prebuild(prebuild) = &mut cli;
    match &mut prebuild.command {
        Command::Cook(a) => a.build.passthrough = passthrough,
        Command::Build(a) => a.build.passthrough = passthrough,
        Command::Verify(a) => a.build.passthrough = passthrough,
        Command::Prepare(_) | Command::Diff(_) => {}
    }
    Ok(cli)
}

/// One flag of `cargo build --help`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoFlag {
    pub long: String,
    pub short: Option<char>,
    pub value: FlagValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagValue {
    /// `--keep-going`
    None,
    /// `--artifact-dir <PATH>`
    Required,
    /// `--timings[=<FMTS>]` (`equals`) or `--bin [<NAME>]`
    Optional { equals: bool },
}

impl CargoFlag {
    fn id(&self) -> String {
        format!("cargo-flag-{}", self.long)
    }

    fn arg(&self, short_free: bool) -> clap::Arg {
        let mut arg = clap::Arg::new(self.id())
            .long(self.long.clone())
            .help("Forwarded to cargo (see `cargo build --help`)")
            .help_heading("Other cargo build options");
        if let Some(short) = self.short.filter(|_| short_free) {
            arg = arg.short(short);
        }
        match self.value {
            FlagValue::None => arg.action(clap::ArgAction::Count),
            FlagValue::Required => arg
                .action(clap::ArgAction::Append)
                .value_parser(clap::value_parser!(OsString))
                .allow_hyphen_values(true),
            FlagValue::Optional { equals } => arg
                .action(clap::ArgAction::Append)
                .value_parser(clap::value_parser!(OsString))
                .num_args(0..=1)
                .require_equals(equals),
        }
    }

    /// Appends the flag as given on the command line, once per occurrence.
    fn forward(&self, m: &clap::ArgMatches, id: &str, out: &mut Vec<OsString>) {
        let flag = format!("--{}", self.long);
        if self.value == FlagValue::None {
            for _ in 0..m.get_count(id) {
                out.push(flag.clone().into());
            }
            return;
        }
        let Some(occurrences) = m.get_raw_occurrences(id) else {
            return;
        };
        for values in occurrences {
            let values: Vec<&std::ffi::OsStr> = values.collect();
            match values.as_slice() {
                [] => out.push(flag.clone().into()),
                values => {
                    for value in values {
                        let mut arg = OsString::from(format!("{flag}="));
                        arg.push(value);
                        out.push(arg);
                    }
                }
            }
        }
    }
}

/// Adds the flags `sub` lacks; returns it with `(id, flag)` of each added.
fn add_cargo_flags(
    mut sub: clap::Command,
    flags: &[CargoFlag],
) -> (clap::Command, Vec<(String, CargoFlag)>) {
    let mut added = Vec::new();
    for flag in flags {
        let known = flag.long == "help"
            || sub.get_arguments().any(|a| {
                a.get_long_and_visible_aliases()
                    .is_some_and(|names| names.contains(&flag.long.as_str()))
            });
        if known {
            continue;
        }
        let short_free = flag
            .short
            .is_some_and(|s| s != 'h' && !sub.get_arguments().any(|a| a.get_short() == Some(s)));
        sub = sub.arg(flag.arg(short_free));
        added.push((flag.id(), flag.clone()));
    }
    (sub, added)
}

/// The flags listed by `cargo build --help` (or any cargo help page).
pub fn parse_cargo_help(help: &str) -> Vec<CargoFlag> {
    let mut flags = Vec::new();
    for line in help.lines() {
        let mut rest = line.trim_start();
        if !rest.starts_with('-') {
            continue;
        }
        let mut short = None;
        if !rest.starts_with("--") {
            short = rest.chars().nth(1);
            rest = rest
                .get(2..)
                .unwrap_or("")
                .trim_start_matches(',')
                .trim_start();
            if !rest.starts_with("--") {
                continue;
            }
        }
        // The description starts after a run of spaces.
        let spec = rest.split("  ").next().unwrap_or(rest).trim_end();
        let body = &spec[2..];
        let end = body.find([' ', '[', '=', '.']).unwrap_or(body.len());
        let long = &body[..end];
        if long.is_empty() {
            continue;
        }
        let after = &body[end..];
        let value = if after.starts_with("[=") {
            FlagValue::Optional { equals: true }
        } else if after.starts_with(" [") {
            FlagValue::Optional { equals: false }
        } else if after.starts_with(" <") || after.starts_with('=') {
            FlagValue::Required
        } else {
            FlagValue::None
        };
        flags.push(CargoFlag {
            long: long.to_string(),
            short,
            value,
        });
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_help_lines_are_read_as_flags() {
        let help = "Options:\n      --future-incompat-report   Outputs a report\n  -v, --verbose...    Use verbose\n  -Z <FLAG>   Unstable\n  -p, --package [<SPEC>]  Package\n      --timings[=<FMTS>]  Timings\n      --artifact-dir <PATH>     Copy (unstable)\n";
        let flags = parse_cargo_help(help);
        let spelled: Vec<(String, Option<char>, FlagValue)> = flags
            .into_iter()
            .map(|f| (f.long, f.short, f.value))
            .collect();
        assert_eq!(
            spelled,
            [
                ("future-incompat-report".to_string(), None, FlagValue::None),
                ("verbose".to_string(), Some('v'), FlagValue::None),
                (
                    "package".to_string(),
                    Some('p'),
                    FlagValue::Optional { equals: false }
                ),
                (
                    "timings".to_string(),
                    None,
                    FlagValue::Optional { equals: true }
                ),
                ("artifact-dir".to_string(), None, FlagValue::Required),
            ]
        );
    }
}
