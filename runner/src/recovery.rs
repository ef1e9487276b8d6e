//! Runs whose pipekit-ci died (kill -9, a crash, a power cut): each live run keeps an owner
//! record (`owner.json`: pid, process start time, host, PID namespace) in its folder, and
//! removes it when it ends. A record whose process is gone, or whose pid now belongs to a
//! process that started at another time, names a dead run: its host processes (found by
//! their `PIPEKIT_RUN_ID`) are killed and its `run.json` says `interrupted`. Containers are
//! reaped by their labels, separately (`executor/docker/cleanup.rs`).

use crate::executor::{HostSupervisor, JobTag, Owner};
use crate::report::{JobState, RunRecord, RunStatus, write_run_json};
use crate::storage::{OWNER_FILE, RunFolder, write_atomically_unsynced};
use std::path::{Path, PathBuf};

/// Why the owner record could not be written.
#[derive(Debug, thiserror::Error)]
#[error("failed to write the owner record `{}`", path.display())]
pub struct OwnerRecordError {
    path: PathBuf,
    source: std::io::Error,
}

/// A run whose pipekit-ci died, as it was cleaned up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadRun {
    pub run_id: String,
    /// The pid of the pipekit-ci that died.
    pub owner_pid: u32,
    /// Host processes of the run that were still alive and were killed.
    pub processes: usize,
    /// Whether `run.json` was rewritten as interrupted (false: it was missing or unreadable).
    pub marked_interrupted: bool,
}

/// Marks the run as owned by this pipekit-ci, so a later one can tell if it dies.
pub fn claim(folder: &RunFolder) -> Result<(), OwnerRecordError> {
    let path = folder.owner_path();
    let record = serde_json::to_vec(&Owner::current())
        .map_err(|error| std::io::Error::other(error.to_string()));
    record
        .and_then(|json| write_atomically_unsynced(&path, &json))
        .map_err(|source| OwnerRecordError { path, source })
}

/// The run ended (its reports are written): nothing to recover.
pub fn release(folder: &RunFolder) {
    let _ = std::fs::remove_file(folder.owner_path());
}

/// Finds the dead runs under `runs_dir` (`.pipekit/runs/`) and cleans up after each.
/// Live runs, and runs of another host or PID namespace, are left alone.
pub async fn recover_dead_runs(runs_dir: &Path) -> Vec<DeadRun> {
    let Ok(entries) = std::fs::read_dir(runs_dir) else {
        return Vec::new();
    };
    let mut recovered = Vec::new();
    for entry in entries.flatten() {
        let run_dir = entry.path();
        let Some(owner) = dead_owner(&run_dir.join(OWNER_FILE)) else {
            continue;
        };
        let Some(run_id) = run_dir.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        let tag = JobTag::run(run_id);
        let processes = tag.find().len();
        // A dead run's processes are not this process's children: nothing to reap.
        tag.kill_now(&HostSupervisor::unsupervised()).await;
        let marked_interrupted = mark_interrupted(&run_dir.join("run.json"), owner.pid);
        let _ = std::fs::remove_file(run_dir.join(OWNER_FILE));
        // The 1 MiB the dead run set aside for its reports (see `SpaceReserve`).
        let _ = std::fs::remove_file(run_dir.join(crate::storage::SPACE_RESERVE_FILE));
        recovered.push(DeadRun {
            run_id: run_id.to_string(),
            owner_pid: owner.pid,
            processes,
            marked_interrupted,
        });
    }
    recovered.sort_by(|a, b| a.run_id.cmp(&b.run_id));
    recovered
}

/// The owner in the record, if it is known to be dead.
fn dead_owner(record: &Path) -> Option<Owner> {
    let text = std::fs::read(record).ok()?;
    let owner: Owner = serde_json::from_slice(&text).ok()?;
    owner.is_dead().then_some(owner)
}

/// Rewrites `run.json` (atomically) as an interrupted run: jobs still running or waiting
/// are cancelled, with the reason. A record that already ended is left as it is.
fn mark_interrupted(run_json: &Path, owner_pid: u32) -> bool {
    let Ok(text) = std::fs::read(run_json) else {
        return false;
    };
    let Ok(mut record) = serde_json::from_slice::<RunRecord>(&text) else {
        return false;
    };
    if record.status == RunStatus::Running {
        record.status = RunStatus::Interrupted;
        for job in &mut record.jobs {
            if matches!(job.state, JobState::Running | JobState::Waiting) {
                job.state = JobState::Cancelled;
                job.reason = Some(format!(
                    "pipekit-ci (pid {owner_pid}) died during the run; its processes and \
                     containers were reaped later"
                ));
            }
        }
    }
    write_run_json(&record, run_json).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::JobRecord;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn job(name: &str, state: JobState) -> JobRecord {
        JobRecord {
            name: name.into(),
            state,
            exit_code: None,
            started_after_seconds: None,
            duration_seconds: None,
            reason: None,
            signals: Vec::new(),
            log: format!("logs/{name}.log"),
            artifact: None,
            junit_files: Vec::new(),
        }
    }

    fn running_record(run_id: &str) -> RunRecord {
        RunRecord {
            run_id: run_id.into(),
            pipeline: "ci".into(),
            pipeline_file: "pipekit.yml".into(),
            started_at: "2026-11-22T00:15:00.123Z".into(),
            duration_seconds: 0.0,
            status: RunStatus::Running,
            commit: None,
            jobs: vec![
                job("built", JobState::Passed),
                job("serve", JobState::Running),
                job("test", JobState::Waiting),
            ],
        }
    }

    /// A process that existed and is gone: a child that was waited for.
    fn dead_owner_record() -> Result<Owner, Box<dyn std::error::Error>> {
        let mut child = std::process::Command::new("true").spawn()?;
        let pid = child.id();
        let start = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        child.wait()?;
        let start = start
            .rsplit_once(')')
            .and_then(|(_, after)| after.split_whitespace().nth(19).map(str::to_string))
            .unwrap_or_else(|| "1".into());
        Ok(Owner {
            pid,
            start,
            ..Owner::current()
        })
    }

    #[tokio::test]
    async fn a_run_whose_owner_died_is_marked_interrupted_and_released() -> TestResult {
        let base = tempfile::tempdir()?;
        let folder = RunFolder::create(base.path(), &["built", "serve", "test"])?;
        write_run_json(&running_record(folder.id()), &folder.run_json_path())?;
        std::fs::write(
            folder.owner_path(),
            serde_json::to_vec(&dead_owner_record()?)?,
        )?;

        let recovered = recover_dead_runs(&base.path().join(".pipekit/runs")).await;

        assert_eq!(recovered.len(), 1);
        assert_eq!(recovered[0].run_id, folder.id());
        assert!(recovered[0].marked_interrupted);
        let record: RunRecord = serde_json::from_slice(&std::fs::read(folder.run_json_path())?)?;
        assert_eq!(record.status, RunStatus::Interrupted);
        let states: Vec<JobState> = record.jobs.iter().map(|j| j.state).collect();
        assert_eq!(
            states,
            [JobState::Passed, JobState::Cancelled, JobState::Cancelled]
        );
        assert!(
            record.jobs[1]
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("died"))
        );
        assert!(!folder.owner_path().exists());
        Ok(())
    }

    #[tokio::test]
    async fn a_live_run_and_a_finished_run_are_left_alone() -> TestResult {
        let base = tempfile::tempdir()?;
        let live = RunFolder::create(base.path(), &["serve"])?;
        write_run_json(&running_record(live.id()), &live.run_json_path())?;
        claim(&live)?;
        let finished = RunFolder::create(base.path(), &["serve"])?;
        write_run_json(&running_record(finished.id()), &finished.run_json_path())?;
        claim(&finished)?;
        release(&finished);

        let recovered = recover_dead_runs(&base.path().join(".pipekit/runs")).await;

        assert_eq!(recovered, Vec::new());
        assert!(live.owner_path().exists());
        for folder in [&live, &finished] {
            let record: RunRecord =
                serde_json::from_slice(&std::fs::read(folder.run_json_path())?)?;
            assert_eq!(record.status, RunStatus::Running);
        }
        Ok(())
    }

    #[tokio::test]
    async fn no_runs_folder_means_nothing_to_recover() {
        let base = tempfile::tempdir().ok();
        let missing = base
            .map(|b| b.path().join("nothing/here"))
            .unwrap_or_default();
        assert!(recover_dead_runs(&missing).await.is_empty());
    }
}
