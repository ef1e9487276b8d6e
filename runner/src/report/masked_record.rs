//! A run record with every secret masked, for `run.json` and the console's summary.

use serde_json::Value;

use super::ReportError;
use super::run_record::RunRecord;
use crate::secrets::Masker;

impl RunRecord {
    /// The record with every secret in any of its strings (reasons, the commit message, …)
    /// replaced by `***`. Walks the record's JSON form, so a field added later is covered too.
    pub fn masked(&self, masker: &Masker) -> Result<RunRecord, ReportError> {
        if masker.is_empty() {
            return Ok(self.clone());
        }
        let original = serde_json::to_value(self)?;
        let mut value = original.clone();
        mask_strings(&mut value, masker, false);
        match serde_json::from_value(value) {
            Ok(record) => Ok(record),
            // A secret spelling a word of the record's own vocabulary (`interrupted`) turned
            // a status into `***`: keep strings that are nothing but a secret, which no
            // free text is, and mask the rest.
            Err(_) => {
                let mut value = original;
                mask_strings(&mut value, masker, true);
                Ok(serde_json::from_value(value)?)
            }
        }
    }
}

fn mask_strings(value: &mut Value, masker: &Masker, keep_whole_words: bool) {
    match value {
        Value::String(text) => {
            if let std::borrow::Cow::Owned(masked) = masker.mask(text)
                && !(keep_whole_words && masked == "***")
            {
                *text = masked;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| mask_strings(item, masker, keep_whole_words)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|field| mask_strings(field, masker, keep_whole_words)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
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
