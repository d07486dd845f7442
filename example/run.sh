#!/usr/bin/env bash
# The main job on the example workspace, as a Dockerfile would run it, without Docker:
# prepare (planner) -> cook in an empty builder directory -> copy the real sources with old
# mtimes (like `COPY` of a checkout) -> real build through `cargo prebuild build --verify`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== prepare (planner stage)"
(cd "$here" && cargo prebuild prepare --skeleton "$work/skeleton")

echo "== cook --release (builder stage, empty directory)"
mkdir "$work/app"
(cd "$work/app" && cargo prebuild cook --skeleton "$work/skeleton" --release --locked)

echo "== COPY . . with sources older than the cook, then the real build"
tar -C "$here" --exclude=target --exclude=run.sh -cf - . | tar -C "$work/app" -xf -
find "$work/app" -path "$work/app/target" -prune -o -type f -exec touch -d 2020-04-16 {} +
(cd "$work/app" && cargo prebuild build --release --locked --verify)

echo "== the binary"
"$work/app/target/release/app"
