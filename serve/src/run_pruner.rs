//! Retention carried out (spec 8 `keep:`): after each run ends, and as the service starts,
//! each repository's finished runs beyond what is kept lose their run folder and then their
//! row, a small batch at a time, and the database gives the freed pages back. A folder
//! that cannot be deleted keeps its row, so that the next pass tries again; nothing here
//! stops the service.

use crate::queue_runner::QueueRunner;
use crate::retention::Retention;
use crate::store::{PrunableRun, RunStore, StoreError};
use pipekit_runner::session::CancelSignal;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, MutexGuard};
use std::time::SystemTime;

/// Runs looked at, and rows deleted, per write: small enough that the queue and the pages
/// never wait long for the database.
const BATCH: usize = 100;
/// Pages given back per statement, for the same reason (4 MB at 4 KiB a page).
const VACUUM_PAGES: u32 = 1024;

/// What went wrong in a pass, told to the service's log; the next pass tries again.
#[derive(Debug, thiserror::Error)]
pub enum PruneProblem {
    #[error("cannot delete the run folder `{path}` of run {id}; its run is kept until it can be")]
    Folder {
        id: i64,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("run {id} names `{folder}` as its run folder, which is no folder name; it is kept")]
    FolderName { id: i64, folder: String },
    #[error("cannot prune the history of `{repository}`")]
    Store {
        repository: String,
        #[source]
        source: StoreError,
    },
}

/// What a pass over one repository did.
#[derive(Debug, Default)]
pub struct Pruned {
    /// The runs deleted, rows and folders.
    pub deleted: Vec<i64>,
    /// What was left for the next pass, and why.
    pub problems: Vec<PruneProblem>,
}

/// Deletes `repository`'s finished runs beyond `keep` (seen at `now`), their folders under
/// `runs_dir` first, then their rows; `store` is locked for each step alone. Then gives the
/// freed pages back.
pub fn prune_repository<'a>(
    store: impl Fn() -> MutexGuard<'a, RunStore>,
    runs_dir: &Path,
    repository: &str,
    keep: &Retention,
    now: SystemTime,
) -> Pruned {
    let mut pruned = Pruned::default();
    if let Err(source) = prune_rows(&store, runs_dir, repository, keep, now, &mut pruned) {
        pruned.problems.push(PruneProblem::Store {
            repository: repository.to_owned(),
            source,
        });
    }
    let vacuumed = (|| {
        while store().vacuum_some(VACUUM_PAGES)? {}
        Ok::<_, StoreError>(())
    })();
    if let Err(source) = vacuumed {
        pruned.problems.push(PruneProblem::Store {
            repository: repository.to_owned(),
            source,
        });
    }
    pruned
}

fn prune_rows<'a>(
    store: &impl Fn() -> MutexGuard<'a, RunStore>,
    runs_dir: &Path,
    repository: &str,
    keep: &Retention,
    now: SystemTime,
    pruned: &mut Pruned,
) -> Result<(), StoreError> {
    let scope = store().prune_scope(repository, keep.runs, keep.too_old_before(now))?;
    if scope.below_id.is_none() && scope.ended_before.is_none() {
        return Ok(());
    }
    let mut after = 0;
    loop {
        let batch = store().prunable_runs(repository, &scope, after, BATCH)?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        after = last.id;
        // Off the lock: deleting a big run folder takes a while.
        let gone: Vec<i64> = batch
            .iter()
            .filter_map(|run| match remove_run_folder(runs_dir, run) {
                Ok(()) => Some(run.id),
                Err(problem) => {
                    pruned.problems.push(problem);
                    None
                }
            })
            .collect();
        store().delete_runs(&gone)?;
        pruned.deleted.extend(gone);
    }
}

/// Deletes the run's folder; one already gone is fine.
fn remove_run_folder(runs_dir: &Path, run: &PrunableRun) -> Result<(), PruneProblem> {
    let Some(folder) = &run.run_folder else {
        return Ok(());
    };
    // The name comes from the database: anything but one plain name could point out of
    // the runs folder, and this deletes whole trees.
    let mut components = Path::new(folder).components();
    let (Some(Component::Normal(_)), None) = (components.next(), components.next()) else {
        return Err(PruneProblem::FolderName {
            id: run.id,
            folder: folder.clone(),
        });
    };
    let path = runs_dir.join(folder);
    match std::fs::remove_dir_all(&path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(PruneProblem::Folder {
            id: run.id,
            path,
            source,
        }),
    }
}

/// Prunes every repository now and again each time a run ends, until `stop`; each
/// problem is told to `told`.
pub async fn prune_after_runs(
    runner: Arc<QueueRunner>,
    keep: Retention,
    mut stop: CancelSignal,
    told: impl Fn(&PruneProblem) + Send + Sync + 'static,
) {
    let told = Arc::new(told);
    loop {
        let (pruning, told) = (runner.clone(), told.clone());
        // Off the runtime's threads: the database and the file system block.
        let pass = tokio::task::spawn_blocking(move || {
            let runner = pruning;
            for repository in runner.service().repositories.keys() {
                let runs_dir = runner.service().runs_dir(repository);
                let pruned = prune_repository(
                    || runner.store(),
                    &runs_dir,
                    repository,
                    &keep,
                    SystemTime::now(),
                );
                for problem in &pruned.problems {
                    told(problem);
                }
            }
        });
        let _ = pass.await;
        tokio::select! {
            () = runner.a_run_ended() => {}
            () = stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewRun, RunFilter, RunState, Trigger};
    use std::sync::{Mutex, PoisonError};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A run of `app` that ended `state` with the folder `folder`.
    fn ran(store: &mut RunStore, state: RunState, folder: &str) -> Result<i64, StoreError> {
        let run = NewRun {
            repository: "app".to_owned(),
            pipeline: "pipekit.yml".to_owned(),
            branch: Some("main".to_owned()),
            git_ref: None,
            commit: "c0ffee".to_owned(),
            message: "Test".to_owned(),
            author: "Ada".to_owned(),
            trigger: Trigger::Manual,
            attempt_of: None,
            rerun: None,
        };
        let id = store.enqueue(&run, SystemTime::now())?.unwrap_or_default();
        store.start_next(1, SystemTime::now())?;
        store.set_run_folder(id, folder)?;
        store.finish(id, state, None, SystemTime::now())?;
        Ok(id)
    }

    #[test]
    fn folders_then_rows_go_and_a_folder_that_cannot_be_deleted_is_tried_again() -> TestResult {
        let dir = tempfile::tempdir()?;
        let runs_dir = dir.path().join("runs").join("app");
        let mut store = RunStore::open(&dir.path().join("pipekit.db"))?;
        store.add_repository("app", "/srv/app")?;
        let mut ids = Vec::new();
        for (state, folder) in [
            (RunState::Passed, "r1"),
            (RunState::Failed, "r2"),
            (RunState::Failed, "r3"),
            (RunState::Failed, "../outside"),
            (RunState::Failed, "r5"),
        ] {
            ids.push(ran(&mut store, state, folder)?);
        }
        for folder in ["r1", "r2", "r5"] {
            std::fs::create_dir_all(runs_dir.join(folder).join("logs"))?;
            std::fs::write(runs_dir.join(folder).join("logs/a.log"), "lines\n")?;
        }
        // No folder but a file where r3's should be: deleting it as a folder fails.
        std::fs::write(runs_dir.join("r3"), "not a folder")?;
        std::fs::create_dir_all(dir.path().join("runs/outside"))?;
        let store = Mutex::new(store);
        let lock = || store.lock().unwrap_or_else(PoisonError::into_inner);
        let keep = Retention {
            runs: Some(1),
            max_age: None,
        };

        let pruned = prune_repository(lock, &runs_dir, "app", &keep, SystemTime::now());
        assert_eq!(pruned.deleted, [ids[1]]);
        let problems: Vec<String> = pruned.problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("cannot delete the run folder"),
            "{problems:?}"
        );
        assert!(problems[1].contains("`../outside`"), "{problems:?}");
        assert!(!runs_dir.join("r2").exists() && runs_dir.join("r1").exists());
        assert!(
            dir.path().join("runs/outside").exists(),
            "nothing out of the runs folder"
        );
        let left = |store: &Mutex<RunStore>| -> Result<Vec<i64>, StoreError> {
            let store = store.lock().unwrap_or_else(PoisonError::into_inner);
            Ok(store
                .runs(&RunFilter::default())?
                .iter()
                .map(|run| run.id)
                .rev()
                .collect())
        };
        assert_eq!(left(&store)?, [ids[0], ids[2], ids[3], ids[4]]);

        // Once the obstacle is gone, the next pass deletes the run.
        std::fs::remove_file(runs_dir.join("r3"))?;
        let pruned = prune_repository(lock, &runs_dir, "app", &keep, SystemTime::now());
        assert_eq!((pruned.deleted, pruned.problems.len()), (vec![ids[2]], 1));
        assert_eq!(left(&store)?, [ids[0], ids[3], ids[4]]);
        Ok(())
    }
}
