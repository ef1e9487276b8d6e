//! The driver: feeds events to the dispatcher and carries out its decisions.

use super::environment::{JobPlaces, argv_of, job_environment};
use super::event::{Reporter, RunEvent};
use super::log_writer::LogWriter;
use super::output_pump::OutputPump;
use crate::executor::{Executor, ExecutorError, JobControl, JobLaunch};
use crate::scheduler::{Decision, Dispatcher, JobExit, SchedulerEvent, StopReason};
use crate::signals::{GrepMatcher, watch_exists, watch_health, watch_port};
use crate::storage::{PackSummary, RunFolder, pack};
use pipekit_schema::{Awaited, JobId, Pipeline, SignalId, SignalKind, Stream};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// How many pending conditions a waiting report names; the rest are counted.
const WAITING_SHOWN: usize = 3;

/// How the run behaves, from the command line.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub fail_fast: bool,
    /// Run only these jobs and what they depend on (empty: all).
    pub only: Vec<JobId>,
    /// Between SIGTERM and SIGKILL when a job is stopped.
    pub stop_grace: Duration,
}

/// Everything one run needs.
pub struct RunContext {
    pub pipeline: Arc<Pipeline>,
    pub folder: Arc<RunFolder>,
    /// The source tree every job runs in.
    pub workspace: PathBuf,
    /// Directory of the pipeline file (for `env_file`).
    pub pipeline_dir: PathBuf,
    /// Variables pipekit-ci sets for every job besides its own `PIPEKIT_*` (the commit).
    pub run_variables: Vec<(String, String)>,
    pub executor: Arc<dyn Executor>,
    pub options: RunOptions,
}

/// What the driver's tasks tell it.
pub(super) enum Message {
    Scheduler(SchedulerEvent),
    Output {
        job: JobId,
        stream: Stream,
        line: String,
    },
    /// The process exited and its output was read to the end.
    Exited {
        job: JobId,
        result: Result<JobExit, ExecutorError>,
        after_exit: AfterExit,
    },
}

/// What was done with a job's outputs after it exited.
pub(super) struct AfterExit {
    artifacts: Option<Result<PackSummary, String>>,
}

/// A started job: how to stop it, and the tasks to cancel when it ends.
struct Running {
    control: Arc<dyn JobControl>,
    watchers: Vec<AbortHandle>,
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
    let mut interrupted = false;
    loop {
        while let Some(decision) = queue.pop_front() {
            driver.apply(decision, &mut queue).await;
        }
        if driver.dispatcher.is_done() {
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
            Some(()) = interrupts.recv() => {
                if interrupted {
                    driver.kill_all();
                } else {
                    interrupted = true;
                    queue.extend(driver.dispatcher.handle(SchedulerEvent::Interrupted));
                }
            }
        }
    }
    driver.kill_all();
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

    /// Per job: does some condition wait for its healthcheck?
    health_awaited: Vec<bool>,
    /// Per job: how many conditions were last reported as not holding.
    reported_waiting: Vec<Option<usize>>,
    sender: mpsc::Sender<Message>,
    receiver: mpsc::Receiver<Message>,
    started_at: Instant,
    /// pipekit-ci's own environment, read once rather than once per job.
    inherited_env: Vec<(String, String)>,
}

impl<'r> Driver<'r> {
    fn new(context: RunContext, reporters: &'r mut [Box<dyn Reporter>]) -> Self {
        let pipeline = context.pipeline.clone();
        let dispatcher = Dispatcher::new(
            pipeline.clone(),
            &context.options.only,
            context.options.fail_fast,
        );
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
        Self {
            running: (0..pipeline.jobs.len()).map(|_| None).collect(),
            context,
            reporters,
            dispatcher,
            health_awaited,
            reported_waiting: vec![None; pipeline.jobs.len()],
            sender,
            receiver,
            started_at: Instant::now(),
            inherited_env: std::env::vars().collect(),
        }
    }

    fn emit(&mut self, event: RunEvent) {
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
        let pending = self.dispatcher.waiting_on(id);
        if self.reported_waiting[id.0] == Some(pending.len()) {
            return;
        }
        self.reported_waiting[id.0] = Some(pending.len());
        let pipeline = self.context.pipeline.clone();
        let shown = pending.len().min(WAITING_SHOWN);
        let on = pending[..shown]
            .iter()
            .map(|c| pipeline.describe(*c))
            .collect();
        let more = pending.len() - shown;
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
            Message::Exited {
                job,
                result,
                after_exit,
            } => {
                if let Some(running) = self.running[job.0].take() {
                    running.watchers.iter().for_each(AbortHandle::abort);
                }
                self.look_for_files_one_last_time(job, queue);
                match after_exit.artifacts {
                    Some(Ok(summary)) => self.emit(RunEvent::ArtifactsPacked {
                        job,
                        files: summary.files,
                        bytes: summary.bytes,
                        compressed_bytes: summary.compressed_bytes,
                    }),
                    Some(Err(reason)) => self.handle(SchedulerEvent::Failed(job, reason), queue),
                    None => {}
                }
                let exit = match result {
                    Ok(exit) => exit,
                    Err(error) => {
                        self.handle(SchedulerEvent::Failed(job, error.to_string()), queue);
                        JobExit::Code(-1)
                    }
                };
                self.handle(SchedulerEvent::Exited(job, exit), queue);
            }
        }
    }

    async fn apply(&mut self, decision: Decision, queue: &mut VecDeque<Decision>) {
        match decision {
            Decision::Start(id) => {
                let event = match self.start(id).await {
                    Ok(()) => {
                        self.emit(RunEvent::JobStarted { job: id });
                        SchedulerEvent::Started(id)
                    }
                    Err(reason) => SchedulerEvent::FailedToStart(id, reason),
                };
                self.handle(event, queue);
            }
            Decision::Stop(id, reason) => {
                // Already exited (its artifacts failed after the exit): nothing to stop.
                let Some(running) = &self.running[id.0] else {
                    return;
                };
                let control = running.control.clone();
                let reason_text = match &reason {
                    StopReason::DependentsEnded => "every job depending on it has ended".into(),
                    StopReason::Failed(why) | StopReason::Cancelled(why) => why.clone(),
                };
                self.emit(RunEvent::JobStopping {
                    job: id,
                    reason: reason_text,
                });
                let grace = self.context.options.stop_grace;
                tokio::spawn(async move { control.stop(grace).await });
            }
            Decision::Finish(id, outcome) => {
                let exit = self.dispatcher.exit(id);
                self.emit(RunEvent::JobFinished {
                    job: id,
                    outcome,
                    exit,
                });
            }
        }
    }

    /// Starts a job: environment, log file, process, output pumps, watchers and timers.
    async fn start(&mut self, id: JobId) -> Result<(), String> {
        let pipeline = self.context.pipeline.clone();
        let job = pipeline.job(id);
        let folder = self.context.folder.clone();
        let shared_env_file = folder.job_env_file(&job.name);
        let places = JobPlaces {
            run_id: folder.id(),
            shared_root: folder.shared_root(),
            workspace: &self.context.workspace,
            pipeline_dir: &self.context.pipeline_dir,
            shared_env_file: &shared_env_file,
            run_variables: &self.context.run_variables,
        };
        let env = job_environment(&pipeline, job, &places, self.inherited_env.iter().cloned())
            .map_err(|error| error.to_string())?;
        let argv = argv_of(job.command.as_ref());
        if argv.is_empty() {
            return Err("no `command` to run on the host".into());
        }
        let working_dir = match &job.working_dir {
            Some(dir) => self.context.workspace.join(dir),
            None => self.context.workspace.clone(),
        };
        let log = LogWriter::new(folder.log_path(&job.name));
        let launch = JobLaunch {
            job_name: job.name.clone(),
            argv,
            env,
            working_dir,
        };
        let spawned = self
            .context
            .executor
            .spawn(launch)
            .await
            .map_err(|e| e.to_string())?;
        let control: Arc<dyn JobControl> = Arc::from(spawned.control);

        let pump = |stream, reader| {
            let pump = OutputPump {
                job: id,
                stream,
                log: log.clone(),
                matcher: GrepMatcher::new(job, stream),
                messages: self.sender.clone(),
            };
            tokio::spawn(pump.run(reader))
        };
        let stdout = pump(Stream::Stdout, spawned.stdout);
        let stderr = pump(Stream::Stderr, spawned.stderr);
        let sender = self.sender.clone();
        let artifacts = (!job.artifacts.is_empty()).then(|| {
            (
                job.artifacts.clone(),
                self.context.workspace.clone(),
                folder.artifact_path(&job.name),
            )
        });
        tokio::spawn(async move {
            let result = spawned.exit.await;
            // Whatever holds the pipes now (a daemonised grandchild) gets a moment, not forever.
            let drained = tokio::time::timeout(Duration::from_secs(2), async {
                let _ = stdout.await;
                let _ = stderr.await;
            });
            let _ = drained.await;
            let artifacts = match (&result, artifacts) {
                (Ok(JobExit::Code(0)), Some((patterns, tree, archive))) => {
                    Some(pack_artifacts(patterns, tree, archive).await)
                }
                _ => None,
            };
            let after_exit = AfterExit { artifacts };
            let _ = sender
                .send(Message::Exited {
                    job: id,
                    result,
                    after_exit,
                })
                .await;
        });

        let watchers = self.start_watchers(id, &control);
        self.running[id.0] = Some(Running { control, watchers });
        Ok(())
    }

    /// `Exists`, `Port`, healthcheck watchers and the timers of the job and its signals.
    fn start_watchers(&self, id: JobId, control: &Arc<dyn JobControl>) -> Vec<AbortHandle> {
        let job = self.context.pipeline.job(id);
        let mut watchers = Vec::new();
        let send = |event: SchedulerEvent| {
            let sender = self.sender.clone();
            async move {
                let _ = sender.send(Message::Scheduler(event)).await;
            }
        };
        for (index, signal) in job.signals.iter().enumerate() {
            let fired = send(SchedulerEvent::SignalFired(id, SignalId(index)));
            match &signal.kind {
                SignalKind::Grep { .. } => {}
                SignalKind::Exists { path } => {
                    let path = self.context.folder.shared_root().join(path);
                    let task = tokio::spawn(async move {
                        watch_exists(path).await;
                        fired.await;
                    });
                    watchers.push(task.abort_handle());
                }
                SignalKind::Port { port } => {
                    let (address, port) = (control.address(), *port);
                    let task = tokio::spawn(async move {
                        watch_port(address, port).await;
                        fired.await;
                    });
                    watchers.push(task.abort_handle());
                }
            }
            if let Some(timeout) = signal.timeout {
                let timed_out = send(SchedulerEvent::SignalTimedOut(id, SignalId(index)));
                let task = tokio::spawn(async move {
                    tokio::time::sleep(timeout).await;
                    timed_out.await;
                });
                watchers.push(task.abort_handle());
            }
        }
        if let Some(timeout) = job.timeout {
            let timed_out = send(SchedulerEvent::TimedOut(id));
            let task = tokio::spawn(async move {
                tokio::time::sleep(timeout).await;
                timed_out.await;
            });
            watchers.push(task.abort_handle());
        }
        if let (Some(check), true) = (&job.healthcheck, self.health_awaited[id.0]) {
            let argv = argv_of(Some(&check.test));
            let (control, check, sender) = (control.clone(), check.clone(), self.sender.clone());
            let task = tokio::spawn(async move {
                let event = match watch_health(control, argv, check).await {
                    Ok(()) => SchedulerEvent::Healthy(id),
                    Err(reason) => SchedulerEvent::Failed(id, reason),
                };
                let _ = sender.send(Message::Scheduler(event)).await;
            });
            watchers.push(task.abort_handle());
        }
        watchers
    }

    /// A job that creates its `Exists` file and exits at once may beat the poller: the file
    /// is there, so the signal fired, whatever the timing.
    fn look_for_files_one_last_time(&mut self, id: JobId, queue: &mut VecDeque<Decision>) {
        let pipeline = self.context.pipeline.clone();
        for (index, signal) in pipeline.job(id).signals.iter().enumerate() {
            let signal_id = SignalId(index);
            if let SignalKind::Exists { path } = &signal.kind
                && !self.dispatcher.has_fired(id, signal_id)
                && self
                    .context
                    .folder
                    .shared_root()
                    .join(path)
                    .symlink_metadata()
                    .is_ok()
            {
                self.emit(RunEvent::SignalFired {
                    job: id,
                    signal: signal.name.clone(),
                });
                self.handle(SchedulerEvent::SignalFired(id, signal_id), queue);
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

async fn pack_artifacts(
    patterns: Vec<String>,
    tree: PathBuf,
    archive: PathBuf,
) -> Result<PackSummary, String> {
    let packed = tokio::task::spawn_blocking(move || pack(&tree, &patterns, &archive)).await;
    match packed {
        Ok(Ok(summary)) => Ok(summary),
        Ok(Err(error)) => Err(format!("artifacts could not be packed: {error}")),
        Err(error) => Err(format!("artifacts could not be packed: {error}")),
    }
}
