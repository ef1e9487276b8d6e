//! End-to-end tests: each builds a pipeline in a temp dir, runs the real `pipekit-ci`
//! binary on it and checks what a user can observe (exit code, output, the run folder).
//!
//! One test binary (Cargo's `tests/<name>/main.rs` layout) with a module per area, so the
//! suite links once.

mod artifacts_hostile;
mod cli;
mod commits;
mod common;
mod compose_projects;
mod containers;
mod events;
mod failures;
mod hooks;
mod hostile_output;
mod hygiene;
mod interrupts;
mod paper_examples;
mod resources;
mod secrets;
mod serve;
mod serve_auth;
mod serve_browser;
mod serve_mirrors;
mod serve_pages;
mod serve_repositories;
mod serve_rerun;
mod serve_statuses;
mod serve_streams;
mod serve_upkeep;
mod serve_users;
mod serve_webhooks;
mod shared_storage;
mod signals;
