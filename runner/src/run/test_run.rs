//! What every driver test starts from: a pipeline parsed from YAML, its run folder in a
//! temporary directory, and the run's event log.

use super::{EventLog, Recorder, RunHeader};
use crate::storage::RunFolder;
use pipekit_schema::{Pipeline, Source, parse};
use std::sync::Arc;

pub(super) struct TestRun {
    pub dir: tempfile::TempDir,
    pub pipeline: Arc<Pipeline>,
    pub folder: Arc<RunFolder>,
    /// Without secrets; `finish` gives the record folded from the events.
    pub events: EventLog,
}

pub(super) fn test_run(yaml: &str) -> TestRun {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = Source {
        name: "pipekit.yml".into(),
        text: yaml.into(),
    };
    let pipeline = Arc::new(parse(&source).expect("valid pipeline").pipeline);
    let names: Vec<&str> = pipeline.jobs.iter().map(|job| job.name.as_str()).collect();
    let folder = Arc::new(RunFolder::create(dir.path(), &names).expect("run folder"));
    let header = RunHeader {
        pipeline_file: "pipekit.yml".into(),
        commit: None,
    };
    let masker = Arc::new(crate::secrets::Masker::default());
    let events = EventLog::create(
        folder.clone(),
        &pipeline,
        |_| true,
        header,
        masker,
        Recorder::default(),
    )
    .expect("events.jsonl");
    TestRun {
        dir,
        pipeline,
        folder,
        events,
    }
}
