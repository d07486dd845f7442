#!/usr/bin/env python3
"""List every spurious miss, unsafe hit and error of a hitrate.py result, with the
skeleton diff (`diff -r` of the two stored outputs; needs run.sh's HITRATE_KEEP=1).

  bench/hitrate/explain.py RESULTS_DIR [CORPUS_NAME ...] [--max-diff-lines N]
"""
import argparse
import glob
import json
import os
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("results")
ap.add_argument("corpora", nargs="*")
ap.add_argument("--max-diff-lines", type=int, default=40)
args = ap.parse_args()

names = args.corpora or sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(args.results, "*.json"))
                               if not p.endswith(".summary.json"))
for name in names:
    with open(os.path.join(args.results, name + ".json")) as f:
        d = json.load(f)
    rows, pairs = d["commits"], d["pairs"]
    store = os.path.join(args.results, name, "store")
    print(f"# {name}")
    for i, p in enumerate(pairs):
        a, b = rows[i], rows[i + 1]
        res = p.get("result")
        if res == "miss" and not p["oracle_dep"]:
            kind = "SPURIOUS MISS"
        elif res == "hit" and p["oracle_dep"]:
            kind = "UNSAFE HIT"
        elif res == "error":
            kind = "ERROR"
        else:
            continue
        print(f"\n## {kind} #{i}: {a['commit'][:10]} -> {b['commit'][:10]} "
              f"(upstream {a['upstream'][:10]} -> {b['upstream'][:10]}) {b['subject'][:70]!r}")
        if p.get("causes"):
            print("causes: " + "; ".join(p["causes"]))
        if p.get("oracle_changes"):
            print("oracle: " + ", ".join(p["oracle_changes"]))
        if kind == "ERROR":
            for r in (a, b):
                if r["rc"] != 0:
                    print(f"error at {r['commit'][:10]} (rc {r['rc']}):")
                    print("  " + (r.get("err") or "").strip().replace("\n", "\n  "))
            continue
        if kind == "SPURIOUS MISS" and a["out_hash"] and b["out_hash"]:
            da, db = (os.path.join(store, h[:16]) for h in (a["out_hash"], b["out_hash"]))
            if os.path.isdir(da) and os.path.isdir(db):
                out = subprocess.run(["diff", "-r", "-u", da, db], capture_output=True, text=True).stdout
                out = out.replace(da, "A").replace(db, "B").splitlines()
                keep = [ln for ln in out if not ln.startswith(("---", "+++", "diff "))
                        or ln.startswith("diff ")]
                print("\n".join("  " + ln for ln in keep[:args.max_diff_lines]))
                if len(keep) > args.max_diff_lines:
                    print(f"  ... {len(keep) - args.max_diff_lines} more lines")
    print()
