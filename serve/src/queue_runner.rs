//! The queue, worked: at most `max_runs` queued runs at once, each tested on a task of its
//! own, its end recorded. The database is the only truth: what runs is what the store
//! says is `running`, and a restart finds the queue as it was.

use crate::live_runs::LiveRuns;
use crate::queued_run::test_queued_run;
use crate::service::{Service, is_repository_name};
use crate::store::{
    Cancelled, NewRun, PartialRerun, Recovered, RunRow, RunState, RunStore, StoreError,
};
use pipekit_runner::session::{CancelHandle, CancelSignal, cancel_channel};
use std::collections::HashMap;
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
    /// The cancel of each run being tested, by run id.
    running: Mutex<HashMap<i64, CancelHandle>>,
    /// The service is stopping: runs it interrupts are queued again.
    stopping: AtomicBool,
    live: LiveRuns,
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
            store.add_repository(name, &path.display().to_string())?;
        }
        let recovered = store.recover(requeue, SystemTime::now())?;
        let runner = QueueRunner {
            service,
            store: Mutex::new(store),
            wake: Notify::new(),
            running: Mutex::default(),
            stopping: AtomicBool::new(false),
            live: LiveRuns::default(),
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
        if outcome == Cancelled::Requested
            && let Some(handle) = self.running().get(&id)
        {
            handle.cancel();
        }
        if outcome == Cancelled::Dequeued {
            self.live.ended(id);
        }
        Ok(outcome)
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
        let reporters = vec![self.live.reporter(id)];
        let end = test_queued_run(&self.service, &row, cancel, reporters, |folder| {
            // Shown as soon as it exists; a failure here only delays it to the end.
            let _ = self.store().set_run_folder(id, folder);
            self.live.changed(id);
        })
        .await;
        self.running().remove(&id);
        let mut store = self.store();
        let recorded = store.finish(id, end.state, end.problem.as_deref(), SystemTime::now())?;
        if recorded == RunState::Interrupted && self.stopping.load(Ordering::SeqCst) {
            store.requeue(id, SystemTime::now())?;
        }
        drop(store);
        self.live.ended(id);
        self.wake.notify_one();
        Ok(())
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
