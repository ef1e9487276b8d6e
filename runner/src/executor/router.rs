//! One executor for the driver that sends each job where it belongs: a container job to the
//! container engine, every other job to the host.

use super::{DockerExecutor, Executor, ExecutorError, JobLaunch, LocalExecutor, SpawnedJob};
use async_trait::async_trait;

pub struct Router {
    pub local: LocalExecutor,
    /// Absent when no job of the run needs a container, or under `--executor local`.
    pub docker: Option<DockerExecutor>,
}

#[async_trait]
impl Executor for Router {
    async fn spawn(&self, launch: JobLaunch) -> Result<SpawnedJob, ExecutorError> {
        match (&launch.container, &self.docker) {
            (None, _) => self.local.spawn(launch).await,
            (Some(_), Some(docker)) => docker.spawn(launch).await,
            (Some(_), None) => Err(ExecutorError::NoEngine {
                job: launch.job_name,
            }),
        }
    }

    async fn shutdown(&self) {
        self.local.shutdown().await;
        if let Some(docker) = &self.docker {
            docker.shutdown().await;
        }
    }
}
