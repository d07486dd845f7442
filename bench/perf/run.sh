#!/usr/bin/env bash
# What cargo-prebuild costs and saves, side by side, in one run (issue 7). See README.md.
#
#   bench/perf/run.sh [--quick] [perf.py options]
#
#   --quick            a smoke run (sizes 1,50; 2–3 runs each; 1 full build): about 2 minutes
#   --sizes 1,50,500   member counts of the generated workspaces
#   --prepare-runs N   runs per prepare command (default 10)
#   --cook-runs N      cook/plain-build pairs (default 5)
#   --full-runs N      runs of (a), the full build (default 3)
#   --saving-runs N    runs of (b) and (c) (default 5)
#   --skip cook,saving sections to skip (prepare is needed by cook)
#   --cpus 0           prepare timings pinned to these CPUs (`taskset -c`; 0 = one core)
#   --no-chef, --no-hyperfine
#
# Environment:
#   PERF_WORK   scratch directory (default: a new /tmp/perf.XXXXXX, removed at the end
#               unless PERF_KEEP=1)
#   PERF_OUT    results file (default: $PERF_WORK/RESULTS.md; printed to stdout too)
#   PERF_INSTALL_CHEF=1  `cargo install cargo-chef --locked` first when it is missing
#
# Uses hyperfine for the prepare timings when installed (`apt-get install -y hyperfine`),
# cargo-chef when on PATH. Downloads the crates.io dependencies of the generated
# workspaces into the normal CARGO_HOME once (not timed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

args=()
for a in "$@"; do
  if [ "$a" = --quick ]; then
    args+=(--sizes 1,50 --prepare-runs 3 --cook-runs 2 --full-runs 1 --saving-runs 2)
  else
    args+=("$a")
  fi
done

work=${PERF_WORK:-}
if [ -z "$work" ]; then
  work=$(mktemp -d /tmp/perf.XXXXXX)
  [ "${PERF_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
out=${PERF_OUT:-$work/RESULTS.md}

if [ "${PERF_INSTALL_CHEF:-0}" = 1 ] && ! command -v cargo-chef >/dev/null; then
  echo "== cargo install cargo-chef --locked" >&2
  cargo install cargo-chef --locked >&2 || echo "cargo-chef could not be installed; going on without it" >&2
fi
command -v hyperfine >/dev/null || echo "note: hyperfine not found, timing prepare with Python" >&2

echo "== building cargo-prebuild (release)" >&2
cargo build --release --quiet --manifest-path "$repo/Cargo.toml" >&2
# A private copy, so a concurrent rebuild cannot change the binary mid-run.
mkdir -p "$work/bin"
cp "$repo/target/release/cargo-prebuild" "$work/bin/cargo-prebuild"
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$repo" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ]; then
  commit="$commit, with uncommitted changes"
fi

python3 "$here/perf.py" --bin "$work/bin/cargo-prebuild" --work "$work" --out "$out" \
  --commit "$commit" "${args[@]}"
