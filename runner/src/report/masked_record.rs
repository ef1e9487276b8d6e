//! A run record with every secret masked, for `run.json` and the console's summary.

use super::ReportError;
use super::run_record::RunRecord;
use crate::secrets::{Masker, masked_json};

impl RunRecord {
    /// The record with every secret in any of its strings (reasons, the commit message, …)
    /// replaced by `***`. Walks the record's JSON form, so a field added later is covered too.
    pub fn masked(&self, masker: &Masker) -> Result<RunRecord, ReportError> {
        if masker.is_empty() {
            return Ok(self.clone());
        }
        Ok(masked_json(self, masker)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{JobRecord, JobState, RunStatus};

    fn record(status: RunStatus, state: JobState, reason: &str) -> RunRecord {
        RunRecord {
            run_id: "20261122-001500-123-abcd".to_owned(),
            pipeline: "ci".to_owned(),
            pipeline_file: "pipekit.yml".to_owned(),
            started_at: "2026-11-22T00:15:00.123Z".to_owned(),
            duration_seconds: 1.5,
            status,
            commit: None,
            jobs: vec![JobRecord {
                name: "deploy".to_owned(),
                state,
                exit_code: Some(1),
                started_after_seconds: Some(0.0),
                duration_seconds: Some(1.5),
                reason: Some(reason.to_owned()),
                signals: Vec::new(),
                log: "logs/deploy.log".to_owned(),
                artifact: None,
                junit_files: Vec::new(),
            }],
        }
    }

    #[test]
    fn masks_reasons_and_leaves_the_rest() -> Result<(), Box<dyn std::error::Error>> {
        let record = record(
            RunStatus::Failed,
            JobState::Failed,
            "login as hunter2hunter2 refused",
        );
        let masker = Masker::new(["hunter2hunter2"])?;
        let masked = record.masked(&masker)?;
        assert_eq!(
            masked.jobs[0].reason.as_deref(),
            Some("login as *** refused")
        );
        let mut expected = record.clone();
        expected.jobs[0].reason = masked.jobs[0].reason.clone();
        assert_eq!(masked, expected);
        assert_eq!(record.masked(&Masker::default())?, record);
        Ok(())
    }

    #[test]
    fn a_secret_spelling_a_status_keeps_the_record_readable()
    -> Result<(), Box<dyn std::error::Error>> {
        let record = record(
            RunStatus::Interrupted,
            JobState::Cancelled,
            "the run was interrupted",
        );
        let masked = record.masked(&Masker::new(["interrupted"])?)?;
        assert_eq!(masked.status, RunStatus::Interrupted);
        assert_eq!(masked.jobs[0].reason.as_deref(), Some("the run was ***"));
        Ok(())
    }
}
