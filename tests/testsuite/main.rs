//! cargo-prebuild's integration tests: one binary, a module per area.

mod support;

mod cli;
mod commands;
mod cook_safety;
mod determinism;
mod e2e;
mod minimal_key;
