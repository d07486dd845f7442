//! The build context: every fact about how a build runs, resolved once at the entry of
//! `cook`, `build` and `verify` from the arguments, the environment, cargo's config files and,
//! only when a fact needs it, one cargo or rustc call (cached for the run). The workers
//! (cook, record, clean, gate, freshness) read it; none re-derives a fact or sees clap's types.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Result;

use crate::cargo::{CargoCommand, WorkspaceInfo};
use crate::flags::Flags;

/// What a build runs: cargo's subcommand, and `--no-run` for `test` (cook and the gates build
/// test units without running them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subcommand {
    Build,
    Check,
    Clippy,
    Test,
    Doc,
    Zigbuild,
}

impl Subcommand {
    /// The subcommand's name, as the cook record keeps it.
    pub fn name(self) -> &'static str {
        match self {
            Subcommand::Build => "build",
            Subcommand::Check => "check",
            Subcommand::Clippy => "clippy",
            Subcommand::Test => "test",
            Subcommand::Doc => "doc",
            Subcommand::Zigbuild => "zigbuild",
        }
    }

    fn args(self) -> Vec<&'static str> {
        let mut args = vec![self.name()];
        if self == Subcommand::Test {
            args.push("--no-run");
        }
        args
    }
}

/// Which targets a build command names: the caller's selection, or widened to whole kinds for
/// a skeleton, whose stub targets carry reserved names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Targets {
    AsGiven,
    Skeleton,
}

/// What a build command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The user's output flags and message format.
    User,
    /// The user's output flags; the caller asks for the JSON messages it reads and forwards.
    Observed,
    /// Only JSON to read (the seeded cook's listing, the unit graph): no output flags, message
    /// format or timings report; the caller completes it.
    Listing,
}

/// Every fact about one build, resolved once (see the module docs).
#[derive(Debug)]
pub struct BuildContext {
    /// Where cargo runs: the workspace root (or where it will be, for cook).
    pub dir: PathBuf,
    pub flags: Flags,
    /// Arguments after `--`, appended to every build command line.
    pub extra: Vec<OsString>,
    cargo: CargoCommand,
    configs: Cached<Vec<PathBuf>>,
    local_target_dir: Cached<Option<PathBuf>>,
    metadata: Cached<Arc<cargo_metadata::Metadata>>,
    rustc: Cached<String>,
}

/// A fact worked out at most once per run, by whichever thread asks first (the others wait
/// for it); a failure is not kept, so the next asker tries again and gets its own error.
#[derive(Debug)]
struct Cached<T>(Mutex<Option<T>>);

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached(Mutex::new(None))
    }
}

impl<T: Clone> Cached<T> {
    fn get_or_try(&self, work_out: impl FnOnce() -> Result<T>) -> Result<T> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = &*slot {
            return Ok(value.clone());
        }
        let value = work_out()?;
        *slot = Some(value.clone());
        Ok(value)
    }

    fn get(&self) -> Option<T> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl BuildContext {
    pub fn new(dir: PathBuf, flags: Flags, extra: Vec<OsString>) -> BuildContext {
        BuildContext {
            cargo: CargoCommand::new(&dir),
            dir,
            flags,
            extra,
            configs: Cached::default(),
            local_target_dir: Cached::default(),
            metadata: Cached::default(),
            rustc: Cached::default(),
        }
    }

    /// Runs cargo and rustc through the rustup proxy so a toolchain file laid out in `dir`
    /// decides (cook, before its first call: nothing cached is from another toolchain).
    pub fn use_toolchain_file(&mut self) {
        self.cargo = self.cargo.clone().through_toolchain_file();
        self.rustc = Cached::default();
    }

    /// `cargo SUBCOMMAND` with the build's flags and the arguments after `--`.
    pub fn build_command(&self, sub: Subcommand, targets: Targets, output: Output) -> CargoCommand {
        let mut cmd = self.cargo.clone();
        cmd.args(sub.args())
            .args(self.flags.build_args(targets, output))
            .args(&self.extra);
        cmd
    }

    /// `cargo fetch` for the build's targets.
    pub fn fetch_command(&self) -> CargoCommand {
        let mut cmd = self.cargo.clone();
        cmd.arg("fetch")
            .args(self.flags.fetch_args())
            .args(&self.extra);
        cmd
    }

    /// `cargo clean -p SPEC...` in this build's profile and targets (the config's
    /// `build.target` included: `cargo clean` does not apply it itself).
    pub fn clean_command(&self, specs: &[String]) -> Result<CargoCommand> {
        let mut args = self.flags.locate_args(true);
        if self.flags.asked.targets.is_empty() {
            for target in self.targets()? {
                args.push("--target".into());
                args.push(target.into());
            }
        }
        Ok(crate::cargo::clean_packages(&self.cargo, specs, &args))
    }

    /// Config files cargo reads in `dir`, `$CARGO_HOME`'s included, nearest first.
    pub fn configs(&self) -> Result<Vec<PathBuf>> {
        self.configs
            .get_or_try(|| crate::workspace::cargo_configs(&self.dir))
    }

    /// The target triples the build compiles for: `--target`, else `CARGO_BUILD_TARGET` or the
    /// config's `build.target`; empty for the host. Sorted.
    pub fn targets(&self) -> Result<Vec<String>> {
        let mut targets = self.flags.asked.targets.clone();
        if targets.is_empty() {
            targets = crate::skeleton::build_targets(&self.configs()?)?;
        }
        targets.sort();
        targets.dedup();
        Ok(targets)
    }

    /// The target directory cargo will use, worked out without running cargo: `--target-dir`,
    /// `CARGO_TARGET_DIR`, `CARGO_BUILD_TARGET_DIR`, then `build.target-dir` of the nearest
    /// config file, else `dir/target`. `None` when `--config` arguments might set it.
    pub fn local_target_dir(&self) -> Result<Option<PathBuf>> {
        self.local_target_dir.get_or_try(|| self.find_target_dir())
    }

    fn find_target_dir(&self) -> Result<Option<PathBuf>> {
        if let Some(d) = &self.flags.asked.target_dir {
            return Ok(Some(d.clone()));
        }
        for var in ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"] {
            if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
                return Ok(Some(self.dir.join(v)));
            }
        }
        if self
            .flags
            .asked
            .config
            .iter()
            .any(|c| c.contains("target-dir"))
        {
            return Ok(None);
        }
        Ok(Some(
            crate::skeleton::build_target_dir(&self.configs()?)?
                .unwrap_or_else(|| self.dir.join("target")),
        ))
    }

    /// The target directory: worked out locally when it can be, else asked of cargo.
    pub fn target_dir(&self) -> Result<PathBuf> {
        match self.local_target_dir()? {
            Some(dir) => Ok(dir),
            None => Ok(self.workspace()?.target_directory),
        }
    }

    /// Where cargo keeps units (`.fingerprint`, `deps`, `build`): the configured build dir,
    /// asked of cargo, else the target dir (worked out without cargo when it can be).
    pub fn build_dir(&self) -> Result<PathBuf> {
        if self.build_dir_source()?.is_some() {
            if let Some(dir) = self.workspace()?.build_directory {
                return Ok(dir);
            }
        }
        self.target_dir()
    }

    /// `cargo metadata --no-deps` of the workspace: one call per run, shared by every reader.
    fn metadata(&self) -> Result<Arc<cargo_metadata::Metadata>> {
        self.metadata.get_or_try(|| {
            let args = self.flags.locate_args(false);
            crate::cargo::metadata_no_deps(&self.cargo, &args).map(Arc::new)
        })
    }

    /// What cargo says of the workspace: members, target and build directories (the target
    /// directory is `--target-dir` when one is given).
    pub fn workspace(&self) -> Result<WorkspaceInfo> {
        let mut ws = WorkspaceInfo::from_metadata(&*self.metadata()?);
        if let Some(dir) = &self.flags.asked.target_dir {
            ws.target_directory = dir.clone();
        }
        Ok(ws)
    }

    /// Names of the non-local packages in the workspace's `Cargo.lock` (none without one).
    pub fn external_packages(&self) -> Result<std::collections::BTreeSet<String>> {
        let lock = self.workspace()?.workspace_root.join("Cargo.lock");
        match crate::fs::read_if_exists(&lock)? {
            Some(bytes) => {
                crate::skeleton::lockfile::external_names(&String::from_utf8_lossy(&bytes), &lock)
            }
            None => Ok(Default::default()),
        }
    }

    /// The workspace model (packages, their targets and path dependencies), from the same
    /// `cargo metadata` call.
    pub fn model(&self) -> Result<crate::workspace::Workspace> {
        crate::workspace::Workspace::from_metadata(&*self.metadata()?)
    }

    /// `rustc -vV` of the toolchain cargo uses here (one call per run).
    pub fn rustc(&self) -> Result<String> {
        self.rustc
            .get_or_try(|| crate::cargo::rustc_version(&self.cargo))
    }

    /// `rustc -vV` from cargo's cache in `target_dir` when it holds one toolchain's, saving a
    /// process on cook's path, else [`BuildContext::rustc`].
    pub fn rustc_cached(&self, target_dir: &Path) -> Result<String> {
        if let Some(version) = self.rustc.get() {
            return Ok(version);
        }
        match crate::cargo::cached_rustc_version(target_dir) {
            Some(version) => Ok(version),
            None => self.rustc(),
        }
    }

    /// Where `build.build-dir` (or the unstable per-package layout) is configured, if it is:
    /// the environment, a `--config` argument or file, `-Z`, or a config file cargo reads.
    pub fn build_dir_source(&self) -> Result<Option<String>> {
        if std::env::var_os("CARGO_BUILD_BUILD_DIR").is_some_and(|v| !v.is_empty()) {
            return Ok(Some("`CARGO_BUILD_BUILD_DIR`".to_string()));
        }
        let asked = &self.flags.asked;
        if let Some(z) = asked.unstable.iter().find(|z| z.contains("build-dir")) {
            return Ok(Some(format!("`-Z {z}`")));
        }
        if std::env::var_os("CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT").is_some() {
            return Ok(Some("`CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT`".to_string()));
        }
        let mut files = Vec::new();
        for arg in &asked.config {
            if arg.contains("build-dir") {
                return Ok(Some(format!("`--config {arg}`")));
            }
            // `--config` also takes the path of a config file.
            let path = self.dir.join(arg);
            if arg.ends_with(".toml") && path.is_file() {
                files.push(path);
            }
        }
        files.extend(self.configs()?);
        for path in files {
            if sets_build_dir(&path)? {
                return Ok(Some(format!("`{}`", path.display())));
            }
        }
        Ok(None)
    }
}

fn sets_build_dir(path: &Path) -> Result<bool> {
    use anyhow::Context as _;
    let text = crate::fs::read_to_string(path)?;
    let config: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("failed to parse config file `{}`", path.display()))?;
    let build_dir = config.get("build").and_then(|b| b.get("build-dir"));
    let new_layout = config
        .get("unstable")
        .and_then(|u| u.get("build-dir-new-layout"));
    Ok(build_dir.is_some() || new_layout.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{self, Command};
    use crate::shell::{Shell, Verbosity};

    /// The build context of `cargo prebuild cook ARGS` run in `dir`.
    fn context(dir: &Path, args: &[&str]) -> Result<BuildContext> {
        let mut line: Vec<OsString> = ["cargo", "prebuild", "cook", "--skeleton", "s"]
            .iter()
            .map(OsString::from)
            .collect();
        line.extend(args.iter().map(OsString::from));
        let cli::Cargo::Prebuild(prebuild) = cli::try_parse_from(line, Vec::new)?;
        let Command::Cook(cook) = prebuild.command else {
            anyhow::bail!("not cook");
        };
        let shell = Shell::new(Verbosity::Normal, cli::ColorChoice::Never);
        let flags = Flags::from_args(&cook.build, &shell)?;
        Ok(BuildContext::new(dir.to_path_buf(), flags, Vec::new()))
    }

    fn line(cmd: &CargoCommand) -> String {
        cmd.to_string().replacen("cargo ", "", 1)
    }

    #[test]
    fn build_commands_keep_the_units_and_drop_output_only_for_listings() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let ctx = context(
            dir.path(),
            &[
                "--release",
                "--bin",
                "x",
                "--timings",
                "-v",
                "--message-format",
                "short",
            ],
        )?;
        let user = line(&ctx.build_command(Subcommand::Test, Targets::AsGiven, Output::User));
        assert!(
            user.starts_with("test --no-run --bin x --release --timings"),
            "{user}"
        );
        assert!(
            user.contains("--message-format short") && user.contains("--verbose"),
            "{user}"
        );
        let skeleton = line(&ctx.build_command(Subcommand::Build, Targets::Skeleton, Output::User));
        assert!(skeleton.starts_with("build --bins --release"), "{skeleton}");
        let observed =
            line(&ctx.build_command(Subcommand::Build, Targets::AsGiven, Output::Observed));
        assert!(!observed.contains("--message-format") && observed.contains("--timings"));
        let listing =
            line(&ctx.build_command(Subcommand::Build, Targets::Skeleton, Output::Listing));
        assert_eq!(listing, "build --bins --release --color never");
        Ok(())
    }

    #[test]
    fn profile_and_target_dir_come_from_flags_then_config() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let ctx = context(dir.path(), &["--profile", "ci"])?;
        assert_eq!(ctx.flags.asked.profile_dir(), "ci");
        if std::env::var_os("CARGO_TARGET_DIR").is_none()
            && std::env::var_os("CARGO_BUILD_TARGET_DIR").is_none()
        {
            assert_eq!(ctx.target_dir()?, dir.path().join("target"));
            crate::fs::create_dir_all(&dir.path().join(".cargo"))?;
            crate::fs::write(
                &dir.path().join(".cargo/config.toml"),
                b"[build]\ntarget-dir = \"out\"\n",
            )?;
            let ctx = context(dir.path(), &["--release"])?;
            assert_eq!(ctx.flags.asked.profile_dir(), "release");
            assert_eq!(ctx.local_target_dir()?, Some(dir.path().join("out")));
        }
        let ctx = context(dir.path(), &["--target-dir", "/elsewhere"])?;
        assert_eq!(ctx.target_dir()?, PathBuf::from("/elsewhere"));
        let ctx = context(dir.path(), &["--config", "build.target-dir=\"x\""])?;
        assert_eq!(ctx.local_target_dir()?, None, "only cargo knows");
        Ok(())
    }

    #[test]
    fn a_failure_is_not_cached() {
        let cached: Cached<u32> = Cached::default();
        assert!(cached.get_or_try(|| anyhow::bail!("no")).is_err());
        assert_eq!(cached.get(), None);
        assert_eq!(cached.get_or_try(|| Ok(7)).ok(), Some(7));
        assert_eq!(
            cached.get_or_try(|| anyhow::bail!("not asked")).ok(),
            Some(7)
        );
    }
}
