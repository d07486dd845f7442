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
mod e2e;
mod exactness;
mod fidelity;
mod fleet;
mod gates;
mod harness;
mod key_and_seed;
mod matching;
mod minimal_key;
mod skeleton_archive;
mod skeleton_dir;
