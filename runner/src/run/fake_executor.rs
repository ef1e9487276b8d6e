//! An executor without processes, for the driver's tests: each job follows a script (how
//! long its start takes, what it prints, whether it exits on its own, whether a stop ends
//! it), and every call the driver makes is recorded, so a test asserts what the driver
//! did with a job — stopped, killed, left alone — rather than what a process did.

use crate::executor::{Executor, ExecutorError, JobControl, JobLaunch, SpawnedJob};
use crate::scheduler::JobExit;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// What one job does.
#[derive(Debug, Clone)]
pub(super) struct Script {
    /// How long the executor takes to start it (an image pull).
    pub start_takes: Duration,
    /// Printed on stdout at once.
    pub stdout: String,
    /// Exits on its own after this long, with `exit`; `None`: runs until stopped.
    pub runs_for: Option<Duration>,
    pub exit: JobExit,
    /// Whether a graceful stop ends it (a job that ignores SIGTERM: false).
    pub stops: bool,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            start_takes: Duration::ZERO,
            stdout: String::new(),
            runs_for: Some(Duration::from_millis(10)),
            exit: JobExit::Code(0),
            stops: true,
        }
    }
}

/// What the driver asked of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Call {
    Spawned,
    Stopped,
    Killed,
    Released,
}

/// Jobs by name, each following its script; the calls made, in order.
#[derive(Clone, Default)]
pub(super) struct FakeExecutor {
    scripts: BTreeMap<String, Script>,
    calls: Arc<Mutex<Vec<(String, Call)>>>,
}

impl FakeExecutor {
    pub(super) fn with(mut self, job: &str, script: Script) -> Self {
        self.scripts.insert(job.to_string(), script);
        self
    }

    /// The calls made for `job`, in order.
    pub(super) fn calls(&self, job: &str) -> Vec<Call> {
        self.calls
            .lock()
            .expect("calls")
            .iter()
            .filter(|(name, _)| name == job)
            .map(|(_, call)| *call)
            .collect()
    }
}

fn record(calls: &Mutex<Vec<(String, Call)>>, job: &str, call: Call) {
    calls.lock().expect("calls").push((job.to_string(), call));
}

#[async_trait]
impl Executor for FakeExecutor {
    async fn spawn(&self, launch: JobLaunch) -> Result<SpawnedJob, ExecutorError> {
        let script = self
            .scripts
            .get(&launch.job_name)
            .cloned()
            .unwrap_or_default();
        tokio::time::sleep(script.start_takes).await;
        record(&self.calls, &launch.job_name, Call::Spawned);
        // The exit a stop or a kill forces, if it comes first.
        let (ended, mut end) = watch::channel(None::<JobExit>);
        let runs_for = script.runs_for;
        let exit = async move {
            let forced = end.wait_for(Option::is_some);
            let exit = match runs_for {
                Some(after) => tokio::select! {
                    () = tokio::time::sleep(after) => script.exit,
                    forced = forced => forced.ok().and_then(|exit| *exit).unwrap_or(script.exit),
                },
                None => forced
                    .await
                    .ok()
                    .and_then(|exit| *exit)
                    .unwrap_or(JobExit::Code(-1)),
            };
            Ok(exit)
        };
        Ok(SpawnedJob {
            stdout: Box::new(std::io::Cursor::new(script.stdout.into_bytes())),
            stderr: Box::new(std::io::Cursor::new(Vec::new())),
            exit: Box::pin(exit),
            control: Box::new(FakeControl {
                job: launch.job_name,
                stops: script.stops,
                ended,
                calls: self.calls.clone(),
            }),
        })
    }
}

struct FakeControl {
    job: String,
    stops: bool,
    ended: watch::Sender<Option<JobExit>>,
    calls: Arc<Mutex<Vec<(String, Call)>>>,
}

#[async_trait]
impl JobControl for FakeControl {
    async fn stop(&self, grace: Duration) {
        record(&self.calls, &self.job, Call::Stopped);
        if self.stops {
            self.ended.send_replace(Some(JobExit::Signal(15)));
        } else {
            tokio::time::sleep(grace).await;
            self.kill();
        }
    }

    fn kill(&self) {
        record(&self.calls, &self.job, Call::Killed);
        self.ended.send_replace(Some(JobExit::Signal(9)));
    }

    fn address(&self) -> IpAddr {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    }

    async fn probe(&self, _argv: &[String], _timeout: Duration) -> Result<bool, ExecutorError> {
        Ok(true)
    }

    async fn release(&self) {
        record(&self.calls, &self.job, Call::Released);
    }
}
