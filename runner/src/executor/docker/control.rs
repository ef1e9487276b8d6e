//! Stopping, probing and removing one job's container.

use super::engine::Engine;
use crate::executor::{ExecutorError, JobControl};
use crate::signals::PortReadiness;
use async_trait::async_trait;
use bollard::exec::StartExecResults;
use bollard::models::ExecConfig;
use bollard::query_parameters::{
    KillContainerOptions, RemoveContainerOptions, StopContainerOptions,
};
use futures_util::StreamExt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

pub struct DockerControl {
    pub engine: Engine,
    pub job: String,
    pub container: String,
    /// On the run's network; where `Port` signals knock.
    pub address: Option<IpAddr>,
    /// The socket tables of the container's network namespace, where readable.
    pub tables: Option<PathBuf>,
}

#[async_trait]
impl JobControl for DockerControl {
    async fn stop(&self, grace: Duration) {
        // The engine sends the image's stop signal (SIGTERM), waits, then SIGKILL.
        let options = StopContainerOptions {
            t: Some(grace.as_secs_f64().ceil().min(i32::MAX as f64) as i32),
            ..Default::default()
        };
        let _ = self
            .engine
            .long
            .stop_container(&self.container, Some(options))
            .await;
    }

    fn kill(&self) {
        let (docker, container) = (self.engine.quick.clone(), self.container.clone());
        tokio::spawn(async move {
            let options = KillContainerOptions {
                signal: "KILL".into(),
            };
            let _ = docker.kill_container(&container, Some(options)).await;
        });
    }

    fn address(&self) -> IpAddr {
        self.address.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// Every socket in the container's namespace is the container's, so any listener on the
    /// port counts.
    fn port_readiness(&self) -> PortReadiness {
        match &self.tables {
            Some(tables) => PortReadiness::Namespace {
                tables: tables.clone(),
                address: self.address(),
            },
            None => PortReadiness::Connect(self.address()),
        }
    }

    /// Compose's `healthcheck`: the test runs inside the container, as `docker exec` would.
    async fn probe(&self, argv: &[String], timeout: Duration) -> Result<bool, ExecutorError> {
        if argv.is_empty() {
            return Ok(true);
        }
        let failed = |what, error: bollard::errors::Error| ExecutorError::Engine {
            job: self.job.clone(),
            what,
            reason: error.to_string(),
        };
        let exec = self
            .engine
            .quick
            .create_exec(
                &self.container,
                ExecConfig {
                    cmd: Some(argv.to_vec()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| failed("healthcheck", e))?;
        let run = async {
            if let StartExecResults::Attached { mut output, .. } = self
                .engine
                .quick
                .start_exec(&exec.id, None)
                .await
                .map_err(|e| failed("healthcheck", e))?
            {
                while output.next().await.is_some() {}
            }
            let inspected = self
                .engine
                .quick
                .inspect_exec(&exec.id)
                .await
                .map_err(|e| failed("healthcheck", e))?;
            Ok(inspected.exit_code == Some(0))
        };
        match tokio::time::timeout(timeout, run).await {
            Ok(result) => result,
            Err(_) => Ok(false),
        }
    }

    /// A container `--keep-running` leaves up is never released: its job is let go of
    /// before it exits.
    async fn release(&self) {
        remove_container(&self.engine, &self.container).await;
    }
}

/// Removes a container and its anonymous volumes, running or not.
pub async fn remove_container(engine: &Engine, container: &str) {
    let options = RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    };
    let _ = engine
        .quick
        .remove_container(container, Some(options))
        .await;
}
