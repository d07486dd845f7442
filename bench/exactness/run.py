#!/usr/bin/env python3
"""Exactness of the skeleton on real workspaces, judged by cargo's own unit graph.

For every workspace tree and flag set, this asks cargo for the unit graph
(`cargo <cmd> --unit-graph -Z unstable-options <flags>`, which compiles nothing) twice:
in the real tree, and in an empty directory where the tool laid out its skeleton
(`cargo-prebuild prepare` + `cook --no-build`, or `cargo chef prepare` + `cook --no-build`).
It compares the external (non-path) units: package id (name, version, source), target
(kind, name, crate types), profile (every field), features, mode, platform; and the edges
between external units. A unit only the real graph has is compiled again by the real build
after the cook (missing); a unit only the skeleton has is wasted cook work (extra).

python3 bench/exactness/run.py --trees /work/real --prebuild target/release/cargo-prebuild \
    [--chef /work/tools/bin/cargo-chef] [--only ripgrep,fd] [--jobs 2] [--out DIR]

Python 3 standard library only. See README.md.
"""
import argparse
import collections
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
AARCH64 = "aarch64-unknown-linux-gnu"

# (name, cargo subcommand + flags, skeleton kind). Skeleton kind "full" uses the whole-workspace
# skeleton; "image" uses the per-image skeleton (`prepare -p BIN_PKG`). BIN_PKG and PROFILE are
# filled in per workspace.
FLAG_SETS = [
    ("default", ["build"], "full"),
    ("release", ["build", "--release"], "full"),
    ("release-ws-allfeat", ["build", "--release", "--workspace", "--all-features"], "full"),
    ("all-targets", ["build", "--all-targets"], "full"),
    ("release-nodefault", ["build", "--release", "--no-default-features"], "full"),
    ("test", ["test", "--no-run"], "full"),
    ("test-release-ws", ["test", "--no-run", "--release", "--workspace"], "full"),
    ("release-p-bin", ["build", "--release", "-p", "BIN_PKG"], "full"),
    ("release-p-bin-image", ["build", "--release", "-p", "BIN_PKG"], "image"),
    ("target-aarch64", ["build", "--target", AARCH64], "full"),
    ("profile-custom", ["build", "--profile", "PROFILE"], "full"),
    ("check", ["check"], "full"),
    ("doc", ["doc"], "full"),
]
# Run only when named in --flag-sets (beyond the issue 12 list).
EXTRA_FLAG_SETS = [
    ("bench", ["bench", "--no-run"], "full"),
    ("examples", ["build", "--examples"], "full"),
]

# Commands `cargo chef cook` cannot run (it cooks `cargo build`, `check` or `clippy`).
CHEF_CANNOT_COOK = {"test", "doc"}

LOCK = threading.Lock()


def log(msg):
    with LOCK:
        print(f"[{datetime.datetime.now(datetime.timezone.utc):%H:%M:%S}] {msg}", flush=True)


def run(cmd, cwd, env, timeout=1200):
    """Runs a command; returns (code, stdout, stderr). Never raises on failure."""
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return -1, b"", f"timeout after {timeout}s: {' '.join(cmd)}"
    except OSError as e:
        return -1, b"", f"{e}: {' '.join(cmd)}"


def tail(text, n=15):
    lines = [l for l in text.splitlines() if l.strip() and not re.match(
        r"\s*(Downloaded|Downloading|Updating|Locking|Adding|Blocking|Fetch|Compiling)\b", l)]
    return "\n".join(lines[-n:])


# ---------------------------------------------------------------- unit graph normalization

PKG_ID_NEW = re.compile(r"^(?P<src>[a-z]+\+[^#]*)#(?:(?P<name>[^@]+)@)?(?P<ver>.+)$")
PKG_ID_OLD = re.compile(r"^(?P<name>\S+) (?P<ver>\S+) \((?P<src>.+)\)$")


def parse_pkg_id(pkg_id):
    """(name, version, source) from either package id spelling."""
    m = PKG_ID_NEW.match(pkg_id)
    if m:
        src, name, ver = m.group("src"), m.group("name"), m.group("ver")
        if name is None:  # `path+file:///x/foo#1.0.0`: the name is the last path segment
            name = src.rstrip("/").rsplit("/", 1)[-1]
        return name, ver, src
    m = PKG_ID_OLD.match(pkg_id)
    if m:
        return m.group("name"), m.group("ver"), m.group("src")
    return pkg_id, "", ""


def is_local(src):
    return src.startswith("path+") or src.startswith("file://")


def unit_key(u):
    name, ver, src = parse_pkg_id(u["pkg_id"])
    t = u["target"]
    prof = json.dumps(u.get("profile", {}), sort_keys=True)
    return (
        f"{name}@{ver} ({src})",
        ",".join(t.get("kind", [])) + ":" + t.get("name", ""),
        ",".join(t.get("crate_types", [])),
        prof,
        ",".join(sorted(u.get("features", []))),
        u.get("mode", ""),
        u.get("platform") or "host",
    )


def load_graph(raw):
    """Externals (Counter of keys), external->external edges (Counter), local package names."""
    data = None
    for line in raw.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line.startswith("{") and '"units"' in line:
            data = json.loads(line)
    if data is None:
        raise ValueError("no unit graph in cargo's output")
    units = data["units"]
    keys = []
    local = []
    for u in units:
        _, _, src = parse_pkg_id(u["pkg_id"])
        local.append(is_local(src))
        keys.append(unit_key(u))
    ext = collections.Counter(k for k, l in zip(keys, local) if not l)
    edges = collections.Counter()
    for i, u in enumerate(units):
        if local[i]:
            continue
        for d in u.get("dependencies", []):
            j = d["index"]
            if not local[j]:
                edges[(keys[i], keys[j], d.get("extern_crate_name", ""))] += 1
    return {"units": ext, "edges": edges, "total": len(units)}


PROFILE_SHORT = ["name", "opt_level", "debuginfo", "panic", "lto", "codegen_units",
                 "debug_assertions", "overflow_checks", "strip", "incremental"]


def describe(key):
    pkg, target, crate_types, prof, feats, mode, platform = key
    p = json.loads(prof)
    ps = " ".join(f"{f}={p[f]}" for f in PROFILE_SHORT if f in p)
    return f"{pkg.split(' ')[0]} {target} mode={mode} platform={platform} features=[{feats}] profile[{ps}]"


def explain(key, others):
    """The unit, and how it differs from the closest unit of the same package and target
    on the other side (if any): that usually names the construct."""
    same = [o for o in others if o[0] == key[0] and o[1] == key[1]]
    text = describe(key)
    if not same:
        return text + "  (package+target absent on the other side)"
    best, best_d = None, None
    for o in same:
        d = []
        if o[5] != key[5]:
            d.append(f"mode {o[5]}")
        if o[6] != key[6]:
            d.append(f"platform {o[6]}")
        if o[4] != key[4]:
            a, b = set(key[4].split(",")) - {""}, set(o[4].split(",")) - {""}
            d.append(f"features other side -{sorted(a - b)} +{sorted(b - a)}")
        pa, pb = json.loads(key[3]), json.loads(o[3])
        for f in sorted(set(pa) | set(pb)):
            if pa.get(f) != pb.get(f):
                d.append(f"profile.{f} other side {pb.get(f)!r}")
        if best_d is None or len(d) < len(best_d):
            best, best_d = o, d
    return text + "  (closest other-side unit differs: " + "; ".join(best_d) + ")"


def compare(real, skel):
    missing = real["units"] - skel["units"]
    extra = skel["units"] - real["units"]
    m_edges = real["edges"] - skel["edges"]
    x_edges = skel["edges"] - real["edges"]
    return {
        "real_units": sum(real["units"].values()),
        "skel_units": sum(skel["units"].values()),
        "missing": sum(missing.values()),
        "extra": sum(extra.values()),
        "missing_edges": sum(m_edges.values()),
        "extra_edges": sum(x_edges.values()),
        "exact": not missing and not extra and not m_edges and not x_edges,
        "missing_list": [explain(k, list(skel["units"])) for k in sorted(missing)][:40],
        "extra_list": [explain(k, list(real["units"])) for k in sorted(extra)][:40],
        "missing_edges_list": [f"{describe(a)} -> {describe(b)} as {n}"
                               for a, b, n in sorted(m_edges)][:10],
        "extra_edges_list": [f"{describe(a)} -> {describe(b)} as {n}"
                             for a, b, n in sorted(x_edges)][:10],
    }


# ---------------------------------------------------------------- per workspace


def cargo_env(args):
    env = dict(os.environ)
    env["RUSTC_BOOTSTRAP"] = "1"
    env["CARGO_TERM_COLOR"] = "never"
    if args.toolchain:
        env["RUSTUP_TOOLCHAIN"] = args.toolchain  # over the trees' rust-toolchain files
    for k in ("CARGO_TARGET_DIR", "CARGO_BUILD_TARGET", "RUSTFLAGS"):
        env.pop(k, None)
    if args.git_config:
        # Git dependencies served from local mirrors through `url.<base>.insteadOf`, which
        # only the git CLI honours.
        env["GIT_CONFIG_GLOBAL"] = os.path.abspath(args.git_config)
        env["CARGO_NET_GIT_FETCH_WITH_CLI"] = "true"
    return env


def unit_graph_cmd(argv, extra=()):
    sub, rest = argv[0], argv[1:]
    return ["cargo", sub, "--unit-graph", "-Z", "unstable-options", "--ignore-rust-version",
            *rest, *extra]


def metadata(tree, env):
    code, out, err = run(["cargo", "metadata", "--no-deps", "--format-version", "1"], tree, env)
    if code != 0:
        raise RuntimeError(f"cargo metadata failed in {tree}:\n{tail(err)}")
    return json.loads(out)


def pick_bin_package(meta, name, override):
    if override:
        return override
    members = set(meta["workspace_members"])
    with_bin = [p for p in meta["packages"] if p["id"] in members
                and any("bin" in t["kind"] for t in p["targets"])]
    for p in with_bin:  # the package named like the repository, else the one with most deps
        if p["name"] in (name, name.replace("-", "_")):
            return p["name"]
    if not with_bin:
        return None
    return max(with_bin, key=lambda p: (len(p["dependencies"]), p["name"]))["name"]


def bin_names(meta, pkg):
    for p in meta["packages"]:
        if p["name"] == pkg:
            return [t["name"] for t in p["targets"] if "bin" in t["kind"]]
    return []


def custom_profile(tree):
    """The first custom profile of the root manifest (neither dev/release/test/bench), if any."""
    try:
        with open(os.path.join(tree, "Cargo.toml"), encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    for m in re.finditer(r"^\[profile\.([A-Za-z0-9_-]+)\]", text, re.M):
        if m.group(1) not in ("dev", "release", "test", "bench", "doc"):
            return m.group(1)
    return None


class Workspace:
    def __init__(self, args, name, tree, bin_override):
        self.args = args
        self.name = name
        self.src_tree = tree
        self.bin_override = bin_override
        self.work = os.path.join(args.work, name)
        self.env = cargo_env(args)
        self.logf = None
        self.result = {"workspace": name, "flag_sets": {}, "notes": []}

    def note(self, msg):
        self.result["notes"].append(msg)
        self.w(f"NOTE: {msg}")

    def w(self, text):
        self.logf.write(text + "\n")
        self.logf.flush()

    def layout_dir(self, skeleton, base):
        """The directory cook runs in: the workspace's place inside the laid-out tree."""
        with open(os.path.join(skeleton, "cargo-prebuild.json"), encoding="utf-8") as f:
            ws = json.load(f).get("workspace", ".")
        d = os.path.normpath(os.path.join(base, ws))
        os.makedirs(d, exist_ok=True)
        return d

    def graph(self, cwd, argv, extra=()):
        code, out, err = run(unit_graph_cmd(argv, extra), cwd, self.env)
        if code != 0:
            return None, tail(err)
        try:
            return load_graph(out), None
        except (ValueError, KeyError) as e:
            return None, f"{e}\n{tail(err)}"

    def prepare_prebuild(self, real, tag, extra):
        skel = os.path.join(self.work, f"pb-skel-{tag}")
        base = os.path.join(self.work, f"pb-tree-{tag}")
        prebuild = os.path.abspath(self.args.prebuild)
        t0 = time.time()
        code, _, err = run([prebuild, "prepare", "--skeleton", skel, *extra], real, self.env)
        if code != 0:
            return None, f"prepare {' '.join(extra)} failed:\n{tail(err)}"
        prep_s = time.time() - t0
        os.makedirs(base, exist_ok=True)
        e = self.layout_dir(skel, base)
        code, _, err = run([prebuild, "cook", "--skeleton", skel, "--no-build"], e, self.env)
        if code != 0:
            return None, f"cook --no-build failed:\n{tail(err)}"
        self.w(f"prebuild {tag}: prepare {prep_s:.2f}s, laid out in {e}")
        return e, None

    def prepare_chef(self, real, tag, extra):
        recipe = os.path.join(self.work, f"chef-recipe-{tag}.json")
        e = os.path.join(self.work, f"chef-tree-{tag}")
        os.makedirs(e, exist_ok=True)
        chef = os.path.abspath(self.args.chef)
        code, _, err = run([chef, "chef", "prepare", "--recipe-path", recipe, *extra], real,
                           self.env)
        if code != 0:
            return None, f"cargo chef prepare {' '.join(extra)} failed:\n{tail(err)}"
        code, _, err = run([chef, "chef", "cook", "--recipe-path", recipe, "--no-build"], e,
                           self.env)
        if code != 0:
            return None, f"cargo chef cook --no-build failed:\n{tail(err)}"
        return e, None

    def locked_check(self, e, label):
        code, _, err = run(unit_graph_cmd(["build"], ["--locked"]), e, self.env)
        ok = code == 0
        self.w(f"{label} --locked: {'ok' if ok else 'FAILS'}" + ("" if ok else "\n" + tail(err, 6)))
        return ok if ok else tail(err, 4)

    def execute(self):
        if os.path.exists(self.work):
            shutil.rmtree(self.work)
        os.makedirs(self.work)
        self.logf = open(os.path.join(self.args.out, "logs", f"{self.name}.log"), "w",
                         encoding="utf-8")
        try:
            self._execute()
        except Exception as e:  # one broken workspace must not stop the others
            self.note(f"aborted: {type(e).__name__}: {e}")
        finally:
            self.logf.close()
        return self.result

    def _execute(self):
        a = self.args
        real = os.path.join(self.work, "real")
        # A copy, so cargo's lockfile updates never touch the fetched tree.
        shutil.copytree(self.src_tree, real, symlinks=True)
        lock = os.path.join(real, "Cargo.lock")
        if not os.path.exists(lock):
            code, _, err = run(["cargo", "generate-lockfile"], real, self.env)
            if code != 0:
                raise RuntimeError(f"cargo generate-lockfile failed:\n{tail(err)}")
            self.note("no Cargo.lock in the repository: generated one in the real tree first "
                      "(both tools then start from the same lockfile)")
        else:
            code, _, err = run(unit_graph_cmd(["build"], ["--locked"]), real, self.env)
            self.result["real_locked"] = code == 0
            if code != 0:
                self.note("the repository's own Cargo.lock is not up to date (real `--locked` "
                          "fails); cargo updates it in the real tree first:\n" + tail(err, 4))
                run(["cargo", "update", "--workspace"], real, self.env)
        meta = metadata(real, self.env)
        members = len(meta["workspace_members"])
        bin_pkg = pick_bin_package(meta, self.name, self.bin_override)
        profile = custom_profile(real)
        self.result.update(members=members, bin_pkg=bin_pkg, custom_profile=profile)
        self.w(f"{self.name}: {members} members, bin package {bin_pkg}, custom profile {profile}")

        tools = {}
        pb_full, err = self.prepare_prebuild(real, "full", [])
        tools["prebuild"] = {"full": (pb_full, err)}
        if bin_pkg:
            tools["prebuild"]["image"] = self.prepare_prebuild(real, "image", ["-p", bin_pkg])
        if a.chef:
            ch_full = self.prepare_chef(real, "full", [])
            tools["chef"] = {"full": ch_full}
            if bin_pkg:
                bins = bin_names(meta, bin_pkg)
                extra = ["--bin", bins[0]] if bins else []
                tools["chef"]["image"] = self.prepare_chef(real, "image", extra)
        for tool, dirs in tools.items():
            for kind, (e, err) in dirs.items():
                if err:
                    self.note(f"{tool} {kind} skeleton: {err}")
                    self.result.setdefault("setup_errors", {})[f"{tool}-{kind}"] = err
                else:
                    # Before any unlocked run can rewrite the skeleton's lockfile.
                    key = tool if kind == "full" else f"{tool}-{kind}"
                    self.result.setdefault("locked", {})[key] = self.locked_check(e, key)

        for fs_name, argv, kind in FLAG_SETS + EXTRA_FLAG_SETS:
            wanted = a.flag_sets or {n for n, _, _ in FLAG_SETS}
            if fs_name not in wanted:
                continue
            if "BIN_PKG" in argv and not bin_pkg:
                continue
            if "PROFILE" in argv and not profile:
                continue
            argv = [bin_pkg if x == "BIN_PKG" else profile if x == "PROFILE" else x
                    for x in argv]
            rg, rerr = self.graph(real, argv)
            entry = {"argv": argv, "skeleton": kind}
            self.result["flag_sets"][fs_name] = entry
            if rg is None:
                entry["real_error"] = rerr
                self.w(f"== {fs_name}: real graph failed:\n{rerr}")
                continue
            entry["real_units"] = sum(rg["units"].values())
            for tool, dirs in tools.items():
                e, err = dirs.get(kind, (None, "no skeleton"))
                if e is None:
                    entry[tool] = {"error": "skeleton: " + (err or "")[:500]}
                    continue
                sg, serr = self.graph(e, argv)
                if sg is None:
                    entry[tool] = {"error": serr}
                    self.w(f"== {fs_name} [{tool}]: skeleton graph failed:\n{serr}")
                    continue
                c = compare(rg, sg)
                entry[tool] = c
                self.w(f"== {fs_name} [{tool}] {' '.join(argv)}: real {c['real_units']} "
                       f"skeleton {c['skel_units']} missing {c['missing']} extra {c['extra']} "
                       f"edges -{c['missing_edges']} +{c['extra_edges']}"
                       + ("  EXACT" if c["exact"] else ""))
                for label in ("missing_list", "extra_list", "missing_edges_list",
                              "extra_edges_list"):
                    for line in c[label][:a.show]:
                        self.w(f"   {label.split('_list')[0]}: {line}")
            log(f"{self.name} {fs_name}: " + ", ".join(
                f"{t} {cell(entry.get(t))}" for t in tools))


# ---------------------------------------------------------------- report


def cell(c):
    if c is None:
        return "-"
    if "error" in c:
        return "error"
    if c["exact"]:
        return "exact"
    s = f"-{c['missing']}/+{c['extra']}"
    if c["missing_edges"] or c["extra_edges"]:
        s += f" (edges -{c['missing_edges']}/+{c['extra_edges']})"
    return s


def report(results, args, meta_line):
    out = [f"# Exactness on real workspaces\n", meta_line, "",
           "Cell: `exact`, or `-missing/+extra` external units (edges between external units in "
           "brackets when they differ too); `error` = the skeleton's unit graph failed (see the "
           "log). Missing = compiled again by the real build after the cook; extra = wasted "
           "cook work.", ""]
    tools = ["prebuild"] + (["chef"] if args.chef else [])
    # Summary: per tool, exact flag sets / total.
    out.append("## Summary\n")
    out.append("| workspace | members | " + " | ".join(
        f"{t} exact" for t in tools) + " | " + " | ".join(f"{t} `cook --locked`" for t in tools)
        + " |")
    out.append("| --- | ---: | " + " | ".join(["---:"] * (2 * len(tools))) + " |")
    for r in results:
        fs = r["flag_sets"]
        cells = []
        for t in tools:
            n = sum(1 for e in fs.values() if "real_units" in e)
            x = sum(1 for e in fs.values() if e.get(t, {}).get("exact"))
            cells.append(f"{x}/{n}")
        locks = []
        for t in tools:
            lk = r.get("locked", {})
            v = ["ok" if x is True else "-" if x is None else "fails"
                 for x in (lk.get(t), lk.get(f"{t}-image"))]
            locks.append(v[0] if v[1] == "-" else f"{v[0]} / image {v[1]}")
        out.append(f"| {r['workspace']} | {r.get('members', '?')} | " + " | ".join(cells)
                   + " | " + " | ".join(locks) + " |")
    out.append("")
    names = [n for n, _, _ in FLAG_SETS + EXTRA_FLAG_SETS
             if any(n in r["flag_sets"] for r in results)]
    for t in tools:
        out.append(f"## {t}: per flag set\n")
        out.append("| workspace | " + " | ".join(names) + " |")
        out.append("| --- | " + " | ".join("---" for _ in names) + " |")
        for r in results:
            row = []
            for n in names:
                e = r["flag_sets"].get(n)
                if e is None:
                    row.append("n/a")
                elif "real_error" in e:
                    row.append("real fails")
                else:
                    mark = "†" if t == "chef" and e["argv"][0] in CHEF_CANNOT_COOK else ""
                    row.append(cell(e.get(t)) + mark)
            out.append(f"| {r['workspace']} | " + " | ".join(row) + " |")
        if t == "chef":
            out.append("† cargo-chef's cook has no such command (it cooks `build`, `check`, "
                       "`clippy`); the cell judges its skeleton under the real command.")
        out.append("")
    skipped = [(c[0].lstrip("#"), c[4].split("SKIPPED: ", 1)[1])
               for c in read_list(args.list, skipped=True) if "SKIPPED: " in c[4]]
    if skipped:
        out.append("## Not measured\n")
        for w, why in skipped:
            out.append(f"- {w}: {why}")
        out.append("")
    notes = [(r["workspace"], n) for r in results for n in r["notes"]]
    if notes:
        out.append("## Notes\n")
        for w, n in notes:
            lines = [l.strip() for l in n.splitlines() if l.strip()]
            # The first line says what failed, the last one (cargo's innermost cause) why.
            text = lines[0] + (f" {lines[-1]}" if len(lines) > 1 else "")
            out.append(f"- {w}: {text}")
        out.append("")
    return "\n".join(out)


def read_list(path, skipped=False):
    """The rows of workspaces.tsv; with `skipped`, only the commented-out workspace rows."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("# ") or line.startswith("#\t"):
                continue
            if line.startswith("#") != skipped:
                continue
            cols = line.rstrip("\n").split("\t")
            rows.append(cols + [""] * (5 - len(cols)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trees", help="directory holding one fetched tree per "
                    "workspace, named as in workspaces.tsv")
    ap.add_argument("--prebuild", help="cargo-prebuild binary")
    ap.add_argument("--chef", help="cargo-chef binary (adds its column)")
    ap.add_argument("--list", default=os.path.join(HERE, "workspaces.tsv"))
    ap.add_argument("--only", help="comma-separated workspace names")
    ap.add_argument("--flag-sets", help="comma-separated flag set names (default: all)")
    ap.add_argument("--jobs", type=int, default=1, help="workspaces run concurrently")
    ap.add_argument("--toolchain", default="stable", help="RUSTUP_TOOLCHAIN for every cargo "
                    "command (overrides the trees' toolchain files); empty to leave it")
    ap.add_argument("--work", default="/tmp/exactness-work", help="scratch directory")
    ap.add_argument("--out", default="/tmp/exactness-out", help="results.json, RESULTS.md, logs/")
    ap.add_argument("--git-config", help="git config file mapping git dependencies to local "
                    "mirrors (default: TREES/gitconfig if present)")
    ap.add_argument("--label", default="", help="what was measured, for the report header "
                    "(for example the cargo-prebuild commit)")
    ap.add_argument("--show", type=int, default=8, help="differing units logged per list")
    ap.add_argument("--render", metavar="RESULTS_JSON", help="only print the report of an "
                    "earlier run's results.json")
    args = ap.parse_args()
    if args.render:
        with open(args.render, encoding="utf-8") as f:
            done = json.load(f)
        args.chef = args.chef or any("chef" in e for r in done["results"]
                                     for e in r["flag_sets"].values())
        args.flag_sets = None
        print(report(done["results"], args, done["meta"]))
        return 0
    if not args.trees or not args.prebuild:
        ap.error("--trees and --prebuild are required (except with --render)")
    args.flag_sets = set(args.flag_sets.split(",")) if args.flag_sets else None
    if args.git_config is None and os.path.isfile(os.path.join(args.trees, "gitconfig")):
        args.git_config = os.path.join(args.trees, "gitconfig")
    os.makedirs(os.path.join(args.out, "logs"), exist_ok=True)
    os.makedirs(args.work, exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    todo = []
    for name, repo, commit, bin_pkg, _ in read_list(args.list):
        if only and name not in only:
            continue
        tree = os.path.join(args.trees, name)
        if not os.path.isfile(os.path.join(tree, "Cargo.toml")):
            log(f"skip {name}: no tree at {tree} (fetch {repo} {commit})")
            continue
        todo.append(Workspace(args, name, tree, bin_pkg))
    # Smaller workspaces first, so the table fills early.
    todo.sort(key=lambda w: lock_size(w.src_tree))
    code, out, _ = run([os.path.abspath(args.prebuild), "--version"], ".", os.environ)
    pb_version = out.decode().strip() if code == 0 else "?"
    env = cargo_env(args)
    _, cv, _ = run(["cargo", "--version"], ".", env)
    meta_line = (f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC "
                 f"with {pb_version}{' (' + args.label + ')' if args.label else ''}, {cv.decode().strip()} (RUSTC_BOOTSTRAP=1, "
                 f"RUSTUP_TOOLCHAIN={args.toolchain or 'unset'})"
                 + (f", cargo-chef {chef_version(args.chef)}" if args.chef else "") + ".")
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = {pool.submit(w.execute): w for w in todo}
        for fut in concurrent.futures.as_completed(futs):
            r = fut.result()
            results.append(r)
            log(f"done {r['workspace']}")
            results.sort(key=lambda r: r["workspace"])
            write_outputs(results, args, meta_line)
    write_outputs(results, args, meta_line)
    print(report(results, args, meta_line))


def lock_size(tree):
    try:
        return os.path.getsize(os.path.join(tree, "Cargo.lock"))
    except OSError:
        return 0


def chef_version(chef):
    code, out, _ = run([chef, "chef", "--version"], ".", os.environ)
    return out.decode().strip().split()[-1] if code == 0 and out.strip() else "?"


def write_outputs(results, args, meta_line):
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta_line, "results": results}, f, indent=1)
    with open(os.path.join(args.out, "RESULTS.md"), "w", encoding="utf-8") as f:
        f.write(report(results, args, meta_line) + "\n")


if __name__ == "__main__":
    sys.exit(main())
