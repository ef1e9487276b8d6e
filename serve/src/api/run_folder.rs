//! A run as the file endpoints find it: its stored row and, once it started, its folder
//! with the jobs its `run.json` names. Every job name in a path is checked against those,
//! so no path parameter can reach outside the run folder.

use super::api_error::ApiError;
use super::runs::run_id;
use crate::queue_runner::QueueRunner;
use crate::store::RunRow;
use pipekit_runner::report::{RunRecord, TestTally, junit_tally};
use std::path::PathBuf;

/// A run and where its files are.
pub(crate) struct FoundRun {
    pub row: RunRow,
    /// `runs/<repository>/<run folder>/`, once the run started.
    pub folder: Option<PathBuf>,
}

impl FoundRun {
    /// The run `id_text` names, or 400 (not an id) / 404 (no such run).
    pub fn find(runner: &QueueRunner, id_text: &str) -> Result<FoundRun, ApiError> {
        let id = run_id(id_text)?;
        let row = runner
            .store()
            .run(id)?
            .ok_or_else(|| ApiError::NotFound(format!("no run {id}")))?;
        let folder = row
            .run_folder
            .as_ref()
            .map(|folder| runner.service().runs_dir(&row.repository).join(folder));
        Ok(FoundRun { row, folder })
    }

    /// The folder, or 404 saying the run has not started.
    pub fn started_folder(&self) -> Result<&PathBuf, ApiError> {
        self.folder.as_ref().ok_or_else(|| {
            ApiError::NotFound(format!(
                "run {} has no files: it is {}",
                self.row.id,
                self.row.state.as_str()
            ))
        })
    }

    /// `run.json`, when it can be read (a run killed outright may have half of one).
    pub async fn record(&self) -> Option<RunRecord> {
        let path = self.folder.as_ref()?.join("run.json");
        let bytes = tokio::fs::read(&path).await.ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// What the run's `junit.xml` counts, once it has one.
    pub async fn tests(&self) -> Option<TestTally> {
        let path = self.folder.as_ref()?.join("junit.xml");
        let text = tokio::fs::read_to_string(&path).await.ok()?;
        junit_tally(&text)
    }

    /// `job` if the run has a job of that name, else 404.
    pub async fn job(&self, job: &str) -> Result<String, ApiError> {
        let folder = self.started_folder()?;
        let known = self
            .record()
            .await
            .is_some_and(|record| record.jobs.iter().any(|known| known.name == job));
        match known {
            true => Ok(job.to_owned()),
            false => Err(ApiError::NotFound(format!(
                "run {} (`{}`) has no job `{job}`",
                self.row.id,
                folder
                    .file_name()
                    .map_or_else(String::new, |name| name.to_string_lossy().into_owned())
            ))),
        }
    }
}
