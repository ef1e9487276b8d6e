//! Reports written at the end of a run: `junit.xml` and `run.json`.

mod error;
mod junit;
mod junit_log;
mod junit_tally;
mod masked_record;
mod merged_junit_file;
mod run_json;
mod run_record;

pub use error::ReportError;
pub use junit::junit_report;
pub use junit_tally::{TestFailure, TestTally, junit_tally};
pub use run_json::{write_first_run_json, write_junit, write_run_json};
pub use run_record::{JobRecord, JobState, RunRecord, RunStatus, SignalRecord};
