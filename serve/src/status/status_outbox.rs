//! The outbox's two tasks: the writer puts the statuses reporters hand over into the
//! database; the deliverer sends the oldest due ones to their forges, one at a time so
//! that a job's states reach its forge in order, and waits when there is nothing due.

use super::backoff::retry_delay;
use super::delivery::Delivery;
use super::forge_client::ForgeClient;
use super::forge_request::{ForgeRequest, StatusMessage};
use super::status_settings::StatusSettings;
use crate::error_chain::error_chain;
use crate::store::{OutboxRow, RunStore, StoreError};
use pipekit_runner::session::CancelSignal;
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// Rows taken from the database at a time.
const BATCH: usize = 100;

/// How long the deliverer waits after the database failed it before it tries again.
const AFTER_STORE_ERROR: Duration = Duration::from_secs(5);

/// A job's new status, on its way from the run's reporter to the outbox table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedStatus {
    pub run_id: i64,
    pub job: String,
    pub message: StatusMessage,
}

/// The channel from the runs' reporters to the outbox's tasks.
pub struct StatusOutbox {
    sender: UnboundedSender<QueuedStatus>,
    /// Taken by [`StatusOutbox::run`], once.
    receiver: Mutex<Option<UnboundedReceiver<QueuedStatus>>>,
    /// The writer wrote a row: the deliverer looks at once.
    written: Notify,
}

impl Default for StatusOutbox {
    fn default() -> StatusOutbox {
        let (sender, receiver) = unbounded_channel();
        StatusOutbox {
            sender,
            receiver: Mutex::new(Some(receiver)),
            written: Notify::new(),
        }
    }
}

impl StatusOutbox {
    /// Where a reporter hands its statuses. Unbounded: a reporter runs on the session's
    /// driver, which must never wait for the outbox; a status is a few hundred bytes.
    pub fn sender(&self) -> UnboundedSender<QueuedStatus> {
        self.sender.clone()
    }

    /// Writes and delivers statuses until `stop`: then writes what reporters handed over
    /// (start it after the runs have stopped, so that their last states are in) and
    /// returns, leaving what is not delivered for the next start. `warn` hears what an
    /// operator should know: a forge refusing a status, one that does not answer.
    pub async fn run(
        &self,
        store: &Mutex<RunStore>,
        settings: &StatusSettings,
        client: &ForgeClient,
        stop: CancelSignal,
        warn: &(dyn Fn(String) + Sync),
    ) {
        let taken = self
            .receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(receiver) = taken else {
            return;
        };
        let mut deliverer_stop = stop.clone();
        let deliver = async {
            tokio::select! {
                () = self.deliver(store, settings, client, warn) => {}
                () = deliverer_stop.cancelled() => {}
            }
        };
        tokio::join!(self.write(receiver, store, stop, warn), deliver);
    }

    async fn write(
        &self,
        mut receiver: UnboundedReceiver<QueuedStatus>,
        store: &Mutex<RunStore>,
        mut stop: CancelSignal,
        warn: &(dyn Fn(String) + Sync),
    ) {
        loop {
            tokio::select! {
                biased;
                received = receiver.recv() => match received {
                    Some(status) => self.write_one(&status, store, warn),
                    None => return,
                },
                () = stop.cancelled() => break,
            }
        }
        while let Ok(status) = receiver.try_recv() {
            self.write_one(&status, store, warn);
        }
    }

    fn write_one(
        &self,
        status: &QueuedStatus,
        store: &Mutex<RunStore>,
        warn: &(dyn Fn(String) + Sync),
    ) {
        let written = locked(store).queue_status(
            status.run_id,
            &status.job,
            &status.message,
            SystemTime::now(),
        );
        match written {
            Ok(_) => self.written.notify_one(),
            Err(error) => warn(format!(
                "cannot keep the commit status of run {} job `{}`: {}",
                status.run_id,
                status.job,
                error_chain(&error)
            )),
        }
    }

    async fn deliver(
        &self,
        store: &Mutex<RunStore>,
        settings: &StatusSettings,
        client: &ForgeClient,
        warn: &(dyn Fn(String) + Sync),
    ) {
        loop {
            let wait = match deliver_due(store, settings, client, warn).await {
                Ok(Some(due)) => due
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO),
                // Nothing to send: until the writer writes.
                Ok(None) => Duration::MAX,
                Err(error) => {
                    warn(format!(
                        "cannot read the commit status outbox: {}",
                        error_chain(&error)
                    ));
                    AFTER_STORE_ERROR
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                () = self.written.notified() => {}
                () = sleep(wait) => {}
            }
        }
    }
}

/// Sends what is due now, oldest first; when the next row is due after that. A forge
/// that failed one row is not sent the others of its repository this round: they would
/// most likely fail the same way, and a job's later states must not pass its earlier.
async fn deliver_due(
    store: &Mutex<RunStore>,
    settings: &StatusSettings,
    client: &ForgeClient,
    warn: &(dyn Fn(String) + Sync),
) -> Result<Option<SystemTime>, StoreError> {
    let due = locked(store).due_statuses(SystemTime::now(), BATCH)?;
    let mut failing: HashSet<String> = HashSet::new();
    for row in due {
        if failing.contains(&row.repository) {
            continue;
        }
        let delivery = match settings.forges.get(&row.repository) {
            Some(target) => {
                let request = ForgeRequest::new(target, &row.message);
                Delivery::of(client.post(&target.api, &request).await)
            }
            None => Delivery::Refused(format!(
                "the repository `{}` has no `status` in the config any more",
                row.repository
            )),
        };
        record(store, &row, delivery, &mut failing, warn)?;
    }
    locked(store).next_status_due()
}

fn record(
    store: &Mutex<RunStore>,
    row: &OutboxRow,
    delivery: Delivery,
    failing: &mut HashSet<String>,
    warn: &(dyn Fn(String) + Sync),
) -> Result<(), StoreError> {
    let now = SystemTime::now();
    let what = || {
        format!(
            "commit status `{}` {} of run {}",
            row.message.context,
            row.message.status.as_str(),
            row.run_id
        )
    };
    match delivery {
        Delivery::Accepted => locked(store).status_delivered(row.id, now),
        Delivery::RetryLater(why) => {
            let attempts = row.attempts.saturating_add(1);
            let delay = retry_delay(attempts);
            if attempts == 1 {
                // Once per status: a forge down for an hour is not a line a second.
                warn(format!(
                    "{}: {why}; trying again, at most every {} s",
                    what(),
                    retry_delay(u32::MAX).as_secs()
                ));
            }
            failing.insert(row.repository.clone());
            locked(store).status_failed(row.id, attempts, &why, now + delay)
        }
        Delivery::Refused(why) => {
            warn(format!("{}: {why}; given up", what()));
            locked(store).status_refused(row.id, &why, now)
        }
    }
}

/// `Duration::MAX` is more than tokio's timer holds: "forever" is a long sleep instead.
async fn sleep(wait: Duration) {
    tokio::time::sleep(wait.min(Duration::from_secs(24 * 60 * 60))).await;
}

fn locked(store: &Mutex<RunStore>) -> MutexGuard<'_, RunStore> {
    store.lock().unwrap_or_else(PoisonError::into_inner)
}
