#!/usr/bin/env bash
# CI entry point for the container suite (issue 5): real multi-stage image builds of the
# README's Dockerfiles with buildah (no Docker engine needed; installs buildah, mmdebstrap and
# docker-registry with apt-get if missing). Needs root and the registry mirrors (apt, crates.io).
# Runs after the unit and integration tests in .ci/run. The registry scenario (reg: runners
# with empty image stores sharing a registry on loopback, cargo-prebuild next to cargo-chef)
# makes it about 15-20 minutes from an empty work dir on 2 cores (compiling cargo-prebuild
# and cargo-chef into the tool images is half of that; they stay for the next run), 7-8
# minutes warm (buildah; the docker engine's run about the same).
# cargo-prebuild is installed in the image from a clean export of the working tree
# (Cargo.toml, Cargo.lock, src/), like `cargo test` tests what is on disk;
# CARGO_PREBUILD_CONTAINER_SRC=head exports `git archive HEAD` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
exec tests/containers/run.sh "$@"
