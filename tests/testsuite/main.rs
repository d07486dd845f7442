//! cargo-prebuild's integration tests: one binary, a module per area.

// A failing assertion is how a test reports; these lints guard the product's code paths.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod cargo_config;
mod cargo_flags;
mod cleanup;
mod cli;
mod commands;
mod content_freshness;
mod cook_safety;
mod dependency_sources;
mod determinism;
mod diff;
mod exactness;
mod fleet;
mod gates;
mod harness;
mod lockfile;
mod manifests;
mod matching;
mod minimal_key;
mod per_image;
mod real_packages;
mod rebuild_local;
mod secrets;
mod seeded_cook;
mod skeleton_archive;
mod skeleton_dir;
mod toolchain_files;
mod workspace_shapes;
