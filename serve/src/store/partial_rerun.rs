//! A re-run of only some jobs, as the store keeps it: which jobs run again, and the run
//! folder the others are reused from.

use super::store_error::StoreError;
use serde::{Deserialize, Serialize};

/// A queued re-run that reuses the jobs it does not run again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialRerun {
    pub jobs: RerunJobs,
    /// The earlier run's folder id, under the same repository's runs.
    pub reuse_folder: String,
}

/// Which jobs run again (with what depends on them), as the request named them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RerunJobs {
    Named(Vec<String>),
    /// Those that did not pass in the earlier run.
    Failed,
}

/// The column's JSON, the request's own words: `{"jobs": [..]}` or `{"failed": true}`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RerunColumn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jobs: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    failed: bool,
}

impl RerunJobs {
    pub(super) fn to_column(&self) -> String {
        let column = match self {
            RerunJobs::Named(jobs) => RerunColumn {
                jobs: Some(jobs.clone()),
                failed: false,
            },
            RerunJobs::Failed => RerunColumn {
                jobs: None,
                failed: true,
            },
        };
        // A struct of strings and a bool always serialises.
        serde_json::to_string(&column).unwrap_or_default()
    }

    pub(super) fn from_column(text: String) -> Result<RerunJobs, StoreError> {
        let corrupt = |value: String| StoreError::Corrupt {
            what: "re-run selection",
            value,
        };
        match serde_json::from_str::<RerunColumn>(&text) {
            Ok(RerunColumn {
                jobs: Some(jobs),
                failed: false,
            }) => Ok(RerunJobs::Named(jobs)),
            Ok(RerunColumn {
                jobs: None,
                failed: true,
            }) => Ok(RerunJobs::Failed),
            _ => Err(corrupt(text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_reads_back_as_it_was_written() -> Result<(), StoreError> {
        for jobs in [
            RerunJobs::Failed,
            RerunJobs::Named(vec!["test".into(), "deploy".into()]),
        ] {
            assert_eq!(RerunJobs::from_column(jobs.to_column())?, jobs);
        }
        assert_eq!(RerunJobs::Failed.to_column(), r#"{"failed":true}"#);
        assert!(RerunJobs::from_column(r#"{"failed":false}"#.into()).is_err());
        assert!(RerunJobs::from_column("nonsense".into()).is_err());
        Ok(())
    }
}
