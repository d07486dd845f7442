#!/usr/bin/env bash
# Cache hit rate of `cargo prebuild prepare` over real manifest histories (issue 4).
#
#   bench/hitrate/run.sh [CORPUS_NAME ...]      # default: every *.git.tar.gz in the corpus dir
#
# Environment:
#   HITRATE_CORPUS  corpus directory (default: <repo>/../shared/corpus)
#   HITRATE_OUT     results directory (default: a new /tmp/hitrate.XXXXXX)
#   HITRATE_JOBS    parallel prepare runs (default: 2)
#   HITRATE_LIMIT   only the newest N commits of each corpus (default: all)
#   HITRATE_BIN     measure this cargo-prebuild binary instead of building the repo's
#   HITRATE_KEEP    1 = keep every distinct skeleton under $HITRATE_OUT/<corpus>/store
#                   (named by the first 16 hex digits of its tree hash; default: 1)
#
# Writes $HITRATE_OUT/<corpus>.json (hitrate.py results), table.md (summary + causes),
# and prints the tables.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
corpus_dir=${HITRATE_CORPUS:-$repo/../shared/corpus}
corpus_dir=$(cd "$corpus_dir" && pwd)
jobs=${HITRATE_JOBS:-2}
keep=${HITRATE_KEEP:-1}
out=${HITRATE_OUT:-$(mktemp -d /tmp/hitrate.XXXXXX)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

t0=$(date +%s)
if [ -z "${HITRATE_BIN:-}" ]; then
  echo "== building cargo-prebuild (release)" >&2
  cargo build --release --manifest-path "$repo/Cargo.toml" >&2
fi
# A private copy, so a concurrent rebuild cannot change the binary mid-run.
mkdir -p "$out/bin"
cp "${HITRATE_BIN:-$repo/target/release/cargo-prebuild}" "$out/bin/cargo-prebuild"
bin="$out/bin/cargo-prebuild"
git -C "$repo" rev-parse HEAD > "$out/commit.txt" 2>/dev/null || true
git -C "$repo" status --porcelain -- src Cargo.toml Cargo.lock > "$out/dirty.txt" 2>/dev/null || true

if [ $# -gt 0 ]; then
  corpora=()
  for n in "$@"; do corpora+=("$corpus_dir/${n%.git.tar.gz}.git.tar.gz"); done
else
  corpora=("$corpus_dir"/*.git.tar.gz)
fi

limit=()
[ -n "${HITRATE_LIMIT:-}" ] && limit=(--limit "$HITRATE_LIMIT")

jsons=()
for c in "${corpora[@]}"; do
  name=$(basename "$c" .git.tar.gz)
  echo "== $name" >&2
  keepargs=()
  if [ "$keep" = 1 ]; then
    rm -rf "$out/$name"; mkdir -p "$out/$name"
    keepargs=(--keep-tmp --workdir "$out/$name")
  fi
  s=$(date +%s)
  python3 "$corpus_dir/hitrate.py" run --corpus "$c" \
    --prepare "'$bin' prepare --quiet --skeleton \"\$OUT/skeleton\"" \
    --env CARGO_NET_OFFLINE=true --env RUSTUP_TOOLCHAIN=stable \
    --jobs "$jobs" "${limit[@]}" "${keepargs[@]}" -v \
    --json "$out/$name.json" > "$out/$name.summary.json" 2> >(tee "$out/$name.log" >&2)
  if [ "$keep" = 1 ]; then
    # hitrate.py keeps its scratch dir as <workdir>/hitrate-*/; expose its output store.
    st=$(ls -d "$out/$name"/hitrate-*/store 2>/dev/null | head -1 || true)
    [ -n "$st" ] && ln -sfn "$st" "$out/$name/store"
  fi
  echo "   $name: $(( $(date +%s) - s ))s" >&2
  jsons+=("$out/$name.json")
done

{
  echo "## Summary"; echo
  python3 "$corpus_dir/hitrate.py" table "${jsons[@]}"
  # The kinds level (issue 12): the skeleton mirrors which target kinds each package has, so
  # a first test, bench, example, bin or build script is a necessary change, a second is not.
  echo; echo "## Kinds level"; echo
  echo "| corpus | spurious misses (kinds) | unsafe hits (kinds) |"
  echo "|---|---:|---:|"
  for j in "${jsons[@]}"; do
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1][:-5]+".summary.json")); print("| %s | %s | %s |" % (d["corpus"], d["spurious_misses_kinds"], d["unsafe_hits_kinds"]))' "$j"
  done
  echo; echo "## Causes"; echo
  python3 "$corpus_dir/hitrate.py" table --causes "${jsons[@]}"
  echo
  echo "cargo-prebuild $(cat "$out/commit.txt" 2>/dev/null)$([ -s "$out/dirty.txt" ] && echo ' (+ uncommitted changes)'); total $(( $(date +%s) - t0 ))s"
} | tee "$out/table.md"
echo "results: $out" >&2
