#!/usr/bin/env python3
"""Incremental cook benchmark (issue 8): crates compiled by cook after one mid-graph
dependency bump, for a whole-layer rebuild, a seeded cook, a persistent target dir (cache
mount), and the limit (the bumped crates plus their reverse-dependency closure).

Counts, not seconds: each number is how many external package compilations cook ran, read
from cargo's `--message-format json` (`compiler-artifact` with `fresh: false`).

    python3 bench/incremental/run.py [--bump memchr@2.7.4] [--out RESULTS.md]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# A realistic service-shaped workspace: a few dozen crates.io packages.
MANIFEST = """[package]
name = "svc"
version = "0.1.0"
edition = "2021"

[dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = "1"
regex = "1"
clap = { version = "4", features = ["derive"] }
smallvec = "1"
itoa = "1"
"""
MAIN = """use clap::Parser;
#[derive(Parser, serde::Serialize)]
struct Args { #[arg(default_value = "a1b22c333")] text: String }
fn main() {
    let args = Args::parse();
    let re = regex::Regex::new(r"[0-9]+").unwrap();
    let n: Vec<&str> = re.find_iter(&args.text).map(|m| m.as_str()).collect();
    println!("{}", serde_json::to_string(&n).unwrap());
}
"""


def run(cmd, cwd, env=None, capture=True):
    r = subprocess.run(cmd, cwd=cwd, env=env, text=True,
                       stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)} in {cwd}\n{r.stderr[-3000:]}")
    return r.stdout


def compiled(stdout: str) -> set[str]:
    """External packages compiled (not fresh), as `name@version`."""
    out = set()
    for line in stdout.splitlines():
        try:
            m = json.loads(line)
        except json.JSONDecodeError:
            continue
        if m.get("reason") == "compiler-artifact" and not m.get("fresh") \
                and not m["package_id"].startswith("path+"):
            out.add(m["package_id"].rsplit("#", 1)[-1])
    return out


def lock_graph(path):
    lock = tomllib.load(open(path, "rb"))
    pkgs = {}
    for p in lock.get("package", []):
        pkgs[(p["name"], p["version"])] = p.get("dependencies", [])
    names = {}
    for (n, v) in pkgs:
        names.setdefault(n, []).append(v)
    edges = {}
    for (n, v), deps in pkgs.items():
        for d in deps:
            parts = d.split(" ")
            dn = parts[0]
            dv = parts[1] if len(parts) > 1 else names[dn][0]
            edges.setdefault((dn, dv), set()).add((n, v))
    return set(pkgs), edges


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bump", default="memchr@2.7.4",
                    help="crate@older-version to move the lockfile to (a mid-graph crate)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    crate, older = args.bump.split("@")

    run(["cargo", "build", "--release", "--quiet"], REPO)
    tool = os.path.join(REPO, "target", "release")
    env = dict(os.environ, PATH=tool + os.pathsep + os.environ["PATH"])
    for k in ["CARGO_TARGET_DIR", "RUSTFLAGS", "CARGO_BUILD_TARGET"]:
        env.pop(k, None)

    work = tempfile.mkdtemp(prefix="prebuild-incr-")
    try:
        ws = os.path.join(work, "ws")
        os.makedirs(os.path.join(ws, "src"))
        open(os.path.join(ws, "Cargo.toml"), "w").write(MANIFEST)
        open(os.path.join(ws, "src", "main.rs"), "w").write(MAIN)
        run(["cargo", "generate-lockfile", "--quiet"], ws, env)
        old_pkgs, _ = lock_graph(os.path.join(ws, "Cargo.lock"))
        run(["cargo", "prebuild", "prepare", "-q", "--skeleton", f"{work}/skel-old"], ws, env)

        def cook(name, skel, seed=None, builder=None):
            b = builder or os.path.join(work, name)
            os.makedirs(b, exist_ok=True)
            cmd = ["cargo", "prebuild", "cook", "-q", "--skeleton", skel, "--release",
                   "--locked", "--message-format", "json"]
            if seed:
                cmd += ["--seed", seed]
            return compiled(run(cmd, b, env)), b

        cold_old, b_old = cook("cook-old", f"{work}/skel-old")
        # The bump: one mid-graph crate moves to another version in the lockfile.
        run(["cargo", "update", "--quiet", "-p", crate, "--precise", older], ws, env)
        new_pkgs, rev = lock_graph(os.path.join(ws, "Cargo.lock"))
        run(["cargo", "prebuild", "prepare", "-q", "--skeleton", f"{work}/skel-new"], ws, env)

        a, _ = cook("cook-cold", f"{work}/skel-new")
        seed = os.path.join(work, "seed")
        shutil.copytree(os.path.join(b_old, "target"), seed, symlinks=True)
        b1, b1_dir = cook("cook-seeded", f"{work}/skel-new", seed=seed)
        # Persistent builder: the same target dir (a cache mount) cooked again in place.
        b2, _ = cook("cook-old", f"{work}/skel-new", builder=b_old)

        bumped = {p for p in new_pkgs - old_pkgs}
        limit = set(bumped)
        stack = list(bumped)
        while stack:
            for parent in rev.get(stack.pop(), ()):
                if parent not in limit:
                    limit.add(parent)
                    stack.append(parent)
        built = {tuple(x.split("@")) for x in a}
        c = {p for p in limit if p in built}

        def fmt(s):
            return ", ".join(sorted(s)) if len(s) <= 8 else f"{len(s)} crates"
        rows = [
            ("(a) whole-layer rebuild (cold cook)", len(a), ""),
            ("(b1) seeded cook (`--seed` from the previous deps image)", len(b1), fmt(b1)),
            ("(b2) persistent target dir (cache mount), cook in place", len(b2), fmt(b2)),
            ("(c) limit: bumped crates + reverse-dependency closure", len(c),
             fmt({f"{n}@{v}" for n, v in c})),
        ]
        table = [f"Bump: `{crate}` to {older} in a workspace of {len(cold_old)} compiled "
                 f"crates.io packages (serde+derive, serde_json, regex, clap+derive, ...).", "",
                 "| cook | external crates compiled | which |", "| --- | ---: | --- |"]
        table += [f"| {r[0]} | {r[1]} | {r[2]} |" for r in rows]
        verdict = "b1 == c and b2 == c" if len(b1) == len(c) and len(b2) == len(c) else \
            "b differs from c: see the table"
        table += ["", f"Goal (b) == (c) for seeded and persistent cooks: {verdict}."]
        text = "\n".join(table) + "\n"
        print(text)
        if args.out:
            open(args.out, "w").write(text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
