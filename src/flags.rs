//! cargo's build flags, turned back into command lines for each cargo call we make (the
//! build itself, `fetch`, `clean`, `metadata`), with cargo's meanings kept.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Result;

use crate::cli::BuildArgs;
use crate::context::{Output, Targets};
use crate::shell::Shell;

/// What a build asks for, as plain data: clap's types stop here, at the command layer.
#[derive(Debug, Clone, Default)]
pub struct Asked {
    pub packages: Vec<String>,
    pub workspace: bool,
    pub exclude: Vec<String>,
    /// `--features` values as given (comma- or space-separated lists).
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
    pub release: bool,
    pub profile: Option<String>,
    /// `--target` triples as given.
    pub targets: Vec<String>,
    /// `--target-dir`, absolute.
    pub target_dir: Option<PathBuf>,
    /// `--config` arguments (`KEY=VALUE` or a file path).
    pub config: Vec<String>,
    /// `-Z` flags.
    pub unstable: Vec<String>,
    /// Whether the target selection takes tests, examples or benches (dev-dependencies).
    pub dev_targets: bool,
}

impl Asked {
    /// The profile's name: `dev`, `release` or a custom one.
    pub fn profile(&self) -> &str {
        if self.release {
            "release"
        } else {
            self.profile.as_deref().unwrap_or("dev")
        }
    }

    /// The directory cargo names after the profile.
    pub fn profile_dir(&self) -> &str {
        match self.profile() {
            "dev" | "test" => "debug",
            "release" | "bench" => "release",
            custom => custom,
        }
    }
}

/// Resolved build flags: absolute paths, colour decided.
#[derive(Debug, Clone)]
pub struct Flags {
    pub asked: Asked,
    /// Target selection as given, and widened to whole kinds (see [`Flags::target_selection`]).
    targets_given: Vec<OsString>,
    targets_widened: Vec<OsString>,
    selection: Vec<OsString>,
    features: Vec<OsString>,
    /// Flags that decide where artifacts go: profile, targets, target dir.
    locate: Vec<OsString>,
    scheduling: Vec<OsString>,
    /// `--timings`: a report of the run it is given to, so not for helper builds.
    timings: Vec<OsString>,
    /// Flags of the installed cargo that we do not define, forwarded as given.
    passthrough: Vec<OsString>,
    message_format: Vec<OsString>,
    /// `--locked`, `--offline`, `--frozen`, `--config`, `-Z`: every cargo call takes them.
    common: Vec<OsString>,
    output: Vec<OsString>,
    color: Option<&'static str>,
}

fn push(v: &mut Vec<OsString>, items: &[&str]) {
    v.extend(items.iter().map(OsString::from));
}

impl Flags {
    pub fn from_args(args: &BuildArgs, shell: &Shell) -> Result<Flags> {
        let mut selection = Vec::new();
        for p in &args.packages.package {
            push(&mut selection, &["--package", p]);
        }
        if args.packages.workspace {
            push(&mut selection, &["--workspace"]);
        }
        for p in &args.packages.exclude {
            push(&mut selection, &["--exclude", p]);
        }
        let f = &args.features;
        let mut features = Vec::new();
        for feature in &f.features {
            push(&mut features, &["--features", feature]);
        }
        if f.all_features {
            push(&mut features, &["--all-features"]);
        }
        if f.no_default_features {
            push(&mut features, &["--no-default-features"]);
        }
        let c = &args.compile;
        let mut locate = Vec::new();
        if c.release {
            push(&mut locate, &["--release"]);
        }
        if let Some(profile) = &c.profile {
            push(&mut locate, &["--profile", profile]);
        }
        for target in &c.target {
            push(&mut locate, &["--target", target]);
        }
        let target_dir = c
            .target_dir
            .as_deref()
            .map(crate::fs::absolute)
            .transpose()?;
        if let Some(dir) = &target_dir {
            locate.push("--target-dir".into());
            locate.push(dir.clone().into_os_string());
        }
        let mut scheduling = Vec::new();
        if let Some(jobs) = &c.jobs {
            push(&mut scheduling, &["--jobs", jobs]);
        }
        let mut timings = Vec::new();
        match &c.timings {
            Some(Some(fmts)) => timings.push(format!("--timings={fmts}").into()),
            Some(None) => push(&mut timings, &["--timings"]),
            None => {}
        }
        let mut message_format = Vec::new();
        for format in &args.output.message_format {
            push(&mut message_format, &["--message-format", format]);
        }
        let m = &args.manifest;
        let mut common = Vec::new();
        for (on, flag) in [
            (m.locked, "--locked"),
            (m.offline, "--offline"),
            (m.frozen, "--frozen"),
        ] {
            if on {
                push(&mut common, &[flag]);
            }
        }
        for config in &m.config {
            push(&mut common, &["--config", config]);
        }
        for z in &m.unstable {
            push(&mut common, &["-Z", z]);
        }
        let o = &args.output;
        let mut output = Vec::new();
        if o.quiet {
            push(&mut output, &["--quiet"]);
        }
        for _ in 0..o.verbose {
            push(&mut output, &["--verbose"]);
        }
        let color = shell.color_arg();
        if let Some(color) = color {
            push(&mut output, &["--color", color]);
        }
        let t = &args.targets;
        let asked = Asked {
            packages: args.packages.package.clone(),
            workspace: args.packages.workspace,
            exclude: args.packages.exclude.clone(),
            features: f.features.clone(),
            all_features: f.all_features,
            no_default_features: f.no_default_features,
            release: c.release,
            profile: c.profile.clone(),
            targets: c.target.clone(),
            target_dir,
            config: m.config.clone(),
            unstable: m.unstable.clone(),
            dev_targets: t.all_targets
                || t.tests
                || t.examples
                || t.benches
                || !t.test.is_empty()
                || !t.example.is_empty()
                || !t.bench.is_empty(),
        };
        Ok(Flags {
            asked,
            targets_given: target_selection(args, false),
            targets_widened: target_selection(args, true),
            selection,
            features,
            locate,
            scheduling,
            timings,
            passthrough: args.passthrough.clone(),
            message_format,
            common,
            output,
            color,
        })
    }

    fn target_selection(&self, widen: bool) -> Vec<OsString> {
        if widen {
            self.targets_widened.clone()
        } else {
            self.targets_given.clone()
        }
    }

    /// Arguments for `cargo build` (or check, clippy, test, doc), without the subcommand: the
    /// same units whatever `output` asks to print. For [`Output::Listing`] the user's output
    /// flags go (the caller adds `--quiet`, which cargo rejects beside `-v`), and so do the
    /// message format and the timings report, which belong to the run they are given to.
    pub fn build_args(&self, targets: Targets, output: Output) -> Vec<OsString> {
        let mut out = self.selection.clone();
        out.extend(self.target_selection(targets == Targets::Skeleton));
        out.extend(self.features.iter().cloned());
        out.extend(self.locate.iter().cloned());
        out.extend(self.scheduling.iter().cloned());
        if output != Output::Listing {
            out.extend(self.timings.iter().cloned());
        }
        if output == Output::User {
            out.extend(self.message_format.iter().cloned());
        }
        out.extend(self.common.iter().cloned());
        out.extend(self.passthrough.iter().cloned());
        if output == Output::Listing {
            if let Some(color) = self.color {
                push(&mut out, &["--color", color]);
            }
        } else {
            out.extend(self.output.iter().cloned());
        }
        out
    }

    /// Arguments for `cargo fetch`.
    pub fn fetch_args(&self) -> Vec<OsString> {
        let mut out = Vec::new();
        for target in &self.asked.targets {
            push(&mut out, &["--target", target]);
        }
        out.extend(self.common.iter().cloned());
        out.extend(self.output.iter().cloned());
        out
    }

    /// Arguments for quiet helper calls (`cargo clean -p`, `cargo metadata`): where artifacts
    /// go and how cargo is configured, nothing else.
    pub fn locate_args(&self, with_locate: bool) -> Vec<OsString> {
        let mut out = if with_locate {
            self.locate.clone()
        } else {
            Vec::new()
        };
        out.extend(self.common.iter().cloned());
        if let Some(color) = self.color {
            push(&mut out, &["--color", color]);
        }
        out
    }

    pub fn user_message_format(&self) -> bool {
        !self.message_format.is_empty()
    }
}

/// Target selection as given, or widened to whole kinds for a skeleton, whose stub targets
/// carry reserved names (every target of a kind in a package compiles the same
/// dependencies).
fn target_selection(args: &BuildArgs, widen: bool) -> Vec<OsString> {
    let t = &args.targets;
    let mut out = Vec::new();
    if t.lib {
        push(&mut out, &["--lib"]);
    }
    for (named, all, flag, one) in [
        (&t.bin, t.bins, "--bins", "--bin"),
        (&t.example, t.examples, "--examples", "--example"),
        (&t.test, t.tests, "--tests", "--test"),
        (&t.bench, t.benches, "--benches", "--bench"),
    ] {
        if all || (widen && !named.is_empty()) {
            push(&mut out, &[flag]);
        } else {
            for name in named {
                push(&mut out, &[one, name]);
            }
        }
    }
    if t.all_targets {
        push(&mut out, &["--all-targets"]);
    }
    out
}
