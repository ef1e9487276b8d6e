//! Jobs as host processes, each in its own process group; what leaves the group is still
//! found by the job's tag (see `descendants.rs`).

use super::descendants::JobTag;
use super::process_group::ProcessGroup;
use super::program_path::ProgramCache;
use super::supervisor::HostSupervisor;
use super::{Executor, ExecutorError, JobControl, JobLaunch, SpawnedJob};
use crate::scheduler::JobExit;
use crate::signals::PortReadiness;
use async_trait::async_trait;
use nix::sys::signal::Signal;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Command;

/// Runs every job as a process on this machine (the embedded default).
#[derive(Debug, Clone)]
pub struct LocalExecutor {
    programs: Arc<ProgramCache>,
    /// How long a job's leftover descendants get between SIGTERM and SIGKILL once its main
    /// process exited (`--stop-grace`).
    grace: Duration,
    /// Every run this executor started jobs for: what `shutdown` sweeps.
    runs: Arc<std::sync::Mutex<Vec<JobTag>>>,
    supervisor: Arc<HostSupervisor>,
}

impl Default for LocalExecutor {
    /// Unsupervised, with a 10 s grace: for tests and library users that reap nothing.
    fn default() -> Self {
        LocalExecutor::new(Duration::from_secs(10), HostSupervisor::unsupervised())
    }
}

impl LocalExecutor {
    /// Host jobs whose children are registered with, and orphans reaped by, `supervisor`.
    pub fn new(grace: Duration, supervisor: Arc<HostSupervisor>) -> Self {
        LocalExecutor {
            programs: Arc::default(),
            grace,
            runs: Arc::default(),
            supervisor,
        }
    }
}

#[async_trait]
impl Executor for LocalExecutor {
    async fn spawn(&self, launch: JobLaunch) -> Result<SpawnedJob, ExecutorError> {
        let Some((program, args)) = launch.argv.split_first() else {
            return Err(ExecutorError::NoCommand {
                job: launch.job_name,
            });
        };
        let mut command = host_command(
            &self.programs,
            program,
            args,
            &launch.env,
            &launch.working_dir,
        );
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own group: a terminal's Ctrl-C reaches pipekit-ci only, which then stops
            // each job (and all its children) in order.
            .process_group(0);
        let spawn_error = |source| ExecutorError::Spawn {
            job: launch.job_name.clone(),
            program: program.clone(),
            source,
        };
        let tag = JobTag::from_env(&launch.env);
        if let Some(run_id) = launch.env.iter().find(|(key, _)| key == "PIPEKIT_RUN_ID") {
            let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            let run = JobTag::run(&run_id.1);
            if !runs.contains(&run) {
                runs.push(run);
            }
        }
        let (mut child, own) = self
            .supervisor
            .spawn_own(&mut command)
            .map_err(spawn_error)?;
        let (Some(stdout), Some(stderr), Some(pid)) =
            (child.stdout.take(), child.stderr.take(), child.id())
        else {
            return Err(spawn_error(std::io::Error::other(
                "no pipes or pid for the child",
            )));
        };
        let group = ProcessGroup(pid as i32);
        let job = launch.job_name.clone();
        let grace = self.grace;
        let descendants = tag.clone();
        let supervisor = self.supervisor.clone();
        let exit = async move {
            let status = child.wait().await;
            drop(own);
            let status = status.map_err(|source| ExecutorError::Wait { job, source })?;
            // Whatever the job left behind ends with it, as GitHub's "Cleaning up orphan
            // processes" does: in its group (`sleep &`) or out of it (`setsid sleep &`).
            // Left alone it would outlive the run and hold the log pipes open.
            match &descendants {
                Some(tag) => {
                    tag.terminate(&supervisor, grace, || group.is_alive(), None)
                        .await
                }
                None => {
                    group.signal(Signal::SIGTERM);
                }
            }
            group.signal(Signal::SIGKILL);
            Ok(match (status.code(), status.signal()) {
                (Some(code), _) => JobExit::Code(code),
                (None, Some(signal)) => JobExit::Signal(signal),
                (None, None) => JobExit::Code(-1),
            })
        };
        Ok(SpawnedJob {
            stdout: Box::new(stdout),
            stderr: Box::new(stderr),
            exit: Box::pin(exit),
            control: Box::new(LocalControl {
                group,
                descendants: tag,
                env: launch.env,
                working_dir: launch.working_dir,
                programs: self.programs.clone(),
                supervisor: self.supervisor.clone(),
            }),
        })
    }

    /// Whatever of the run's host processes is still around (a job killed outright, an
    /// orphan that slipped out between scans) goes now: what carries the run's tag, and
    /// nothing of another run sharing the process.
    async fn shutdown(&self) {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for run in runs {
            run.kill_now(&self.supervisor).await;
        }
    }
}

/// Stops a host job through its process group and its tag.
struct LocalControl {
    group: ProcessGroup,
    descendants: Option<JobTag>,
    env: Vec<(String, String)>,
    working_dir: std::path::PathBuf,
    programs: Arc<ProgramCache>,
    supervisor: Arc<HostSupervisor>,
}

#[async_trait]
impl JobControl for LocalControl {
    async fn stop(&self, grace: Duration) {
        let group = self.group;
        let group_alive = group.signal(Signal::SIGTERM);
        match &self.descendants {
            Some(tag) => {
                tag.terminate(&self.supervisor, grace, || group.is_alive(), Some(group.0))
                    .await
            }
            None if group_alive => {
                let started = tokio::time::Instant::now();
                while started.elapsed() < grace && group.is_alive() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    self.supervisor.reap_orphans();
                }
            }
            None => {}
        }
        group.signal(Signal::SIGKILL);
    }

    fn kill(&self) {
        self.group.signal(Signal::SIGKILL);
        if let Some(tag) = &self.descendants {
            tag.signal(Signal::SIGKILL);
        }
    }

    fn address(&self) -> IpAddr {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    }

    fn port_readiness(&self) -> PortReadiness {
        PortReadiness::Processes {
            leader: self.group.0,
            tag: self.descendants.clone(),
        }
    }

    async fn probe(&self, argv: &[String], timeout: Duration) -> Result<bool, ExecutorError> {
        let Some((program, args)) = argv.split_first() else {
            return Ok(true);
        };
        let mut command = host_command(&self.programs, program, args, &self.env, &self.working_dir);
        command.stdout(Stdio::null()).stderr(Stdio::null());
        let (mut child, _own) =
            self.supervisor
                .spawn_own(&mut command)
                .map_err(|source| ExecutorError::Spawn {
                    job: "healthcheck".into(),
                    program: program.clone(),
                    source,
                })?;
        match tokio::time::timeout(timeout, child.wait()).await {
            Ok(Ok(status)) => Ok(status.success()),
            Ok(Err(_)) | Err(_) => Ok(false),
        }
    }
}

/// A command with exactly the job's environment and directory, no input, and killed if
/// pipekit-ci drops it.
fn host_command(
    programs: &ProgramCache,
    program: &str,
    args: &[String],
    env: &[(String, String)],
    dir: &Path,
) -> Command {
    let path = env
        .iter()
        .find(|(key, _)| key == "PATH")
        .map(|(_, value)| value.as_str());
    // Not found: spawn the bare name anyway, so the error is the OS's own "not found".
    let resolved = programs
        .resolve(program, path, dir)
        .unwrap_or_else(|| program.into());
    let mut command = Command::new(resolved);
    command
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(key, value)| (key, value)))
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}
