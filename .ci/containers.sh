#!/usr/bin/env bash
# CI entry point for the container suite (issue 5): real multi-stage image builds of the
# README's Dockerfiles with buildah (no Docker engine needed; installs buildah + mmdebstrap
# with apt-get if missing). Needs root and the registry mirrors (apt, crates.io).
# Runs after the unit and integration tests in .ci/run; about 2-4 minutes from an empty
# image store on 2 cores. Tests a clean export of the committed tree (git archive HEAD).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export CARGO_PREBUILD_CONTAINER_SRC=${CARGO_PREBUILD_CONTAINER_SRC:-head}
exec tests/containers/run.sh "$@"
