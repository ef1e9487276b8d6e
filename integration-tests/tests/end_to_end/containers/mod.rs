//! Jobs in containers: the Docker executor against a real engine, seen from outside — exit
//! codes, `run.json`, logs, the run folder, and what the engine holds afterwards (found with
//! the `docker` command by pipekit-ci's labels).
//!
//! Every test but the one on an unreachable engine needs Docker and the local test image
//! (`scripts/docker-up.sh`); without them they fail, unless `PIPEKIT_SKIP_DOCKER_TESTS=1`.
//! Each holds a [`crate::common::ContainerTest`], which fails it if anything of its runs is
//! left at its end.

mod images;
mod lifecycle;
mod readiness;
mod sharing;
mod support;
