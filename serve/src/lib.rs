//! pipekit-serve: the self-hosted service behind `pipekit-ci serve` (spec section 8).
//!
//! [`store`] is its memory: the queue and the history of runs in one SQLite database, the
//! only state besides the run folders, so that a restart loses nothing. [`queue_runner`]
//! works the queue: at most `max_runs` at once, each run tested as `run --commit` tests a
//! commit ([`queued_run`]), through the runner's session. Pushes come in through the
//! poller (a repository elsewhere fetched into its [`mirror`] first), the post-receive hook and forge webhooks ([`webhook`]). Each job's
//! state goes back to the forge as a commit status through an outbox ([`status`]).

pub mod access;
pub mod api;
pub mod branch_filter;
pub mod command;
pub mod config;
mod error_chain;
pub mod job_durations;
pub mod live_runs;
mod malloc_arenas;
pub mod mirror;
mod planned_runs;
pub mod poller;
pub mod push_policy;
pub mod queue_runner;
pub mod queued_run;
pub mod repository_url;
pub mod retention;
pub mod run_facts;
pub mod run_pruner;
pub mod run_tail;
pub mod service;
pub mod status;
pub mod store;
mod user_command;
pub mod waiting_jobs;
mod web;
pub mod webhook;
