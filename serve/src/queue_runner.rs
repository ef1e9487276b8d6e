//! The queue, worked: at most `max_runs` queued runs at once, each tested on a task of its
//! own, its end recorded. The database is the only truth: what runs is what the store
//! says is `running`, and a restart finds the queue as it was.

use crate::job_durations::JobDurations;
use crate::live_runs::LiveRuns;
use crate::queued_run::test_queued_run;
use crate::run_facts::RunFacts;
use crate::service::{Service, is_repository_name};
use crate::status::{ForgeClient, StatusOutbox, StatusReporter};
use crate::store::{
    Cancelled, NewRun, PartialRerun, Recovered, RunRow, RunState, RunStore, StoreError,
};
use pipekit_runner::run::Reporter;
use pipekit_runner::session::{CancelHandle, CancelSignal, cancel_channel};
use pipekit_schema::Pipeline;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// The service's queue and the runs it is testing.
pub struct QueueRunner {
    service: Service,
    store: Mutex<RunStore>,
    /// Something changed that may let a run start: a run was queued or ended.
    wake: Notify,
    /// A run ended: there may be history to prune.
    ended: Notify,
    /// The cancel of each run being tested, by run id.
    running: Mutex<HashMap<i64, CancelHandle>>,
    /// The service is stopping: runs it interrupts are queued again (with `requeue`).
    stopping: AtomicBool,
    /// Interrupted runs are queued again (`requeue_interrupted`).
    requeue: bool,
    live: LiveRuns,
    /// The runs' commit statuses on their way to the forges.
    statuses: StatusOutbox,
    /// How long the jobs of the runs that ended took, for the metrics.
    job_durations: JobDurations,
    /// Each repository's last failed read (poll), until one succeeds: shown on its page.
    read_problems: Mutex<BTreeMap<String, ReadProblem>>,
}

/// Why a repository could not be read, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadProblem {
    pub text: String,
    /// RFC 3339, UTC: the last try that failed.
    pub at: String,
}

impl QueueRunner {
    /// Opens the store of `service`, records its repositories, and ends what a server
    /// that stopped before left running (`interrupted`, queued again with `requeue`).
    pub fn open(
        service: Service,
        requeue: bool,
    ) -> Result<(Arc<QueueRunner>, Recovered), StoreError> {
        if let Some(bad) = service
            .repositories
            .keys()
            .find(|name| !is_repository_name(name))
        {
            return Err(StoreError::RepositoryName(bad.clone()));
        }
        let mut store = RunStore::open(&service.database_path())?;
        for (name, path) in &service.repositories {
            // A mirror is recorded by its origin: the copy under the data folder is ours.
            let url = match service.mirrors.get(name) {
                Some(mirror) => mirror.url().to_owned(),
                None => path.display().to_string(),
            };
            store.add_repository(name, &url)?;
        }
        let recovered = store.recover(requeue, SystemTime::now())?;
        let runner = QueueRunner {
            service,
            store: Mutex::new(store),
            wake: Notify::new(),
            ended: Notify::new(),
            running: Mutex::default(),
            stopping: AtomicBool::new(false),
            requeue,
            live: LiveRuns::default(),
            read_problems: Mutex::default(),
            job_durations: JobDurations::default(),
            statuses: StatusOutbox::default(),
        };
        Ok((Arc::new(runner), recovered))
    }

    /// The settings and shared parts of the service.
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Who follows which run, to be woken when it changes.
    pub fn live(&self) -> &LiveRuns {
        &self.live
    }

    /// Records how the last read of `repository` went: a problem shown until a read works.
    pub fn note_read(&self, repository: &str, problem: Option<String>) {
        let mut problems = self
            .read_problems
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match problem {
            Some(text) => {
                let at = pipekit_runner::storage::rfc3339(SystemTime::now());
                problems.insert(repository.to_owned(), ReadProblem { text, at });
            }
            None => {
                problems.remove(repository);
            }
        }
    }

    /// The repositories whose last read failed, and why.
    pub fn read_problems(&self) -> BTreeMap<String, ReadProblem> {
        self.read_problems
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How long the jobs of the runs that ended since the start took.
    pub fn job_durations(&self) -> &JobDurations {
        &self.job_durations
    }

    /// Returns once a run has ended since the last call returned (or since the start): a
    /// run that ends while nobody waits is not missed, and several count as one.
    pub async fn a_run_ended(&self) {
        self.ended.notified().await;
    }

    /// The store, for reading the history (never held across an await).
    pub fn store(&self) -> MutexGuard<'_, RunStore> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a run (see [`RunStore::enqueue`]) and wakes the queue.
    pub fn enqueue(&self, run: &NewRun) -> Result<Option<i64>, StoreError> {
        let queued = self.store().enqueue(run, SystemTime::now())?;
        self.wake.notify_one();
        Ok(queued)
    }

    /// Queues run `id` again as a new run of the same commit and pipeline file: whole, or
    /// (`partial`) only some jobs, the others reused from the earlier run's folder.
    pub fn rerun(&self, id: i64, partial: Option<PartialRerun>) -> Result<i64, StoreError> {
        let row = self.store().run(id)?.ok_or(StoreError::UnknownRun(id))?;
        let again = NewRun {
            repository: row.repository,
            pipeline: row.pipeline,
            branch: row.branch,
            git_ref: row.git_ref,
            commit: row.commit,
            message: row.message,
            author: row.author,
            trigger: crate::store::Trigger::Rerun,
            attempt_of: Some(id),
            rerun: partial,
        };
        // Not a push: never taken for a duplicate, so it always gets an id.
        self.enqueue(&again)?.ok_or(StoreError::UnknownRun(id))
    }

    /// Cancels a run: a waiting one never starts, a running one has its jobs stopped as on
    /// Ctrl-C and ends `cancelled`.
    pub fn cancel(&self, id: i64) -> Result<Cancelled, StoreError> {
        let outcome = self.store().cancel(id, SystemTime::now())?;
        self.carry_out(id, outcome);
        Ok(outcome)
    }

    /// Cancels the runs that run `id` supersedes (see [`RunStore::supersede`]), as
    /// [`QueueRunner::cancel`] cancels one. Their ids.
    pub fn supersede(&self, id: i64) -> Result<Vec<i64>, StoreError> {
        let superseded = self.store().supersede(id, SystemTime::now())?;
        for (older, outcome) in &superseded {
            self.carry_out(*older, *outcome);
        }
        Ok(superseded.into_iter().map(|(older, _)| older).collect())
    }

    /// What a cancel recorded in the store asks of the runs going on.
    fn carry_out(&self, id: i64, outcome: Cancelled) {
        if outcome == Cancelled::Requested
            && let Some(handle) = self.running().get(&id)
        {
            handle.cancel();
        }
        if outcome == Cancelled::Dequeued {
            self.live.ended(id);
        }
    }

    /// Works the queue until `shutdown`; then stops the runs going on as on Ctrl-C, records
    /// them `interrupted` and queued again, and returns. A database error stops it.
    pub async fn run(self: Arc<Self>, mut shutdown: CancelSignal) -> Result<(), StoreError> {
        let mut tasks: JoinSet<Result<(), StoreError>> = JoinSet::new();
        let stopped = loop {
            if let Err(error) = self.start_what_fits(&mut tasks) {
                break Err(error);
            }
            tokio::select! {
                () = self.wake.notified() => {}
                Some(joined) = tasks.join_next() => {
                    if let Err(error) = settled(joined) {
                        break Err(error);
                    }
                }
                () = shutdown.cancelled() => break Ok(()),
            }
        };
        self.stopping.store(true, Ordering::SeqCst);
        for handle in self.running().values() {
            handle.cancel();
        }
        let mut result = stopped;
        while let Some(joined) = tasks.join_next().await {
            if let Err(error) = settled(joined) {
                result = result.and(Err(error));
            }
        }
        result
    }

    fn start_what_fits(
        self: &Arc<Self>,
        tasks: &mut JoinSet<Result<(), StoreError>>,
    ) -> Result<(), StoreError> {
        while let Some(row) = self
            .store()
            .start_next(self.service.max_runs, SystemTime::now())?
        {
            let (handle, signal) = cancel_channel();
            self.running().insert(row.id, handle);
            let runner = self.clone();
            tasks.spawn(async move { runner.test(row, signal).await });
        }
        Ok(())
    }

    async fn test(self: Arc<Self>, row: RunRow, cancel: CancelSignal) -> Result<(), StoreError> {
        let id = row.id;
        let live = self.live.reporter(id);
        let reporters = |pipeline: &Pipeline| {
            let mut reporters = vec![live];
            reporters.extend(self.status_reporter(&row, pipeline));
            reporters
        };
        let end = test_queued_run(&self.service, &row, cancel, reporters, |folder| {
            // Shown as soon as it exists; a failure here only delays it to the end.
            let _ = self.store().set_run_folder(id, folder);
            self.live.changed(id);
        })
        .await;
        self.running().remove(&id);
        let folder = {
            let mut store = self.store();
            let recorded =
                store.finish(id, end.state, end.problem.as_deref(), SystemTime::now())?;
            if recorded == RunState::Interrupted
                && self.requeue
                && self.stopping.load(Ordering::SeqCst)
            {
                store.requeue(id, SystemTime::now())?;
            }
            store.run(id)?.and_then(|run| run.run_folder)
        };
        if let Some(folder) = folder {
            let folder = self.service.runs_dir(&row.repository).join(folder);
            // Off the runtime's threads: the events file may be long.
            let facts = tokio::task::spawn_blocking(move || RunFacts::read(&folder)).await;
            if let Ok(facts) = facts {
                self.job_durations.count_run(&facts);
            }
        }
        self.live.ended(id);
        self.wake.notify_one();
        self.ended.notify_one();
        Ok(())
    }

    /// Sends the runs' commit statuses to their forges until `stop` (see
    /// [`StatusOutbox::run`]: stop it after [`QueueRunner::run`] has returned).
    pub async fn deliver_statuses(
        &self,
        client: ForgeClient,
        stop: CancelSignal,
        warn: &(dyn Fn(String) + Sync),
    ) {
        self.statuses
            .run(&self.store, &self.service.statuses, &client, stop, warn)
            .await;
    }

    /// The reporter of `row`'s commit statuses, if its repository has a forge for them.
    fn status_reporter(&self, row: &RunRow, pipeline: &Pipeline) -> Option<Box<dyn Reporter>> {
        let settings = &self.service.statuses;
        settings.forges.get(&row.repository)?;
        Some(Box::new(StatusReporter::new(
            row.id,
            &row.commit,
            pipeline,
            &settings.public_url,
            self.statuses.sender(),
        )))
    }

    fn running(&self) -> MutexGuard<'_, HashMap<i64, CancelHandle>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A finished task's result; its panic goes on up, as if it had happened here.
fn settled(
    joined: Result<Result<(), StoreError>, tokio::task::JoinError>,
) -> Result<(), StoreError> {
    match joined {
        Ok(result) => result,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Ok(()),
        },
    }
}
