//! The jobs of the runs going on that wait, with what they wait on (spec 8's queue:
//! "waiting on db.ready"), read from each run folder's `events.jsonl`.

use crate::run_facts::RunFacts;
use crate::store::RunRow;
use std::path::PathBuf;

/// A job of a running run that has not started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingJob {
    pub run_id: i64,
    /// `app #12`.
    pub run_label: String,
    pub job: String,
    /// The first conditions that do not hold yet (`db.ready`, `+3 more`); empty when it
    /// waits for nothing named (it is about to start).
    pub waits_on: Vec<String>,
}

impl WaitingJob {
    /// What it waits on, in words.
    pub fn reason(&self) -> String {
        match self.waits_on.is_empty() {
            true => "starting".to_owned(),
            false => format!("waiting on {}", self.waits_on.join(", ")),
        }
    }
}

/// The waiting jobs of `running`, each run's folder found by `folder_of`, in run order.
/// Reads files: call it off the runtime's threads.
pub fn waiting_jobs(
    running: &[RunRow],
    folder_of: impl Fn(&RunRow) -> Option<PathBuf>,
) -> Vec<WaitingJob> {
    running
        .iter()
        .filter_map(|row| Some((row, folder_of(row)?)))
        .flat_map(|(row, folder)| {
            let run_label = format!("{} #{}", row.repository, row.number);
            RunFacts::read(&folder)
                .jobs
                .into_iter()
                .filter(|job| job.state == "waiting")
                .map(move |job| WaitingJob {
                    run_id: row.id,
                    run_label: run_label.clone(),
                    job: job.name,
                    waits_on: job.waits_on,
                })
        })
        .collect()
}
