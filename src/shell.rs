//! cargo-style status output on stderr: right-aligned bold status words, `warning:` and
//! `error:` lines with `Caused by:` chains, quiet and verbose levels, colour choice.

use std::io::Write;

use anstream::AutoStream;
use anstyle::{AnsiColor, Style};

use crate::cli::{ColorChoice, OutputArgs};

const GREEN: Style = AnsiColor::Green.on_default().bold();
const CYAN: Style = AnsiColor::Cyan.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
const RED: Style = AnsiColor::Red.on_default().bold();

/// How much to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Where people-facing messages go (always stderr; stdout is for data).
#[derive(Debug)]
pub struct Shell {
    verbosity: Verbosity,
    color: anstream::ColorChoice,
}

impl Shell {
    pub fn new(verbosity: Verbosity, color: ColorChoice) -> Self {
        let color = match color {
            ColorChoice::Auto => match std::env::var("CARGO_TERM_COLOR").as_deref() {
                Ok("always") => anstream::ColorChoice::Always,
                Ok("never") => anstream::ColorChoice::Never,
                _ => anstream::ColorChoice::Auto,
            },
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        };
        Shell { verbosity, color }
    }

    pub fn from_output(output: &OutputArgs) -> Self {
        let verbosity = if output.quiet {
            Verbosity::Quiet
        } else if output.verbose > 0 {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        Shell::new(verbosity, output.color.unwrap_or_default())
    }

    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    fn print(&self, status: &str, style: Style, justified: bool, message: &str) {
        let line = if justified {
            format!("{style}{status:>12}{style:#} {message}\n")
        } else {
            format!("{style}{status}{style:#} {message}\n")
        };
        self.write(&line);
    }

    /// Writes `text` to stderr. Uncoloured, it goes out in one write: a log that merges stdout
    /// and stderr (a Docker build's) then never splits a line around the digest on stdout.
    fn write(&self, text: &str) {
        let stream = AutoStream::new(std::io::stderr(), self.color);
        // Failing to write to stderr leaves nothing better to report to.
        let _ = if stream.current_choice() == anstream::ColorChoice::Never {
            let plain = anstream::adapter::strip_str(text).to_string();
            std::io::stderr().lock().write_all(plain.as_bytes())
        } else {
            stream.lock().write_all(text.as_bytes())
        };
    }

    /// A green status line such as `   Preparing skeleton`, hidden under `-q`.
    pub fn status(&self, status: &str, message: impl AsRef<str>) {
        if self.verbosity > Verbosity::Quiet {
            self.print(status, GREEN, true, message.as_ref());
        }
    }

    /// A cyan detail line, shown only under `-v`.
    pub fn verbose(&self, status: &str, message: impl AsRef<str>) {
        if self.verbosity >= Verbosity::Verbose {
            self.print(status, CYAN, true, message.as_ref());
        }
    }

    pub fn warn(&self, message: impl AsRef<str>) {
        if self.verbosity > Verbosity::Quiet {
            self.print("warning:", YELLOW, false, message.as_ref());
        }
    }

    pub fn note(&self, message: impl AsRef<str>) {
        if self.verbosity > Verbosity::Quiet {
            self.print("note:", CYAN, false, message.as_ref());
        }
    }

    /// An `error:` line that does not end the run.
    pub fn print_error(&self, message: &str) {
        self.print("error:", RED, false, message);
    }

    /// `error: ...` followed by cargo's `Caused by:` chain.
    pub fn error(&self, err: &anyhow::Error) {
        self.print("error:", RED, false, &err.to_string());
        let mut causes = err.chain().skip(1).peekable();
        if causes.peek().is_some() {
            let mut text = String::from("\nCaused by:\n");
            for cause in causes {
                text.push_str(&format!("  {cause}\n"));
            }
            self.write(&text);
        }
    }

    /// Colour setting to forward to child cargo processes.
    pub fn color_arg(&self) -> Option<&'static str> {
        match self.color {
            anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi => Some("always"),
            anstream::ColorChoice::Never => Some("never"),
            anstream::ColorChoice::Auto => None,
        }
    }
}
