//! Local crates judged by content: `build --seed DIR` (the previous final build's target dir
//! planted over the cook layer) and `build --content-freshness` (a cache mount in place).
//! After an edit, exactly the edited crate and its dependents compile, whatever the mtimes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, SystemTime};

use filetime::FileTime;

use crate::support::*;

/// bottom <- mid (include_str! of data.txt) <- app -> side (build script: rerun-if-changed
/// input.txt, rerun-if-env-changed CPB_SIDE_MODE; feature `extra`), on crates.io's itoa.
fn workspace() -> Project {
    let pkg = |name: &str, extra: &str| {
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{extra}")
    };
    project()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"bottom\", \"mid\", \"side\", \"app\"]\nresolver = \"2\"\n",
        )
        .file("bottom/Cargo.toml", &pkg("bottom", "\n[dependencies]\nitoa = \"1\"\n"))
        .file(
            "bottom/src/lib.rs",
            "pub fn value() -> String { itoa::Buffer::new().format(1u32).to_string() }\n",
        )
        .file(
            "mid/Cargo.toml",
            &pkg("mid", "\n[dependencies]\nbottom = { path = \"../bottom\" }\n"),
        )
        .file(
            "mid/src/lib.rs",
            "pub fn value() -> String { format!(\"{}-{}\", bottom::value(), include_str!(\"../data.txt\").trim()) }\n",
        )
        .file("mid/data.txt", "d1\n")
        .file("side/Cargo.toml", &pkg("side", "\n[features]\nextra = []\n"))
        .file(
            "side/build.rs",
            "fn main() {\n    println!(\"cargo::rerun-if-changed=input.txt\");\n    \
             println!(\"cargo::rerun-if-env-changed=CPB_SIDE_MODE\");\n    \
             let input = std::fs::read_to_string(\"input.txt\").unwrap();\n    \
             let mode = std::env::var(\"CPB_SIDE_MODE\").unwrap_or_else(|_| \"m0\".into());\n    \
             println!(\"cargo::rustc-env=SIDE_VALUE={}-{mode}\", input.trim());\n}\n",
        )
        .file("side/input.txt", "i1\n")
        .file(
            "side/src/lib.rs",
            "pub fn value() -> String {\n    let extra = if cfg!(feature = \"extra\") { \"+x\" } else { \"\" };\n    \
             format!(\"{}{extra}\", env!(\"SIDE_VALUE\"))\n}\n",
        )
        .file(
            "app/Cargo.toml",
            &pkg(
                "app",
                "\n[dependencies]\nmid = { path = \"../mid\" }\nside = { path = \"../side\" }\n\n\
                 [features]\nextra = [\"side/extra\"]\n",
            ),
        )
        .file(
            "app/src/main.rs",
            "fn main() { println!(\"{} {}\", mid::value(), side::value()); }\n",
        )
        .build()
}

const ALL: [&str; 4] = ["app", "bottom", "mid", "side"];

/// How the sources of an image build are stamped.
#[derive(Clone, Copy, Debug)]
enum Stamps {
    /// The checkout's mtimes (a day old), the edited file newer.
    Older,
    /// Every file at Earthly's fixed 2020-04-16: an edit keeps its old mtime.
    Earthly,
    /// Every file now: unchanged files look new.
    Now,
    /// Every file a day ahead of the clock.
    Future,
}

const STAMPS: [Stamps; 4] = [Stamps::Older, Stamps::Earthly, Stamps::Now, Stamps::Future];

/// A chain of image builds: one cook layer (snapshot), each image a copy of it plus the
/// planner's sources, built with `cargo prebuild build`.
struct Images<'a> {
    p: &'a Project,
    snapshot: PathBuf,
    n: usize,
}

struct Image {
    builder: PathBuf,
    out: Output,
    report: BuildReport,
}

impl<'a> Images<'a> {
    fn new(p: &'a Project) -> Self {
        let (skel, builder) = p.skeleton_and_builder();
        prebuild(&builder, ["cook", "--skeleton", skel.to_str().unwrap()]).assert_ok("cook");
        let snapshot = p.sandbox().join("cook-layer");
        cp_a(&builder, &snapshot);
        Images { p, snapshot, n: 0 }
    }

    /// Builds an image: `build <args> --message-format json` after copying the sources.
    fn build(&mut self, stamps: Stamps, args: &[&str], env: &[(&str, &str)]) -> Image {
        // Every image builds in the same directory, as `WORKDIR /app` does.
        self.n += 1;
        let dir = self.p.sandbox().join("stage");
        fs::create_dir_all(&dir).unwrap();
        let builder = dir.join("app");
        rm_rf(&builder);
        cp_a(&self.snapshot, &builder);
        copy_sources(self.p.root(), &builder, stamps);
        let mut cmd = prebuild_cmd(&builder);
        cmd.arg("build")
            .args(args)
            .args(["--message-format", "json"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = run(&mut cmd);
        out.assert_ok(&format!("image {} build {args:?}", self.n));
        let report = BuildReport::parse(&out.stdout);
        Image {
            builder,
            out,
            report,
        }
    }
}

impl Image {
    /// The target dir, copied as `COPY --from=<previous builder> /app/target /seed` would.
    fn seed(&self, name: &str) -> PathBuf {
        let seed = self.builder.parent().unwrap().parent().unwrap().join(name);
        rm_rf(&seed);
        cp_a(&self.builder.join("target"), &seed);
        seed
    }

    fn app_output(&self) -> String {
        let exe = self.builder.join("target/debug/app");
        let out = run(&mut std::process::Command::new(&exe));
        out.assert_ok("app");
        out.stdout_str().trim().to_string()
    }

    fn assert_compiled(&self, local: &[&str], what: &str) {
        assert_eq!(
            self.report.local_compiled(),
            set(local),
            "{what}: local packages compiled\n--- stderr\n{}",
            self.out.stderr_str()
        );
        assert!(
            self.report.external_compiled().is_empty(),
            "{what}: external packages compiled: {:?}",
            self.report.external_compiled()
        );
    }
}

fn copy_sources(src: &Path, builder: &Path, stamps: Stamps) {
    match stamps {
        Stamps::Older => copy_tree(src, builder, MtimePolicy::PreserveOlder, &["target"]),
        Stamps::Earthly => copy_tree(src, builder, MtimePolicy::Earthly, &["target"]),
        Stamps::Now => copy_tree(src, builder, MtimePolicy::Now, &["target"]),
        Stamps::Future => {
            let staging = builder.parent().unwrap().join("future-sources");
            rm_rf(&staging);
            copy_tree(src, &staging, MtimePolicy::Now, &["target"]);
            let ahead = SystemTime::now() + Duration::from_secs(86_400);
            restamp(&staging, FileTime::from_system_time(ahead));
            copy_tree(&staging, builder, MtimePolicy::PreserveOlder, &[]);
            rm_rf(&staging);
        }
    }
}

#[test]
fn seeded_build_recompiles_only_the_edited_crate_and_its_dependents() {
    let p = workspace();
    let mut images = Images::new(&p);
    for stamps in STAMPS {
        let what = format!("{stamps:?}");
        p.write(
            "bottom/src/lib.rs",
            "pub fn value() -> String { itoa::Buffer::new().format(1u32).to_string() }\n",
        );
        // No seed yet (the first image): every local crate compiles, and the record is made.
        let missing = p.sandbox().join("no-seed");
        let first = images.build(stamps, &["--seed", missing.to_str().unwrap()], &[]);
        first.assert_compiled(&ALL, &format!("{what}: first image"));
        assert_eq!(first.app_output(), "1-d1 i1-m0");
        let seed = first.seed("seed");

        // An edit in the bottom library: it and its dependents, not `side`.
        p.edit("bottom/src/lib.rs", "format(1u32)", "format(2u32)");
        let second = images.build(stamps, &["--seed", seed.to_str().unwrap()], &[]);
        second.assert_compiled(&["bottom", "mid", "app"], &format!("{what}: bottom edited"));
        assert_eq!(second.app_output(), "2-d1 i1-m0", "{what}");

        // Nothing changed since: nothing compiles, whatever the stamps.
        let seed = second.seed("seed");
        let third = images.build(stamps, &["--seed", seed.to_str().unwrap()], &[]);
        third.assert_compiled(&[], &format!("{what}: unchanged"));
        assert_eq!(third.app_output(), "2-d1 i1-m0", "{what}");
    }
}

/// An image layer stores mtimes in whole seconds (buildah's `COPY --from=<previous builder>`
/// gives the seed exactly that): the seed still vouches for its units, and only the edited crate
/// and its dependents compile. Files only the cook layer holds survive the planting.
#[test]
fn seed_with_whole_second_mtimes_as_an_image_layer_stores_them() {
    let p = workspace();
    let mut images = Images::new(&p);
    for stamps in [Stamps::Older, Stamps::Now] {
        let what = format!("{stamps:?}, whole-second seed");
        p.write(
            "bottom/src/lib.rs",
            "pub fn value() -> String { itoa::Buffer::new().format(1u32).to_string() }\n",
        );
        let missing = p.sandbox().join("no-seed");
        let first = images.build(stamps, &["--seed", missing.to_str().unwrap()], &[]);
        first.assert_compiled(&ALL, &format!("{what}: first image"));
        let seed = first.seed("seed");
        truncate_mtimes(&seed);
        // Planting keeps what only the cook layer holds, and the cook layer's record: a seed
        // without itoa's artifacts and with another cook record compiles no external crate.
        for entry in walkdir::WalkDir::new(seed.join("debug"))
            .min_depth(2)
            .max_depth(2)
        {
            let entry = entry.unwrap();
            if entry.file_name().to_string_lossy().contains("itoa") {
                if entry.file_type().is_dir() {
                    rm_rf(entry.path());
                } else {
                    fs::remove_file(entry.path()).unwrap();
                }
            }
        }
        fs::write(seed.join("cargo-prebuild-cook.json"), "{}").unwrap();

        p.edit("bottom/src/lib.rs", "format(1u32)", "format(2u32)");
        let second = images.build(stamps, &["--seed", seed.to_str().unwrap()], &[]);
        second.assert_compiled(&["bottom", "mid", "app"], &format!("{what}: bottom edited"));
        assert_eq!(second.app_output(), "2-d1 i1-m0", "{what}");
        let cook_record = "target/cargo-prebuild-cook.json";
        assert_eq!(
            fs::read(second.builder.join(cook_record)).unwrap(),
            fs::read(images.snapshot.join(cook_record)).unwrap(),
            "{what}: the cook layer's record"
        );

        let seed = second.seed("seed");
        truncate_mtimes(&seed);
        let third = images.build(stamps, &["--seed", seed.to_str().unwrap()], &[]);
        third.assert_compiled(&[], &format!("{what}: unchanged"));
        assert_eq!(third.app_output(), "2-d1 i1-m0", "{what}");
    }
}

/// Every mtime under `dir` cut to the whole second below, as a tar header stores it.
fn truncate_mtimes(dir: &Path) {
    for entry in walkdir::WalkDir::new(dir).contents_first(true) {
        let entry = entry.unwrap();
        if entry.file_type().is_symlink() {
            continue;
        }
        let m = FileTime::from_last_modification_time(&entry.metadata().unwrap());
        let whole = FileTime::from_unix_time(m.unix_seconds(), 0);
        filetime::set_file_times(entry.path(), whole, whole).unwrap();
    }
}

#[test]
fn included_files_build_script_inputs_env_and_features_are_rebuilt() {
    let p = workspace();
    let mut images = Images::new(&p);
    let missing = p.sandbox().join("no-seed");
    let mut image = images.build(Stamps::Earthly, &["--seed", missing.to_str().unwrap()], &[]);
    image.assert_compiled(&ALL, "first image");
    // `include_str!` of a file beside the sources, edited under Earthly's fixed mtime.
    p.write("mid/data.txt", "d2\n");
    step(
        &mut images,
        &mut image,
        &[],
        &[],
        &["mid", "app"],
        "1-d2 i1-m0",
        "include_str! file",
    );
    // A build script's `rerun-if-changed` input.
    p.write("side/input.txt", "i2\n");
    step(
        &mut images,
        &mut image,
        &[],
        &[],
        &["side", "app"],
        "1-d2 i2-m0",
        "rerun-if-changed input",
    );
    // A build script's `rerun-if-env-changed` variable.
    let env = [("CPB_SIDE_MODE", "m1")];
    step(
        &mut images,
        &mut image,
        &[],
        &env,
        &["side", "app"],
        "1-d2 i2-m1",
        "rerun-if-env-changed",
    );
    // A feature.
    let args = ["--features", "app/extra"];
    step(
        &mut images,
        &mut image,
        &args,
        &env,
        &["side", "app"],
        "1-d2 i2-m1+x",
        "feature",
    );
    // And back: the seed still holds the units of that state (a target dir keeps both
    // feature sets), and their inputs are unchanged, so nothing compiles and the output is
    // the featureless one.
    step(
        &mut images,
        &mut image,
        &[],
        &env,
        &[],
        "1-d2 i2-m1",
        "feature off",
    );
}

/// Builds the next image seeded from `image`, checks it, and makes it the current one.
fn step(
    images: &mut Images,
    image: &mut Image,
    args: &[&str],
    env: &[(&str, &str)],
    compiled: &[&str],
    output: &str,
    what: &str,
) {
    let seed = image.seed("seed");
    let mut all = vec!["--seed", seed.to_str().unwrap()];
    all.extend_from_slice(args);
    let next = images.build(Stamps::Earthly, &all, env);
    next.assert_compiled(compiled, what);
    assert_eq!(next.app_output(), output, "{what}");
    *image = next;
}

/// Builds the first image and returns its seed.
fn first_seed(images: &mut Images, p: &Project) -> PathBuf {
    let missing = p.sandbox().join("no-seed");
    let first = images.build(Stamps::Older, &["--seed", missing.to_str().unwrap()], &[]);
    first.assert_compiled(&ALL, "first image");
    first.seed("seed")
}

fn assert_refused(image: &Image, note: &str, what: &str) {
    let stderr = image.out.stderr_str();
    assert!(
        stderr.contains(note) && stderr.contains("every local crate compiles"),
        "{what}: no note {note:?}:\n{stderr}"
    );
    image.assert_compiled(&ALL, what);
}

#[test]
fn seed_from_another_toolchain_profile_or_target_is_refused() {
    let p = workspace();
    let mut images = Images::new(&p);
    let seed = first_seed(&mut images, &p);
    let seed_arg = seed.to_str().unwrap().to_string();

    // Another profile: every local crate compiles (the dependencies too: cook was dev).
    let mut cmd_args = vec!["--seed", seed_arg.as_str(), "--release"];
    let image = images_build_any(&mut images, &cmd_args);
    assert!(
        image.out.stderr_str().contains("another profile"),
        "{}",
        image.out.stderr_str()
    );
    assert_eq!(image.report.local_compiled(), set(&ALL));

    // Another target (the host's triple, spelled out).
    let triple = host_triple();
    cmd_args = vec!["--seed", seed_arg.as_str(), "--target", triple.as_str()];
    let image = images_build_any(&mut images, &cmd_args);
    assert!(
        image.out.stderr_str().contains("another target"),
        "{}",
        image.out.stderr_str()
    );
    assert_eq!(image.report.local_compiled(), set(&ALL));

    // Another toolchain: the record says which rustc built the seed.
    let other = p.sandbox().join("other-toolchain");
    cp_a(&seed, &other);
    let record = other.join("cargo-prebuild-content.json");
    let text = fs::read_to_string(&record).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["rustc"] = "rustc 1.0.0 (a59de9a31 2015-05-13)\nhost: x".into();
    fs::write(&record, json.to_string()).unwrap();
    let image = images.build(Stamps::Older, &["--seed", other.to_str().unwrap()], &[]);
    assert_refused(&image, "another toolchain", "toolchain");

    // Another skeleton (a dependency added).
    p.edit(
        "side/Cargo.toml",
        "[features]",
        "[dependencies]\nitoa = \"1\"\n\n[features]",
    );
    let image = images_build_any(&mut images, &["--seed", seed_arg.as_str()]);
    assert!(
        image.out.stderr_str().contains("another skeleton"),
        "{}",
        image.out.stderr_str()
    );
    assert_eq!(image.report.local_compiled(), set(&ALL));
    p.edit(
        "side/Cargo.toml",
        "[dependencies]\nitoa = \"1\"\n\n[features]",
        "[features]",
    );

    // A seed holding a stub artifact is not used at all.
    let stubbed = p.sandbox().join("stubbed");
    cp_a(&seed, &stubbed);
    fs::write(
        stubbed.join("debug/deps/side-0000000000000000.d"),
        "/x/side-0000000000000000.d: .cargo-prebuild-stub/lib.rs\n",
    )
    .unwrap();
    let image = images.build(Stamps::Older, &["--seed", stubbed.to_str().unwrap()], &[]);
    assert_refused(&image, "stub artifact", "stub in seed");

    // A seed whose artifacts were re-stamped (their identity lost): used, but every local
    // crate compiles, since the record no longer vouches for any unit.
    let restamped = p.sandbox().join("restamped");
    cp_a(&seed, &restamped);
    restamp(&restamped, FileTime::now());
    let image = images.build(Stamps::Older, &["--seed", restamped.to_str().unwrap()], &[]);
    image.assert_compiled(&ALL, "restamped seed");
}

/// An image build whose flags may recompile dependencies (no assertion on externals).
fn images_build_any(images: &mut Images, args: &[&str]) -> Image {
    images.build(Stamps::Older, args, &[])
}

#[test]
fn in_place_content_freshness_and_verify_prove_no_stale_local_artifact() {
    // The cache-mount recipe: dependencies cooked into the directory first (verify judges
    // against cook's record), then the sources copied over.
    let p = workspace();
    let (skel, builder) = p.skeleton_and_builder();
    prebuild(
        &builder,
        [
            std::ffi::OsStr::new("cook"),
            "--skeleton".as_ref(),
            skel.as_os_str(),
        ],
    )
    .assert_ok("cook");
    copy_tree(p.root(), &builder, MtimePolicy::PreserveOlder, &["target"]);
    let dir = builder.as_path();
    let edit = |rel: &str, from: &str, to: &str| {
        let path = dir.join(rel);
        let body = std::fs::read_to_string(&path).unwrap();
        assert!(body.contains(from), "{rel} lacks {from:?}");
        std::fs::write(&path, body.replacen(from, to, 1)).unwrap();
    };
    let build = |args: &[&str]| {
        let mut all = vec!["build", "--content-freshness", "--message-format", "json"];
        all.extend_from_slice(args);
        let out = prebuild(dir, &all);
        out.assert_ok(&format!("build {args:?}"));
        BuildReport::parse(&out.stdout).local_compiled()
    };
    assert_eq!(build(&[]), set(&ALL));
    assert_eq!(build(&[]), set(&[]));

    // Another branch checked out with older mtimes than the cached artifacts.
    let lib = dir.join("mid/src/lib.rs");
    let old = FileTime::from_unix_time(EARTHLY_EPOCH, 0);
    edit("mid/src/lib.rs", "format!(\"{}-{}\"", "format!(\"{}_{}\"");
    filetime::set_file_mtime(&lib, old).unwrap();
    assert_eq!(build(&[]), set(&["mid", "app"]));
    let exe = dir.join("target/debug/app");
    assert_eq!(
        run(&mut std::process::Command::new(&exe))
            .stdout_str()
            .trim(),
        "1_d1 i1-m0"
    );

    // An edit that keeps the old mtime fools plain cargo, and `verify` says so.
    edit("mid/src/lib.rs", "format!(\"{}_{}\"", "format!(\"{}={}\"");
    filetime::set_file_mtime(&lib, old).unwrap();
    let out = prebuild(dir, ["verify"]);
    assert!(!out.status.success(), "verify passed on a stale artifact");
    let stderr = out.stderr_str();
    assert!(
        stderr.contains("is older than the content of") && stderr.contains("mid/src/lib.rs"),
        "{stderr}"
    );
    // A content-freshness build rebuilds it, and then verify passes.
    assert_eq!(build(&["--verify"]), set(&["mid", "app"]));
    prebuild(dir, ["verify"]).assert_ok("verify after the rebuild");
    assert_eq!(
        run(&mut std::process::Command::new(&exe))
            .stdout_str()
            .trim(),
        "1=d1 i1-m0"
    );

    // A plain `cargo build` of other contents in between, then the recorded contents back
    // with an old mtime: the record does not vouch for the unit plain cargo built, so it
    // rebuilds (restoring the recorded mtime would have shipped the other contents).
    edit("mid/src/lib.rs", "format!(\"{}={}\"", "format!(\"{}#{}\"");
    cargo(dir, ["build"]).assert_ok("plain cargo build");
    edit("mid/src/lib.rs", "format!(\"{}#{}\"", "format!(\"{}={}\"");
    filetime::set_file_mtime(&lib, old).unwrap();
    assert_eq!(build(&[]), set(&["mid", "app"]));
    let out = run(&mut std::process::Command::new(&exe));
    assert_eq!(out.stdout_str().trim(), "1=d1 i1-m0");
}

/// Cargo's unstable `-Z checksum-freshness` (nightly) judges by content natively: after the
/// same edits, it compiles the same crates as `--content-freshness` on the default toolchain.
#[test]
fn same_crates_as_nightly_checksum_freshness() {
    let nightly = || {
        let mut cmd = std::process::Command::new("cargo");
        scrub(&mut cmd);
        cmd.env_remove("CARGO").env("RUSTUP_TOOLCHAIN", "nightly");
        cmd
    };
    if !nightly()
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("note: skipped: no nightly toolchain (`rustup toolchain install nightly`)");
        return;
    }
    let ours = workspace();
    let theirs = ours.duplicate();
    let old = FileTime::from_unix_time(EARTHLY_EPOCH, 0);
    let edit = |p: &Project| {
        // Content changed under an old mtime; content unchanged under a new one.
        p.edit("mid/src/lib.rs", "format!(\"{}-{}\"", "format!(\"{}+{}\"");
        filetime::set_file_mtime(p.path("mid/src/lib.rs"), old).unwrap();
        filetime::set_file_mtime(p.path("bottom/src/lib.rs"), FileTime::now()).unwrap();
    };
    let ours_build = |p: &Project| {
        let out = prebuild(
            p.root(),
            ["build", "--content-freshness", "--message-format", "json"],
        );
        out.assert_ok("build --content-freshness");
        BuildReport::parse(&out.stdout).local_compiled()
    };
    let theirs_build = |p: &Project| {
        let mut cmd = nightly();
        cmd.current_dir(p.root()).args([
            "build",
            "-Zchecksum-freshness",
            "--message-format",
            "json",
        ]);
        let out = run(&mut cmd);
        out.assert_ok("cargo +nightly build -Zchecksum-freshness");
        BuildReport::parse(&out.stdout).local_compiled()
    };
    assert_eq!(ours_build(&ours), set(&ALL));
    assert_eq!(theirs_build(&theirs), set(&ALL));
    edit(&ours);
    edit(&theirs);
    let (a, b) = (ours_build(&ours), theirs_build(&theirs));
    assert_eq!(a, b, "content freshness vs -Z checksum-freshness");
    assert_eq!(a, set(&["mid", "app"]));
}
