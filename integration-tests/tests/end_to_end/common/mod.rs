//! Helpers shared by the end-to-end tests.

mod binary;
mod processes;
mod project;
mod reports;

pub use binary::workspace_root;
pub use processes::{free_port, kill_processes, processes_with, python3_available, unique_marker};
pub use project::{Project, run_binary};
pub use reports::{RunJson, find_test_case, locations_in, parse_junit, pipeline_suite};
