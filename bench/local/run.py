#!/usr/bin/env python3
"""Local-crate caching benchmark (issue 16): after a one-line edit, how many local crates
compile and how long the final build takes, for

  (a) today's flow: the cook layer, then `cargo build` (every local crate compiles);
  (b) `cargo prebuild build --seed <previous final target dir>` on the cook layer;
  (c) the limit: an in-place incremental `cargo build` in a warm checkout;
  (d) cargo-chef's flow: `cargo chef cook` layer, then `cargo build` (skipped when
      /work/tools/bin/cargo-chef, or `cargo-chef` on PATH, is missing).

The workspace is generated (nothing fetched is built): layers of libraries with real code,
a few binaries on top, a few small crates.io dependencies. Edits: one line in a bottom
library, a mid-level library, a binary. Every image build happens in the same directory (as
`WORKDIR /app`), sources copied stamped "now"; copies of the cook layer and the seed are set
up before the clock starts (they are layer operations). All flows run side by side in one
run, interleaved per edit; wall times are medians of `--reps` runs.

    python3 bench/local/run.py [--members 50] [--reps 3] [--out bench/local/RESULTS.md]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EXTERNAL = ['itoa = "1"', 'smallvec = "1"', 'cfg-if = "1"']


def sh(cmd, cwd, env=None, check=True):
    r = subprocess.run(cmd, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if check and r.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))} in {cwd}\n{r.stderr[-4000:]}")
    return r


def scrubbed_env():
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("CARGO_TARGET") or k.startswith("CARGO_BUILD")
                   or k in ("RUSTFLAGS", "CARGO_INCREMENTAL", "RUSTC_WRAPPER"))}
    env["CARGO_TERM_COLOR"] = "never"
    return env


def lib_code(i: int, deps: list[str], funcs: int) -> str:
    """Real code: generic containers, loops and matches, so a crate takes real time."""
    out = ["pub const SEED: u64 = 1;", ""]
    if i % 3 == 0:
        out.append("pub fn ext(x: u64) -> usize { itoa::Buffer::new().format(x).len() }")
    elif i % 3 == 1:
        out.append("pub fn ext(x: u64) -> usize { let v: smallvec::SmallVec<[u64; 4]> = "
                   "(0..x % 9).collect(); v.len() }")
    else:
        out.append("cfg_if::cfg_if! { if #[cfg(unix)] { pub fn ext(x: u64) -> usize "
                   "{ (x % 5) as usize } } else { pub fn ext(x: u64) -> usize { 0 } } }")
    for f in range(funcs):
        out.append(f"""
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rec{f}<T> {{ pub items: Vec<T>, pub tag: String, pub n: u64 }}

impl<T: Clone + core::fmt::Debug + PartialEq> Rec{f}<T> {{
    pub fn push(&mut self, t: T) -> usize {{ self.items.push(t); self.n += 1; self.items.len() }}
    pub fn describe(&self) -> String {{ format!("{{}}:{{:?}}:{{}}", self.tag, self.items.first(), self.n) }}
    pub fn dedup_count(&self) -> usize {{
        let mut seen: Vec<&T> = Vec::new();
        for it in &self.items {{ if !seen.contains(&it) {{ seen.push(it); }} }}
        seen.len()
    }}
}}

pub fn f{f}(x: u64) -> u64 {{
    let mut a = x ^ SEED;
    for k in 0..{f % 7 + 3}u64 {{
        a = a.wrapping_mul(6364136223846793005).wrapping_add(k);
        a = match a % 5 {{ 0 => a ^ (a >> 13), 1 => a.rotate_left(7), 2 => a / 3 + 1, 3 => !a, _ => a }};
    }}
    let mut r = Rec{f}::<u64>::default();
    r.push(a);
    r.push(a % 97);
    a.wrapping_add(r.dedup_count() as u64).wrapping_add(r.describe().len() as u64)
}}""")
    body = " + ".join([f"f{f}(x)" for f in range(funcs)] +
                      [f"{d}::run(x)" for d in deps] + ["ext(x) as u64"])
    out.append(f"\npub fn run(x: u64) -> u64 {{ {body} }}")
    return "\n".join(out) + "\n"


def generate(root: str, members: int, funcs: int):
    """Layers of libraries (bottom = layer 0) and `bins` binaries on top."""
    bins = max(2, members // 16)
    libs = members - bins
    layers = 4
    per = [libs // layers + (1 if k < libs % layers else 0) for k in range(layers)]
    names, layer_of = [], {}
    for layer, count in enumerate(per):
        for j in range(count):
            n = f"l{layer}_{j}"
            names.append(n)
            layer_of[n] = layer
    os.makedirs(root)
    all_members = []
    for idx, n in enumerate(names):
        layer = layer_of[n]
        below = [m for m in names if layer_of[m] == layer - 1]
        deps = [below[(idx + k) % len(below)] for k in range(3)] if below else []
        deps = sorted(set(deps))
        write_pkg(root, n, deps, lib_code(idx, deps, funcs), lib=True)
        all_members.append(n)
    top = [m for m in names if layer_of[m] == layers - 1]
    for b in range(bins):
        n = f"bin{b}"
        deps = sorted({top[(b * 3 + k) % len(top)] for k in range(3)})
        calls = " + ".join(f"{d}::run(x)" for d in deps)
        main = ("pub const SEED: u64 = 1;\n"
                f"fn main() {{ let x = std::env::args().count() as u64 + SEED; "
                f"println!(\"{{}}\", {calls}); }}\n")
        write_pkg(root, n, deps, main, lib=False)
        all_members.append(n)
    with open(os.path.join(root, "Cargo.toml"), "w") as f:
        f.write("[workspace]\nresolver = \"2\"\nmembers = [\n")
        f.writelines(f"    \"crates/{m}\",\n" for m in all_members)
        f.write("]\n")
    return names, layer_of, bins


def write_pkg(root, name, deps, code, lib):
    d = os.path.join(root, "crates", name)
    os.makedirs(os.path.join(d, "src"))
    lines = [f"[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
             "[dependencies]"] + EXTERNAL + [f"{x} = {{ path = \"../{x}\" }}" for x in deps]
    with open(os.path.join(d, "Cargo.toml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(d, "src", "lib.rs" if lib else "main.rs"), "w") as f:
        f.write(code)


def local_compiled(stdout: str) -> set[str]:
    out = set()
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        m = json.loads(line)
        if m.get("reason") == "compiler-artifact" and not m.get("fresh") \
                and m["package_id"].startswith("path+"):
            out.add(m["target"]["name"])
    return out


def copy_sources(src, dst):
    """`COPY . .`: every file stamped now (target/ excluded)."""
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = [d for d in dirnames if not (dirpath == src and d == "target")]
        rel = os.path.relpath(dirpath, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for fn in filenames:
            shutil.copyfile(os.path.join(dirpath, fn), os.path.join(dst, rel, fn))


def fresh_dir(path, snapshot=None):
    if os.path.exists(path):
        shutil.rmtree(path)
    if snapshot:
        sh(["cp", "-a", snapshot, path], cwd="/")
    else:
        os.makedirs(path)


def timed(cmd, cwd, env):
    t = time.monotonic()
    r = sh(cmd, cwd, env)
    return time.monotonic() - t, local_compiled(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=50)
    ap.add_argument("--funcs", type=int, default=12, help="generated functions per library")
    ap.add_argument("--reps", type=int, default=3, help="runs of (b) and (c) per edit")
    ap.add_argument("--out")
    args = ap.parse_args()
    env = scrubbed_env()
    prebuild = os.path.join(REPO, "target", "release", "cargo-prebuild")
    sh(["cargo", "build", "--release", "--locked"], cwd=REPO, env=env)
    chef = shutil.which("cargo-chef") or "/work/tools/bin/cargo-chef"
    have_chef = os.path.exists(chef)
    # cargo-chef expects to run as a cargo subcommand, which sets `CARGO`.
    chef_env = dict(env, CARGO=shutil.which("cargo") or "cargo")
    json_fmt = ["--message-format", "json"]

    tmp = tempfile.mkdtemp(prefix="cpb-local-")
    planner = os.path.join(tmp, "planner")
    names, layer_of, bins = generate(planner, args.members, args.funcs)
    sh(["cargo", "generate-lockfile"], planner, env)
    edits = {
        "bottom lib": f"crates/{[n for n in names if layer_of[n] == 0][0]}/src/lib.rs",
        "mid lib": f"crates/{[n for n in names if layer_of[n] == 2][0]}/src/lib.rs",
        "binary": "crates/bin0/src/main.rs",
    }
    app = os.path.join(tmp, "stage", "app")  # every image builds here
    os.makedirs(os.path.dirname(app))

    # Cook layers (untimed): ours and cargo-chef's.
    skel = os.path.join(tmp, "skel")
    sh([prebuild, "prebuild", "prepare", "--skeleton", skel], planner, env)
    fresh_dir(app)
    sh([prebuild, "prebuild", "cook", "--skeleton", skel], app, env)
    cook_layer = os.path.join(tmp, "cook-layer")
    sh(["cp", "-a", app, cook_layer], cwd="/")
    chef_layer = None
    if have_chef:
        recipe = os.path.join(tmp, "recipe.json")
        sh([chef, "chef", "prepare", "--recipe-path", recipe], planner, chef_env)
        fresh_dir(app)
        sh([chef, "chef", "cook", "--recipe-path", recipe], app, chef_env)
        chef_layer = os.path.join(tmp, "chef-layer")
        sh(["cp", "-a", app, chef_layer], cwd="/")

    # The previous final image (untimed): its target dir is the seed.
    fresh_dir(app, cook_layer)
    copy_sources(planner, app)
    t_full, full = timed([prebuild, "prebuild", "build", "--seed", os.path.join(tmp, "none")]
                         + json_fmt, app, env)
    seed_base = os.path.join(tmp, "seed-base")
    sh(["cp", "-a", os.path.join(app, "target"), seed_base], cwd="/")
    # The in-place checkout, warm.
    inplace = os.path.join(tmp, "inplace")
    sh(["cp", "-a", planner, inplace], cwd="/")
    sh(["cargo", "build"], inplace, env)

    rows = []
    for what, rel in edits.items():
        with open(os.path.join(planner, rel)) as f:
            original = f.read()
        edited = original.replace("pub const SEED: u64 = 1;", "pub const SEED: u64 = 2;", 1)
        assert edited != original
        for d in (planner, inplace):
            with open(os.path.join(d, rel), "w") as f:
                f.write(edited)
        res = {}
        # (a) today's flow
        fresh_dir(app, cook_layer)
        copy_sources(planner, app)
        res["a"] = [timed(["cargo", "build"] + json_fmt, app, env)]
        # (d) cargo-chef
        if chef_layer:
            fresh_dir(app, chef_layer)
            copy_sources(planner, app)
            res["d"] = [timed(["cargo", "build"] + json_fmt, app, env)]
        res["b"], res["c"] = [], []
        for _ in range(args.reps):
            # (b) seeded
            fresh_dir(app, cook_layer)
            copy_sources(planner, app)
            seed = os.path.join(tmp, "seed")
            fresh_dir(seed, seed_base)
            res["b"].append(timed([prebuild, "prebuild", "build", "--seed", seed] + json_fmt,
                                  app, env))
            # (c) in place: the edit applied to a warm checkout; then back to base, untimed.
            res["c"].append(timed(["cargo", "build"] + json_fmt, inplace, env))
            with open(os.path.join(inplace, rel), "w") as f:
                f.write(original)
            sh(["cargo", "build"], inplace, env)
            with open(os.path.join(inplace, rel), "w") as f:
                f.write(edited)
        with open(os.path.join(inplace, rel), "w") as f:
            f.write(original)
        with open(os.path.join(planner, rel), "w") as f:
            f.write(original)
        sh(["cargo", "build"], inplace, env)
        row = {"edit": what}
        for k, runs in res.items():
            row[k] = (statistics.median(t for t, _ in runs), runs[0][1],
                      all(c == runs[0][1] for _, c in runs))
        rows.append(row)
        print(what, {k: (round(v[0], 2), len(v[1])) for k, v in row.items() if k != "edit"},
              file=sys.stderr)

    lines = [f"## {args.members} members ({args.members - bins} libraries in 4 layers, "
             f"{bins} binaries, {len(EXTERNAL)} crates.io dependencies; {args.funcs} "
             f"generated functions per library)", "",
             f"Full local build on the cook layer: {len(full)} crates, {t_full:.1f} s. "
             f"(b) and (c): median of {args.reps} runs.", "",
             "| edit | (a) today: crates / s | (b) `--seed`: crates / s | (c) in place: "
             "crates / s | (d) cargo-chef: crates / s | (b) = (c) crates | (a)/(b) | (b)/(c) |",
             "| --- | ---: | ---: | ---: | ---: | :---: | ---: | ---: |"]
    for r in rows:
        a, b, c = r["a"], r["b"], r["c"]
        d = f"{len(r['d'][1])} / {r['d'][0]:.2f}" if "d" in r else "skipped (no cargo-chef)"
        lines.append(f"| {r['edit']} | {len(a[1])} / {a[0]:.2f} | {len(b[1])} / {b[0]:.2f} | "
                     f"{len(c[1])} / {c[0]:.2f} | {d} | "
                     f"{'yes' if b[1] == c[1] and b[2] and c[2] else 'NO'} | "
                     f"{a[0] / b[0]:.1f}x | {b[0] / c[0]:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "a") as f:
            f.write(text + "\n")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
