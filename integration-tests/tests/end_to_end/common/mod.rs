//! Helpers shared by the end-to-end tests.

mod binary;
mod browser;
mod container_test;
mod docker;
mod git;
mod git_sandbox;
mod processes;
mod project;
mod reports;
mod serve_server;

pub use binary::{binary, workspace_root};
pub use browser::Browser;
pub use container_test::ContainerTest;
pub use docker::{
    LeftoverSweeper, container_labels, docker, docker_objects_of_run, engine_alone_or_skip,
    engine_or_skip, running_containers_of_run, test_image,
};
pub use git::{commit_all, git, init_and_commit};
pub use git_sandbox::GitSandbox;
pub use processes::{
    eventually, free_port, kill_processes, processes_with, python3_available, unique_marker,
};
pub use project::{Project, Started, run_binary, run_id_of};
pub use reports::{
    JobState, RunJson, RunStatus, find_test_case, locations_in, parse_junit, pipeline_suite,
};
pub use serve_server::{Server, name_of, served_repository};
