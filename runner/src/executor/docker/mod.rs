//! Jobs in containers through the Docker Engine API (bollard): one network per run, the
//! shared storage at `/pipekit`, the source tree at `/workspace`, and labels on everything
//! so nothing outlives the run unnoticed.

mod build_context;
mod cleanup;
mod container_spec;
mod control;
mod engine;
mod image;
mod labels;
mod secret_files;
mod streams;

pub use cleanup::Removed;
pub use container_spec::{SHARED_MOUNT, WORKSPACE_MOUNT};
pub use engine::{DockerError, Engine};
pub use labels::{Owner, RunIdentity};

use super::{ContainerLaunch, Executor, ExecutorError, JobLaunch, SpawnedJob};
use crate::scheduler::JobExit;
use async_trait::async_trait;
use bollard::errors::Error as BollardError;
use bollard::models::NetworkCreateRequest;
use bollard::query_parameters::{
    AttachContainerOptions, CreateContainerOptions, UploadToContainerOptions, WaitContainerOptions,
};
use container_spec::{DEFAULT_NETWORK, container_body, container_name, network_name};
use control::{DockerControl, remove_container};
use futures_util::StreamExt;
use image::{ImageCache, engine_message};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Runs container jobs of one run.
pub struct DockerExecutor {
    engine: Engine,
    run: RunIdentity,
    network: String,
    images: ImageCache,
    /// Containers run as the invoking user when it is not root, so what they write into
    /// shared storage and the source tree stays the user's.
    default_user: Option<String>,
    /// `--keep-running`: spare what is meant to stay up.
    keep_running: bool,
    /// Set once the engine went away mid-run, with what was seen: the run then ends as an
    /// environment error (exit 3) rather than as the jobs' failure.
    lost: Arc<OnceLock<String>>,
}

impl DockerExecutor {
    /// Reaps what dead runs left behind, and creates the run's network when `own_network`
    /// (two containers of the run can be up at once, so one may call the other by name).
    /// Without, containers use the engine's default network: the engine takes a quarter
    /// of a second to create and remove a network, which a chain of containers that never
    /// meet need not pay.
    pub async fn start(
        engine: Engine,
        run: RunIdentity,
        own_network: bool,
        keep_running: bool,
    ) -> Result<DockerExecutor, DockerError> {
        cleanup::reap_orphans(&engine).await?;
        let network = match own_network {
            true => network_name(&run.run_id),
            false => DEFAULT_NETWORK.to_string(),
        };
        if own_network {
            let request = NetworkCreateRequest {
                name: network.clone(),
                driver: Some("bridge".into()),
                labels: Some(run.labels()),
                ..Default::default()
            };
            engine
                .quick
                .create_network(request)
                .await
                .map_err(|error| DockerError::Refused {
                    host: engine.host.clone(),
                    what: "create the run's network",
                    reason: engine_message(&error),
                })?;
        }
        let uid = nix::unistd::getuid();
        let default_user = (!uid.is_root()).then(|| format!("{}:{}", uid, nix::unistd::getgid()));
        Ok(DockerExecutor {
            engine,
            run,
            network,
            images: ImageCache::default(),
            default_user,
            keep_running,
            lost: Arc::default(),
        })
    }

    /// Filled in if the engine is lost during the run (see `wait_for_exit`).
    pub fn engine_lost(&self) -> Arc<OnceLock<String>> {
        self.lost.clone()
    }

    /// Whether the engine still answers a ping, within a few seconds.
    async fn engine_answers(&self) -> bool {
        let ping = self.engine.quick.ping();
        matches!(
            tokio::time::timeout(std::time::Duration::from_secs(5), ping).await,
            Ok(Ok(_))
        )
    }

    fn failed(&self, job: &str, what: &'static str, error: &BollardError) -> ExecutorError {
        ExecutorError::Engine {
            job: job.to_string(),
            what,
            reason: engine_message(error),
        }
    }

    /// Writes the job's secrets into the created container, before it starts.
    async fn upload_secrets(
        &self,
        job: &str,
        name: &str,
        container: &ContainerLaunch,
    ) -> Result<(), ExecutorError> {
        let archive = secret_files::secrets_archive(&container.secrets).map_err(|error| {
            ExecutorError::Engine {
                job: job.to_string(),
                what: "write its secrets into the container",
                reason: error.to_string(),
            }
        })?;
        let options = UploadToContainerOptions {
            path: "/".to_owned(),
            ..Default::default()
        };
        self.engine
            .quick
            .upload_to_container(name, Some(options), bollard::body_full(archive.into()))
            .await
            .map_err(|e| self.failed(job, "write its secrets into the container", &e))
    }

    async fn create_and_start(
        &self,
        launch: &JobLaunch,
        container: &ContainerLaunch,
        image: &str,
    ) -> Result<(SpawnedJob, String), ExecutorError> {
        let job = launch.job_name.as_str();
        let body = container_body(
            launch,
            container,
            image,
            &self.run,
            &self.network,
            self.default_user.as_deref(),
        )
        .map_err(|error| ExecutorError::Engine {
            job: job.to_string(),
            what: "ports",
            reason: error.to_string(),
        })?;
        let name = container_name(&self.run.run_id, job);
        let options = CreateContainerOptions {
            name: Some(name.clone()),
            ..Default::default()
        };
        self.engine
            .quick
            .create_container(Some(options), body)
            .await
            .map_err(|e| self.failed(job, "create the container", &e))?;
        if !container.secrets.is_empty() {
            self.upload_secrets(job, &name, container).await?;
        }
        // Attached before the start, so not a line is missed.
        let attach = AttachContainerOptions {
            stream: true,
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        let attached = self
            .engine
            .long
            .attach_container(&name, Some(attach))
            .await
            .map_err(|e| self.failed(job, "attach to the container", &e))?;
        self.engine
            .quick
            .start_container(&name, None)
            .await
            .map_err(|e| self.failed(job, "start the container", &e))?;
        // Asked at once, not when the driver gets round to it. After the start, because
        // "not running" also describes a container that has not started; and a container
        // that already exited is answered at once.
        let exit = tokio::spawn(wait_for_exit(
            self.engine.clone(),
            name.clone(),
            job.to_string(),
            container.memory.as_ref().map(|limit| limit.text.clone()),
            self.lost.clone(),
        ));
        let (stdout, stderr) = streams::split_output(attached.output);
        // Knocking on the wrong address could fire a `Port` signal on some other listener:
        // no address, no start.
        let (address, tables) = match container.wants_address {
            true => {
                let (address, tables) =
                    self.network_of(&name)
                        .await
                        .ok_or_else(|| ExecutorError::Engine {
                            job: job.to_string(),
                            what: "find the container's address for its `Port` signals",
                            reason: format!("it has none on network `{}`", self.network),
                        })?;
                (Some(address), tables)
            }
            false => (None, None),
        };
        let control = DockerControl {
            engine: self.engine.clone(),
            job: job.to_string(),
            container: name.clone(),
            address,
            tables,
        };
        let job_name = job.to_string();
        let exit = async move {
            exit.await.unwrap_or_else(|error| {
                Err(ExecutorError::Engine {
                    job: job_name,
                    what: "wait for the container",
                    reason: error.to_string(),
                })
            })
        };
        Ok((
            SpawnedJob {
                stdout: Box::new(stdout),
                stderr: Box::new(stderr),
                exit: Box::pin(exit),
                control: Box::new(control),
            },
            name,
        ))
    }

    /// The container's address on the run's network, and the socket tables of its network
    /// namespace when this process can read them (see [`readable_tables`]).
    async fn network_of(&self, container: &str) -> Option<(IpAddr, Option<PathBuf>)> {
        let inspected = self
            .engine
            .quick
            .inspect_container(container, None)
            .await
            .ok()?;
        let tables = readable_tables(
            &self.engine.host,
            inspected.id.as_deref(),
            inspected.state.as_ref().and_then(|state| state.pid),
        );
        let networks = inspected.network_settings?.networks?;
        let address = networks
            .get(&self.network)?
            .ip_address
            .as_deref()?
            .parse()
            .ok()?;
        Some((address, tables))
    }
}

/// `/proc/<pid>/net` of the container's first process, where that pid is one of this
/// machine's: the engine is local and the process at that pid is in the container's cgroup
/// (an engine in a VM or another PID namespace reports pids that mean something else here).
/// `None` leaves `Port` signals to a connect probe.
fn readable_tables(host: &str, id: Option<&str>, pid: Option<i64>) -> Option<PathBuf> {
    let (id, pid) = (id?, pid.filter(|pid| *pid > 0)?);
    if !host.starts_with("unix://") {
        return None;
    }
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    if !cgroup.contains(id) {
        return None;
    }
    crate::signals::namespace_tables(pid)
}

#[async_trait]
impl Executor for DockerExecutor {
    async fn spawn(&self, launch: JobLaunch) -> Result<SpawnedJob, ExecutorError> {
        let Some(container) = launch.container.clone() else {
            return Err(ExecutorError::NoEngine {
                job: launch.job_name,
            });
        };
        let started = async {
            let image = self
                .images
                .prepare(&self.engine, &container.image, launch.progress.as_ref())
                .await
                .map_err(|reason| ExecutorError::Image {
                    image: container.image.to_string(),
                    reason,
                })?;
            match self.create_and_start(&launch, &container, &image).await {
                Ok((spawned, _)) => Ok(spawned),
                Err(error) => {
                    // Half made (created, not started): gone now rather than at the end.
                    let name = container_name(&self.run.run_id, &launch.job_name);
                    remove_container(&self.engine, &name).await;
                    Err(error)
                }
            }
        };
        match started.await {
            Ok(spawned) => Ok(spawned),
            // A pull, create or start that failed because the engine went away is the
            // run's problem (exit 3), not this job's: ask the engine whether it is there.
            Err(error) if !self.engine_answers().await => {
                let reason = error.to_string();
                let _ = self.lost.set(format!(
                    "lost the container engine at {}: {reason}",
                    self.engine.host
                ));
                Err(ExecutorError::EngineLost {
                    job: launch.job_name,
                    host: self.engine.host.clone(),
                    reason,
                })
            }
            Err(error) => Err(error),
        }
    }

    async fn shutdown(&self) {
        cleanup::remove_run(&self.engine, &self.run.run_id, self.keep_running).await;
    }
}

/// How many times, and how far apart, the engine is asked whether a container with a
/// memory limit that exited 137 was killed for memory: at most 200 ms more for a job
/// killed otherwise.
const OOM_ASKS: u32 = 5;
const OOM_ASK_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// The container's exit code. bollard reports a non-zero exit as an error: that is the
/// job's result, not a failure of the engine. A container the kernel killed for memory
/// says so (`State.OOMKilled`), not just 137.
async fn wait_for_exit(
    engine: Engine,
    container: String,
    job: String,
    memory_limit: Option<String>,
    lost: Arc<OnceLock<String>>,
) -> Result<JobExit, ExecutorError> {
    let mut wait = engine
        .long
        .wait_container(&container, None::<WaitContainerOptions>);
    let engine_lost = |reason: String| {
        let _ = lost.set(format!(
            "lost the container engine at {}: {reason}",
            engine.host
        ));
        ExecutorError::EngineLost {
            job: job.clone(),
            host: engine.host.clone(),
            reason,
        }
    };
    let code = match wait.next().await {
        Some(Ok(response)) => response.status_code as i32,
        Some(Err(BollardError::DockerContainerWaitError { code, .. })) => code as i32,
        // The engine answered, and refused: this container's problem, not a lost engine.
        Some(Err(error @ BollardError::DockerResponseServerError { .. })) => {
            return Err(ExecutorError::Engine {
                job: job.clone(),
                what: "wait for the container",
                reason: engine_message(&error),
            });
        }
        Some(Err(error)) => return Err(engine_lost(engine_message(&error))),
        None => return Err(engine_lost("it closed the connection".into())),
    };
    // 137 is 128 + SIGKILL, what an OOM kill leaves; only then is the inspect worth it.
    // The engine hears of the OOM kill and of the exit separately, and under load the
    // exit can come first (seen in CI): with a memory limit it is asked a few times.
    if code == 137 {
        let asks = if memory_limit.is_some() { OOM_ASKS } else { 1 };
        for ask in 1..=asks {
            if out_of_memory(&engine, &container).await {
                return Err(ExecutorError::OutOfMemory {
                    job,
                    limit: memory_limit,
                    code,
                });
            }
            if ask < asks {
                tokio::time::sleep(OOM_ASK_PAUSE).await;
            }
        }
    }
    Ok(JobExit::Code(code))
}

/// Whether the kernel killed the container for exceeding its memory limit.
async fn out_of_memory(engine: &Engine, container: &str) -> bool {
    engine
        .quick
        .inspect_container(container, None)
        .await
        .ok()
        .and_then(|inspected| inspected.state?.oom_killed)
        .unwrap_or(false)
}

/// `pipekit-ci gc`: reaps what runs whose pipekit-ci died left behind.
pub async fn collect_garbage(engine: &Engine) -> Result<Removed, DockerError> {
    cleanup::reap_orphans(engine).await
}

/// `pipekit-ci down`: removes what `--keep-running` left up for this pipeline file.
pub async fn take_down(engine: &Engine, pipeline_file: &Path) -> Result<Removed, DockerError> {
    cleanup::down(engine, pipeline_file).await
}
