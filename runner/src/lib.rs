//! pipekit-runner: the scheduler, executors, signal watchers, storage and reports behind
//! the `pipekit-ci` binary.
//!
//! Data flow: a validated [`pipekit_schema::Pipeline`] -> [`scheduler::Dispatcher`] decides
//! which job may start -> an [`executor::Executor`] runs it -> [`run::RunEvent`]s go out to
//! the reporters (progress, `run.json`, JUnit).

pub mod cli;
pub mod commit_test;
pub mod executor;
pub mod git;
pub mod hooks;
pub mod lexical_path;
pub mod pipeline_files;
pub mod recovery;
pub mod report;
pub mod run;
pub mod scheduler;
pub mod secrets;
pub mod session;
pub mod signals;
pub mod storage;
pub mod triggers;
