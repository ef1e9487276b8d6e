//! Wakes the followers of a run (its event stream's clients) when the run wrote something,
//! so that a printed line reaches a browser in milliseconds without every client polling
//! the run folder. What followers read still comes from the files; this only says "look".

use pipekit_runner::run::{Reporter, RunEvent};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::watch;

/// The runs being followed or tested, by run id: a counter bumped at every change.
#[derive(Debug, Default)]
pub struct LiveRuns {
    runs: Mutex<HashMap<i64, watch::Sender<u64>>>,
}

impl LiveRuns {
    /// Hears every later change of run `id` (subscribe before reading the files, so that
    /// nothing written in between goes unnoticed).
    pub fn follow(&self, id: i64) -> watch::Receiver<u64> {
        self.runs()
            .entry(id)
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// Tells run `id`'s followers to look again (it started, it got a folder, it ended).
    pub fn changed(&self, id: i64) {
        if let Some(sender) = self.runs().get(&id) {
            sender.send_modify(|count| *count += 1);
        }
    }

    /// The run is over: a last wake-up, and it is forgotten once nobody follows it.
    pub fn ended(&self, id: i64) {
        let mut runs = self.runs();
        if let Some(sender) = runs.get(&id) {
            sender.send_modify(|count| *count += 1);
        }
        runs.remove(&id);
        // Followers of runs long over (a stream opened as one ended) are let go of too.
        runs.retain(|_, sender| sender.receiver_count() > 0);
    }

    /// A reporter for the session of run `id`: wakes its followers each time the driver has
    /// caught up, once for a batch of lines rather than once a line.
    pub fn reporter(&self, id: i64) -> Box<dyn Reporter> {
        let sender = self
            .runs()
            .entry(id)
            .or_insert_with(|| watch::channel(0).0)
            .clone();
        Box::new(WakeFollowers {
            sender,
            changed: false,
        })
    }

    fn runs(&self) -> MutexGuard<'_, HashMap<i64, watch::Sender<u64>>> {
        self.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct WakeFollowers {
    sender: watch::Sender<u64>,
    changed: bool,
}

impl Reporter for WakeFollowers {
    fn on_event(&mut self, _at: Duration, _event: &RunEvent) {
        self.changed = true;
    }

    fn flush(&mut self) {
        if std::mem::take(&mut self.changed) {
            self.sender.send_modify(|count| *count += 1);
        }
    }
}
