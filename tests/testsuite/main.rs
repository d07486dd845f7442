//! cargo-prebuild's integration tests: one binary, a module per area.

// A failing assertion is how a test reports; these lints guard the product's code paths.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod cargo_flags;
mod cleanup;
mod cli;
mod commands;
mod content_freshness;
mod cook_safety;
mod determinism;
mod exactness;
mod fleet;
mod gates;
mod harness;
mod manifests;
mod matching;
mod minimal_key;
mod seeded_cook;
mod skeleton_archive;
mod skeleton_dir;
mod workspace_shapes;
