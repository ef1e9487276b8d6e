//! The run itself, and what follows its last job: the records, the reports, the outcome.

use super::error::with_cause;
use super::outcome::{Problem, RunOutcome};
use super::prepare::{PreparedRun, mask, masked_record};
use crate::executor::{Executor, Executors};
use crate::recovery::release;
use crate::report::{RunRecord, write_junit, write_run_json};
use crate::run::{Reporter, RunContext, RunOptions, execute, find_junit_files};
use crate::secrets::Masker;
use crate::storage::{REPORT_RESERVE_BYTES, RunFolder, SpaceReserve};
use std::path::{Path, PathBuf};
use std::sync::Arc;

impl PreparedRun {
    /// Runs the jobs to the end, writes `run.json` and the JUnit reports, and says how it
    /// went. Never fails: what goes wrong on the way is in [`RunOutcome::problems`].
    pub async fn run(self) -> RunOutcome {
        let PreparedRun {
            request,
            plan,
            secrets,
            folder,
            recorder,
            docker,
            local,
            ..
        } = self;
        let pipeline = request.pipeline.clone();
        let masker = secrets.masker().clone();
        let reserve = SpaceReserve::claim(folder.space_reserve_path(), REPORT_RESERVE_BYTES);
        let engine_lost = docker.as_ref().map(|docker| docker.engine_lost());
        let mut reporters: Vec<Box<dyn Reporter>> = request.events;
        reporters.push(Box::new(recorder.clone()));
        let workspaces = request.source.workspaces.clone();
        let executors = Executors::new(
            Arc::new(local),
            docker.map(|docker| Arc::new(docker) as Arc<dyn Executor>),
        );
        let context = RunContext {
            pipeline: pipeline.clone(),
            folder: folder.clone(),
            workspaces: workspaces.clone(),
            pipeline_dir: request.source.pipeline_dir.clone(),
            run_variables: request
                .source
                .commit
                .as_ref()
                .map(crate::git::CommitInfo::variables)
                .unwrap_or_default(),
            executors,
            plan: plan.clone(),
            options: RunOptions {
                fail_fast: request.options.fail_fast,
                only: request.options.only.clone(),
                stop_grace: request.options.stop_grace,
                keep_running: request.options.keep_running,
                log_limit: request.options.log_limit,
            },
            secrets: secrets.clone(),
            host_env: request.host_env.clone(),
        };
        let interrupted = execute(context, &mut reporters, request.cancel.into_messages()).await;
        drop(reporters);

        for id in pipeline.job_ids() {
            let job = pipeline.job(id);
            let tree = workspaces.of(&job.name);
            let mut files = find_junit_files(&tree, &job.junit);
            // In a commit run, outputs handed on as artifacts may have been moved out of the
            // job's checkout into the staged tree, JUnit files among them.
            if let Some(staged) = workspaces.staged_artifacts(&job.name) {
                let found: Vec<PathBuf> = files
                    .iter()
                    .filter_map(|file| file.strip_prefix(&tree).ok().map(Path::to_path_buf))
                    .collect();
                files.extend(
                    find_junit_files(&staged, &job.junit)
                        .into_iter()
                        .filter(|file| {
                            file.strip_prefix(&staged)
                                .is_ok_and(|relative| !found.iter().any(|seen| seen == relative))
                        }),
                );
            }
            recorder.set_junit_files(id, files.iter().map(|f| f.display().to_string()).collect());
        }
        let lost = engine_lost.as_ref().and_then(|lost| lost.get().cloned());
        let write_failure = folder.write_failure().map(str::to_owned);
        if lost.is_some() || write_failure.is_some() {
            recorder.set_errored();
        }
        // The reserved blocks are what the reports are written into when the logs filled
        // the disk.
        drop(reserve);
        let mut problems: Vec<Problem> = Vec::new();
        let record = match masked_record(&recorder, &masker) {
            Ok(record) => Some(record),
            Err(why) => {
                problems.push(Problem::Reports(why));
                None
            }
        };
        let reports = match &record {
            Some(record) => write_reports(
                record,
                &folder,
                request.options.extra_junit.as_deref(),
                &masker,
            ),
            None => Ok(()),
        };
        if reports.is_err() {
            // run.json must not say `passed` for a run that ends with exit 3.
            recorder.set_errored();
            if let Ok(record) = masked_record(&recorder, &masker) {
                let _ = write_run_json(&record, &folder.run_json_path());
            }
        }
        release(&folder);
        problems.extend(lost.map(|lost| Problem::EngineLost(mask(&masker, &lost.to_string()))));
        problems
            .extend(write_failure.map(|failure| Problem::LogsIncomplete(mask(&masker, &failure))));
        problems.extend(
            reports
                .err()
                .map(|why| Problem::Reports(mask(&masker, &why))),
        );
        let record = masked_record(&recorder, &masker).unwrap_or_else(|_| recorder.snapshot());
        RunOutcome {
            record,
            run_dir: folder.root().to_path_buf(),
            interrupted,
            problems,
        }
    }
}

/// Writes `run.json`, `junit.xml` and the `--junit` copy; a failure says what the OS said.
fn write_reports(
    record: &RunRecord,
    folder: &RunFolder,
    extra_junit: Option<&Path>,
    masker: &Masker,
) -> Result<(), String> {
    let xml_masker = masker
        .with_xml_escapes()
        .map_err(|error| error.to_string())?;
    write_run_json(record, &folder.run_json_path()).map_err(with_cause)?;
    write_junit(record, folder.root(), &folder.junit_path(), &xml_masker).map_err(with_cause)?;
    if let Some(path) = extra_junit {
        write_junit(record, folder.root(), path, &xml_masker).map_err(with_cause)?;
    }
    Ok(())
}
