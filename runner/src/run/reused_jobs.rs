//! What a re-run hands the driver about the jobs it takes over from an earlier run.

use crate::scheduler::ReusedJob;
use crate::storage::PackSummary;
use pipekit_schema::JobId;

/// The jobs not run again, and the archives brought over with them.
#[derive(Debug, Clone, Default)]
pub struct ReusedJobs {
    /// For the dispatcher: each finishes as it did in the earlier run.
    pub jobs: Vec<ReusedJob>,
    /// What each reused archive holds, as the earlier run packed it: said again as the
    /// job's `artifacts_packed`, so the new run's record and pages list the archive.
    pub archives: Vec<(JobId, PackSummary)>,
}
