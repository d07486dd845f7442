//! cargo's build flags, turned back into command lines for each cargo call we make (the
//! build itself, `fetch`, `clean`, `metadata`), with cargo's meanings kept.

use std::ffi::OsString;

use anyhow::Result;

use crate::cli::BuildArgs;
use crate::shell::Shell;

/// Resolved build flags: absolute paths, colour decided.
#[derive(Debug, Clone)]
pub struct Flags {
    pub args: BuildArgs,
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
        if let Some(dir) = &c.target_dir {
            locate.push("--target-dir".into());
            locate.push(crate::fs::absolute(dir)?.into_os_string());
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
        Ok(Flags {
            args: args.clone(),
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

    /// Target selection as given, or widened to whole kinds for a skeleton, whose stub targets
    /// carry reserved names (every target of a kind in a package compiles the same
    /// dependencies).
    fn target_selection(&self, widen: bool) -> Vec<OsString> {
        let t = &self.args.targets;
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

    /// Arguments for `cargo build` (or check, clippy, test, doc), without the subcommand.
    pub fn build_args(&self, widen_targets: bool, message_format: bool) -> Vec<OsString> {
        let mut out = self.selection.clone();
        out.extend(self.target_selection(widen_targets));
        out.extend(self.features.iter().cloned());
        out.extend(self.locate.iter().cloned());
        out.extend(self.scheduling.iter().cloned());
        out.extend(self.timings.iter().cloned());
        if message_format {
            out.extend(self.message_format.iter().cloned());
        }
        out.extend(self.common.iter().cloned());
        out.extend(self.passthrough.iter().cloned());
        out.extend(self.output.iter().cloned());
        out
    }

    /// Arguments for a build run only to read its JSON messages (the seeded cook's listing,
    /// the unit graph): the same units as [`Flags::build_args`], without the user's output
    /// flags (the caller adds `--quiet`; cargo rejects it beside `-v`), message format or
    /// timings report.
    pub fn listing_args(&self, widen_targets: bool) -> Vec<OsString> {
        let mut out = self.selection.clone();
        out.extend(self.target_selection(widen_targets));
        out.extend(self.features.iter().cloned());
        out.extend(self.locate.iter().cloned());
        out.extend(self.scheduling.iter().cloned());
        out.extend(self.common.iter().cloned());
        out.extend(self.passthrough.iter().cloned());
        if let Some(color) = self.color {
            push(&mut out, &["--color", color]);
        }
        out
    }

    /// Arguments for `cargo fetch`.
    pub fn fetch_args(&self) -> Vec<OsString> {
        let mut out = Vec::new();
        for target in &self.args.compile.target {
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

    /// Arguments for `cargo clean -p` in `dir`: like [`Flags::locate_args`], plus the config's
    /// `build.target` when no `--target` is given (`cargo clean` does not apply it itself).
    pub fn clean_args(&self, dir: &std::path::Path) -> Result<Vec<OsString>> {
        let mut out = self.locate_args(true);
        if self.args.compile.target.is_empty() {
            let configs = crate::skeleton::cargo_configs(dir)?;
            for target in crate::skeleton::build_targets(&configs)? {
                push(&mut out, &["--target", &target]);
            }
        }
        Ok(out)
    }

    /// The `--target-dir` given on the command line, if any.
    pub fn target_dir(&self) -> Option<OsString> {
        self.locate
            .iter()
            .position(|a| a == "--target-dir")
            .and_then(|i| self.locate.get(i + 1))
            .cloned()
    }

    pub fn user_message_format(&self) -> bool {
        !self.message_format.is_empty()
    }
}
