//! The driver: feeds events to the dispatcher and carries out its decisions.

use super::environment::{JobPlaces, argv_of, job_environment};
use super::event::{Reporter, RunEvent};
use super::log_writer::LogWriter;
use super::output_pump::OutputPump;
use super::workspaces::Workspaces;
use crate::executor::{
    ContainerLaunch, ExecutorError, ImageSource, JobControl, JobLaunch, Placement, ProgressSink,
    SHARED_MOUNT, SpawnedJob, WORKSPACE_MOUNT,
};
use crate::scheduler::{
    CancelReason, Decision, Dispatcher, FailReason, JobExit, Outcome, SchedulerEvent,
};
use crate::secrets::SecretFile;
use crate::signals::{GrepMatcher, watch_health, watch_port};
use crate::storage::{ArtifactStore, ExtractLimits, PackSummary, RunFolder, stage};
use pipekit_schema::{Awaited, JobId, Pipeline, SignalId, SignalKind, Stream};
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// How many pending conditions a waiting report names; the rest are counted.
const WAITING_SHOWN: usize = 3;

mod attach;
mod launch;
mod run_context;

pub use run_context::{RunContext, RunOptions};

use attach::end_unwanted;
use launch::{host_environment, left_running_at_end};

/// What the driver's tasks tell it.
pub(super) enum Message {
    Scheduler(SchedulerEvent),
    Output {
        job: JobId,
        stream: Stream,
        line: String,
    },
    /// The executor has started the job, or failed to.
    Spawned {
        job: JobId,
        result: Result<SpawnedJob, ExecutorError>,
    },
    /// How far a job's preparation got (pulling or building its image).
    Preparing {
        job: JobId,
        text: String,
    },
    /// The process exited and its output was read to the end.
    Exited {
        job: JobId,
        result: Result<JobExit, ExecutorError>,
        after_exit: AfterExit,
        /// Its JUnit files, looked for after its artifacts were staged (`None`: no `junit:`).
        junit_files: Option<Vec<PathBuf>>,
    },
    /// A job's archive, packed from its staged artifacts after its exit was reported.
    Packed {
        job: JobId,
        result: Result<PackSummary, String>,
    },
}

/// What was done with a job's outputs after it exited.
pub(super) struct AfterExit {
    artifacts: Option<Result<PackSummary, String>>,
    /// The artifacts were staged for its dependents; [`Message::Packed`] follows.
    packing: bool,
}

/// A started job: how to stop it, and the tasks to cancel when it ends.
struct Running {
    control: Arc<dyn JobControl>,
    watchers: Vec<AbortHandle>,
    /// Its output pumps and exit task, cancelled only when the run lets go of a job that
    /// keeps running.
    tasks: Vec<AbortHandle>,
}

/// Runs the pipeline to its end and reports every step. Returns true when interrupted.
/// A first message on `interrupts` stops the jobs gracefully, a second one kills them.
pub async fn execute(
    context: RunContext,
    reporters: &mut [Box<dyn Reporter>],
    mut interrupts: mpsc::UnboundedReceiver<()>,
) -> bool {
    let mut driver = Driver::new(context, reporters);
    driver.emit(RunEvent::RunStarted {
        run_id: driver.context.folder.id().to_string(),
        run_dir: driver.context.folder.root().to_path_buf(),
    });
    let mut queue: VecDeque<Decision> = driver.dispatcher.begin().into();
    for index in 0..driver.context.pipeline.jobs.len() {
        driver.report_waiting(JobId(index));
    }
    loop {
        while let Some(decision) = queue.pop_front() {
            driver.apply(decision, &mut queue);
        }
        // An archive still being packed is part of the run: its failure fails the run.
        if driver.dispatcher.is_done() && driver.packs_in_flight == 0 {
            break;
        }
        if driver.receiver.is_empty() {
            driver
                .reporters
                .iter_mut()
                .for_each(|reporter| reporter.flush());
        }
        tokio::select! {
            Some(message) = driver.receiver.recv() => driver.receive(message, &mut queue),
            // The dispatcher escalates a second interrupt itself (a kill of what is left).
            Some(()) = interrupts.recv() => driver.handle(SchedulerEvent::Interrupted, &mut queue),
        }
    }
    let interrupted = driver
        .dispatcher
        .cancel_reason()
        .is_some_and(CancelReason::is_interrupt);
    driver.kill_all();
    driver.kill_late_starts();
    driver.context.executors.shutdown().await;
    driver.emit(RunEvent::RunFinished { interrupted });
    driver
        .reporters
        .iter_mut()
        .for_each(|reporter| reporter.flush());
    interrupted
}

struct Driver<'r> {
    context: RunContext,
    reporters: &'r mut [Box<dyn Reporter>],
    dispatcher: Dispatcher,
    running: Vec<Option<Running>>,
    /// Jobs the executor is starting (pulling an image, creating a container).
    starting: Vec<Option<AbortHandle>>,

    /// Per job: does some condition wait for its healthcheck?
    health_awaited: Vec<bool>,
    /// Per job: how many conditions were last reported as not holding.
    reported_waiting: Vec<Option<usize>>,
    /// Some reporter shows every change of a wait ([`Reporter::wants_every_wait`]).
    every_wait: bool,
    sender: mpsc::Sender<Message>,
    receiver: mpsc::Receiver<Message>,
    started_at: Instant,
    /// pipekit-ci's own environment, read once rather than once per job.
    host_env: BTreeMap<String, String>,
    /// Archives being packed after their job's exit was handed on.
    packs_in_flight: usize,
}

impl<'r> Driver<'r> {
    fn new(context: RunContext, reporters: &'r mut [Box<dyn Reporter>]) -> Self {
        let pipeline = context.pipeline.clone();
        let kept = pipeline
            .job_ids()
            .filter(|id| left_running_at_end(&context, *id));
        let dispatcher = Dispatcher::new(
            pipeline.clone(),
            &context.options.only,
            context.options.fail_fast,
        )
        .keep_running(kept)
        .reuse(context.reused.jobs.iter().cloned());
        let mut health_awaited = vec![false; pipeline.jobs.len()];
        for job in &pipeline.jobs {
            for condition in &job.depends_on {
                if condition.awaited == Awaited::Healthy {
                    health_awaited[condition.job.0] = true;
                }
            }
        }
        // Bounded: a job printing faster than the console can show waits for it instead of
        // filling memory.
        let (sender, receiver) = mpsc::channel(1024);
        let host_env = host_environment(&context.workspaces, &context.host_env);
        let every_wait = reporters.iter().any(|reporter| reporter.wants_every_wait());
        Self {
            running: (0..pipeline.jobs.len()).map(|_| None).collect(),
            starting: vec![None; pipeline.jobs.len()],
            context,
            reporters,
            dispatcher,
            health_awaited,
            reported_waiting: vec![None; pipeline.jobs.len()],
            every_wait,
            sender,
            receiver,
            started_at: Instant::now(),
            host_env,
            packs_in_flight: 0,
        }
    }

    fn emit(&mut self, event: RunEvent) {
        let event = event.masked(self.context.secrets.masker());
        let at = self.started_at.elapsed();
        for reporter in self.reporters.iter_mut() {
            reporter.on_event(at, &event);
        }
    }

    /// Tells reporters what a waiting job still waits on, when that changed. A job's set of
    /// pending conditions only ever shrinks, so its size tells whether it changed.
    fn report_waiting(&mut self, id: JobId) {
        if !self.dispatcher.is_waiting(id) {
            return;
        }
        // Counted first: naming what is pending walks every condition of a fan-in.
        let count = self.dispatcher.waiting_count(id);
        let reported = self.reported_waiting[id.0];
        if reported == Some(count) {
            return;
        }
        if !(reported.is_none() || count <= WAITING_SHOWN || self.every_wait) {
            return;
        }
        self.reported_waiting[id.0] = Some(count);
        let pipeline = self.context.pipeline.clone();
        let on: Vec<String> = self
            .dispatcher
            .waiting_on(id)
            .take(WAITING_SHOWN)
            .map(|c| pipeline.describe(c))
            .collect();
        let more = count - on.len();
        self.emit(RunEvent::JobWaiting { job: id, on, more });
    }

    fn handle(&mut self, event: SchedulerEvent, queue: &mut VecDeque<Decision>) {
        let touched = event.job();
        queue.extend(self.dispatcher.handle(event));
        if let Some(id) = touched {
            // By index: `report_waiting` needs `&mut self` while the list lives in the dispatcher.
            for index in 0..self.dispatcher.dependents(id).len() {
                let dependent = self.dispatcher.dependents(id)[index];
                self.report_waiting(dependent);
            }
        }
    }

    fn receive(&mut self, message: Message, queue: &mut VecDeque<Decision>) {
        match message {
            Message::Scheduler(event) => {
                if let SchedulerEvent::SignalFired(job, signal) = &event {
                    let name = self.context.pipeline.job(*job).signal(*signal).name.clone();
                    self.emit(RunEvent::SignalFired {
                        job: *job,
                        signal: name,
                    });
                }
                self.handle(event, queue);
            }
            Message::Output { job, stream, line } => {
                self.emit(RunEvent::Output { job, stream, line });
            }
            Message::Preparing { job, text } => self.emit(RunEvent::JobPreparing { job, text }),
            Message::Spawned { job, result } => {
                if self.starting[job.0].take().is_none() {
                    // Abandoned while the executor was starting it: it must not run on.
                    if let Ok(spawned) = result {
                        end_unwanted(spawned);
                    }
                    return;
                }
                let event = match result {
                    Ok(spawned) => {
                        self.attach(job, spawned);
                        self.emit(RunEvent::JobStarted { job });
                        SchedulerEvent::Started(job)
                    }
                    Err(error) => {
                        if let ExecutorError::EngineLost { host, .. } = &error {
                            let reason = CancelReason::EngineLost { host: host.clone() };
                            self.handle(
                                SchedulerEvent::FailedToStart(job, error.to_string()),
                                queue,
                            );
                            self.handle(SchedulerEvent::Aborted(reason), queue);
                            return;
                        }
                        SchedulerEvent::FailedToStart(job, error.to_string())
                    }
                };
                self.handle(event, queue);
            }
            Message::Exited {
                job,
                result,
                after_exit,
                junit_files,
            } => {
                if let Some(running) = self.running[job.0].take() {
                    running.watchers.iter().for_each(AbortHandle::abort);
                }
                if let Some(files) = junit_files {
                    self.emit(RunEvent::JunitFiles { job, files });
                }
                self.look_for_files_one_last_time(job, queue);
                if after_exit.packing {
                    self.packs_in_flight += 1;
                }
                match after_exit.artifacts {
                    Some(Ok(summary)) => self.emit(RunEvent::ArtifactsPacked {
                        job,
                        files: summary.files,
                        bytes: summary.bytes,
                        compressed_bytes: summary.compressed_bytes,
                    }),
                    Some(Err(message)) => {
                        let reason = FailReason::Artifacts { message };
                        self.handle(SchedulerEvent::Failed(job, reason), queue);
                    }
                    None => {}
                }
                let exit = match result {
                    Ok(exit) => exit,
                    Err(error) => {
                        let message = error.to_string();
                        self.handle(
                            SchedulerEvent::Failed(job, FailReason::Executor { message }),
                            queue,
                        );
                        if let ExecutorError::EngineLost { host, .. } = &error {
                            // Every other container job is lost with it: stop the run.
                            let reason = CancelReason::EngineLost { host: host.clone() };
                            self.handle(SchedulerEvent::Aborted(reason), queue);
                        }
                        error.exit().unwrap_or(JobExit::Code(-1))
                    }
                };
                self.handle(SchedulerEvent::Exited(job, exit), queue);
            }
            Message::Packed { job, result } => {
                self.packs_in_flight = self.packs_in_flight.saturating_sub(1);
                match result {
                    Ok(summary) => self.emit(RunEvent::ArtifactsPacked {
                        job,
                        files: summary.files,
                        bytes: summary.bytes,
                        compressed_bytes: summary.compressed_bytes,
                    }),
                    Err(reason) => self.emit(RunEvent::ArtifactsFailed { job, reason }),
                }
            }
        }
    }

    fn apply(&mut self, decision: Decision, queue: &mut VecDeque<Decision>) {
        match decision {
            Decision::Start(id) => match self.launch(id) {
                // Started on its own task: a pull or a build must not hold up the run.
                Ok(launch) => {
                    let placement = self.context.plan.placement(id);
                    let executor = self.context.executors.at(placement);
                    let sender = self.sender.clone();
                    let workspaces = self.context.workspaces.clone();
                    let (pipeline, store) = (
                        self.context.pipeline.clone(),
                        self.context.artifacts.clone(),
                    );
                    let task = tokio::spawn(async move {
                        let progress = launch.progress.clone();
                        let prepared = if workspaces.need_preparing() {
                            tokio::task::spawn_blocking(move || {
                                workspaces.prepare(&pipeline, pipeline.job(id), store.as_ref())
                            })
                            .await
                            .unwrap_or_else(|error| Err(error.to_string()))
                        } else {
                            Ok(Vec::new())
                        };
                        let result = match prepared {
                            Ok(said) => {
                                if let Some(progress) = progress {
                                    said.into_iter().for_each(|line| progress(line));
                                }
                                match executor {
                                    Some(executor) => executor.spawn(launch).await,
                                    None => Err(ExecutorError::NoEngine {
                                        job: launch.job_name.clone(),
                                    }),
                                }
                            }
                            Err(reason) => Err(ExecutorError::Prepare {
                                job: launch.job_name.clone(),
                                reason,
                            }),
                        };
                        let _ = sender.send(Message::Spawned { job: id, result }).await;
                    });
                    self.starting[id.0] = Some(task.abort_handle());
                }
                Err(reason) => self.handle(SchedulerEvent::FailedToStart(id, reason), queue),
            },
            Decision::Stop(id, reason) => {
                // Already exited (its artifacts failed after the exit): nothing to stop.
                let Some(running) = &self.running[id.0] else {
                    return;
                };
                let control = running.control.clone();
                self.emit(RunEvent::JobStopping {
                    job: id,
                    reason: reason.to_string(),
                });
                let grace = self.context.options.stop_grace;
                tokio::spawn(async move { control.stop(grace).await });
            }
            Decision::Kill(id) => {
                if let Some(running) = &self.running[id.0] {
                    running.control.kill();
                }
            }
            Decision::Abandon(id) => {
                // Whatever the start created is removed with the rest of the run; a start
                // that completes anyway is ended when its message arrives.
                if let Some(task) = self.starting[id.0].take() {
                    task.abort();
                }
            }
            Decision::LeaveRunning(id) => self.leave_running(id),
            Decision::Finish(id, outcome) => {
                if matches!(outcome, Outcome::Reused(_)) {
                    self.report_reused_archive(id);
                }
                let exit = self.dispatcher.exit(id);
                self.emit(RunEvent::JobFinished {
                    job: id,
                    outcome,
                    exit,
                });
            }
        }
    }

    /// A reused job's archive, brought over from the earlier run, is the job's archive in
    /// this run too: said as it was packed there.
    fn report_reused_archive(&mut self, id: JobId) {
        let archive = self
            .context
            .reused
            .archives
            .iter()
            .find(|(job, _)| *job == id);
        if let Some((_, summary)) = archive.copied() {
            self.emit(RunEvent::ArtifactsPacked {
                job: id,
                files: summary.files,
                bytes: summary.bytes,
                compressed_bytes: summary.compressed_bytes,
            });
        }
    }

    /// `--keep-running`: the job stays up after the run; the run stops following it.
    fn leave_running(&mut self, id: JobId) {
        if let Some(running) = self.running[id.0].take() {
            running.watchers.iter().for_each(AbortHandle::abort);
            running.tasks.iter().for_each(AbortHandle::abort);
        }
        self.emit(RunEvent::JobLeftRunning { job: id });
    }

    /// A start that finished just as it was abandoned may still be in the queue: end it.
    fn kill_late_starts(&mut self) {
        while let Ok(message) = self.receiver.try_recv() {
            if let Message::Spawned {
                result: Ok(spawned),
                ..
            } = message
            {
                end_unwanted(spawned);
            }
        }
    }

    /// The last resort on every way out: nothing the run started outlives it.
    fn kill_all(&mut self) {
        for running in self.running.iter().flatten() {
            running.control.kill();
        }
    }
}
