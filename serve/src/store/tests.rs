//! The store against real SQLite files: each test opens its own database in a temporary
//! folder, and "a restart" is dropping the store and opening the file again.

use super::*;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// 2026-12-04T00:00:00Z plus `seconds`.
fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_796_342_400 + seconds)
}

struct Scratch {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Scratch {
    fn new() -> Result<Scratch, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("pipekit.db");
        Ok(Scratch { _dir: dir, path })
    }

    /// A store with repositories `app` and `lib`.
    fn store(&self) -> Result<RunStore, StoreError> {
        let mut store = RunStore::open(&self.path)?;
        store.add_repository("app", "/srv/git/app.git")?;
        store.add_repository("lib", "file:///srv/git/lib.git")?;
        Ok(store)
    }
}

fn push(repository: &str, commit: &str, trigger: Trigger) -> NewRun {
    NewRun {
        repository: repository.to_owned(),
        pipeline: "pipekit.yml".to_owned(),
        branch: Some("main".to_owned()),
        git_ref: Some("refs/heads/main".to_owned()),
        commit: commit.to_owned(),
        message: "Fix the build".to_owned(),
        author: "Ada <ada@example.com>".to_owned(),
        trigger,
        attempt_of: None,
        rerun: None,
    }
}

fn states(store: &RunStore) -> Result<Vec<(i64, RunState)>, StoreError> {
    let mut runs = store.runs(&RunFilter::default())?;
    runs.reverse();
    Ok(runs.into_iter().map(|run| (run.id, run.state)).collect())
}

#[test]
fn a_new_database_is_at_the_schema_version_in_wal_mode_with_incremental_vacuum() -> TestResult {
    let scratch = Scratch::new()?;
    drop(scratch.store()?);
    let conn = rusqlite::Connection::open(&scratch.path)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
    let vacuum: i64 = conn.query_row("PRAGMA auto_vacuum", [], |row| row.get(0))?;
    assert_eq!(version, SCHEMA_VERSION as i64);
    assert_eq!(mode, "wal");
    assert_eq!(vacuum, 2, "auto_vacuum = INCREMENTAL");
    Ok(())
}

#[test]
fn what_was_recorded_is_there_after_a_restart() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    let id = store.enqueue(&push("app", "a1", Trigger::Hook), at(1))?;
    drop(store);

    let store = RunStore::open(&scratch.path)?;
    let run = store.run(id.ok_or("not queued")?)?.ok_or("no run")?;
    assert_eq!(run.repository, "app");
    assert_eq!(run.number, 1);
    assert_eq!(run.state, RunState::Queued);
    assert_eq!(run.trigger, Trigger::Hook);
    assert_eq!(run.queued_at, "2026-12-04T00:00:01.000Z");
    assert_eq!(run.author, "Ada <ada@example.com>");
    assert_eq!(store.repositories()?.len(), 2);
    Ok(())
}

#[test]
fn a_database_of_a_newer_pipekit_ci_is_refused_and_left_alone() -> TestResult {
    let scratch = Scratch::new()?;
    drop(scratch.store()?);
    let newer = SCHEMA_VERSION as i64 + 1;
    rusqlite::Connection::open(&scratch.path)?
        .execute_batch(&format!("PRAGMA user_version = {newer}"))?;

    let error = RunStore::open(&scratch.path)
        .map(drop)
        .map_err(|e| e.to_string());
    assert_eq!(
        error,
        Err(format!(
            "the database `{}` is of schema version {newer}, written by a newer pipekit-ci \
             (this one knows up to {SCHEMA_VERSION}); it is left as it is",
            scratch.path.display()
        ))
    );
    let conn = rusqlite::Connection::open(&scratch.path)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    assert_eq!(version, newer);
    Ok(())
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_naming_it() -> TestResult {
    let scratch = Scratch::new()?;
    std::fs::write(&scratch.path, vec![b'x'; 4096])?;
    let error = RunStore::open(&scratch.path)
        .map(drop)
        .map_err(|e| e.to_string());
    assert_eq!(
        error,
        Err(format!(
            "cannot open the database `{}`",
            scratch.path.display()
        ))
    );
    Ok(())
}

#[test]
fn runs_are_numbered_within_their_repository() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    for (repository, commit) in [("app", "a1"), ("app", "a2"), ("lib", "b1"), ("app", "a3")] {
        store.enqueue(&push(repository, commit, Trigger::Manual), at(1))?;
    }
    let numbers: Vec<(String, i64)> = store
        .queue()?
        .into_iter()
        .map(|run| (run.repository, run.number))
        .collect();
    let expected = [("app", 1), ("app", 2), ("lib", 1), ("app", 3)];
    assert_eq!(
        numbers,
        expected.map(|(repository, number)| (repository.to_owned(), number))
    );
    Ok(())
}

#[test]
fn a_pushed_commit_is_queued_once_however_many_triggers_see_it() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    let first = store.enqueue(&push("app", "a1", Trigger::Hook), at(1))?;
    assert!(first.is_some());
    for trigger in [Trigger::Webhook, Trigger::Poll, Trigger::Hook] {
        assert_eq!(store.enqueue(&push("app", "a1", trigger), at(2))?, None);
    }
    // Another pipeline file of the commit, or the commit in another repository, is new.
    let mut other_file = push("app", "a1", Trigger::Poll);
    other_file.pipeline = ".pipekit/nightly.yml".to_owned();
    assert!(store.enqueue(&other_file, at(3))?.is_some());
    assert!(
        store
            .enqueue(&push("lib", "a1", Trigger::Poll), at(3))?
            .is_some()
    );
    // A person may ask for it again.
    assert!(
        store
            .enqueue(&push("app", "a1", Trigger::Manual), at(4))?
            .is_some()
    );
    assert_eq!(store.queue()?.len(), 4);
    Ok(())
}

#[test]
fn a_run_of_an_unknown_repository_is_an_error() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    let error = store
        .enqueue(&push("nope", "a1", Trigger::Manual), at(1))
        .map_err(|e| e.to_string());
    assert_eq!(error, Err("no repository `nope`".to_owned()));
    assert!(store.queue()?.is_empty());
    Ok(())
}

#[test]
fn runs_start_oldest_first_and_no_more_than_the_slots_at_once() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    let ids: Vec<i64> = ["a1", "a2", "a3"]
        .into_iter()
        .map(|commit| store.enqueue(&push("app", commit, Trigger::Hook), at(1)))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();

    let first = store.start_next(2, at(10))?.ok_or("nothing started")?;
    let second = store.start_next(2, at(11))?.ok_or("nothing started")?;
    assert_eq!((first.id, second.id), (ids[0], ids[1]));
    assert_eq!(first.state, RunState::Running);
    assert_eq!(
        first.started_at.as_deref(),
        Some("2026-12-04T00:00:10.000Z")
    );
    assert_eq!(store.start_next(2, at(12))?, None, "both slots are taken");
    assert_eq!(store.queue()?.len(), 1);

    store.finish(first.id, RunState::Passed, None, at(20))?;
    let third = store.start_next(2, at(21))?.ok_or("nothing started")?;
    assert_eq!(third.id, ids[2]);
    assert_eq!(store.start_next(5, at(22))?, None, "nothing waits");
    Ok(())
}

#[test]
fn only_a_running_run_can_finish_or_get_its_folder() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    let id = store
        .enqueue(&push("app", "a1", Trigger::Manual), at(1))?
        .ok_or("not queued")?;
    let early = store
        .finish(id, RunState::Passed, None, at(2))
        .map_err(|e| e.to_string());
    assert_eq!(early, Err(format!("run {id} is queued, not running")));

    store.start_next(1, at(3))?;
    store.set_run_folder(id, "20261204-000003-000-abcd")?;
    assert_eq!(
        store.finish(id, RunState::Failed, None, at(4))?,
        RunState::Failed
    );
    let run = store.run(id)?.ok_or("no run")?;
    assert_eq!(run.state, RunState::Failed);
    assert_eq!(run.run_folder.as_deref(), Some("20261204-000003-000-abcd"));
    assert_eq!(run.finished_at.as_deref(), Some("2026-12-04T00:00:04.000Z"));

    let again = store
        .finish(id, RunState::Passed, None, at(5))
        .map_err(|e| e.to_string());
    assert_eq!(again, Err(format!("run {id} is failed, not running")));
    let missing = store.set_run_folder(999, "x").map_err(|e| e.to_string());
    assert_eq!(missing, Err("no run 999".to_owned()));
    Ok(())
}

#[test]
fn cancelling_dequeues_a_waiting_run_and_marks_a_running_one() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    let running = store
        .enqueue(&push("app", "a1", Trigger::Manual), at(1))?
        .ok_or("not queued")?;
    let waiting = store
        .enqueue(&push("app", "a2", Trigger::Manual), at(1))?
        .ok_or("not queued")?;
    store.start_next(1, at(2))?;

    assert_eq!(store.cancel(waiting, at(3))?, Cancelled::Dequeued);
    assert_eq!(store.cancel(running, at(3))?, Cancelled::Requested);
    assert!(store.run(running)?.ok_or("no run")?.cancel_requested);
    assert_eq!(
        store.start_next(5, at(4))?,
        None,
        "a cancelled run never starts"
    );
    // Its jobs stopped as on Ctrl-C, the run ends interrupted: recorded as cancelled.
    assert_eq!(
        store.finish(running, RunState::Interrupted, None, at(5))?,
        RunState::Cancelled
    );
    assert_eq!(
        states(&store)?,
        [
            (running, RunState::Cancelled),
            (waiting, RunState::Cancelled)
        ]
    );
    assert_eq!(
        store.cancel(running, at(6))?,
        Cancelled::AlreadyFinished(RunState::Cancelled)
    );
    assert!(matches!(
        store.cancel(999, at(6)),
        Err(StoreError::UnknownRun(999))
    ));
    Ok(())
}

#[test]
fn a_restart_interrupts_what_was_running_and_queues_it_again() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    let mut queued = Vec::new();
    for commit in ["a1", "a2", "a3", "a4"] {
        queued.push(
            store
                .enqueue(&push("app", commit, Trigger::Poll), at(1))?
                .ok_or("not queued")?,
        );
    }
    store.start_next(3, at(2))?;
    store.start_next(3, at(2))?;
    store.start_next(3, at(2))?;
    store.cancel(queued[1], at(3))?;
    store.finish(queued[2], RunState::Passed, None, at(4))?;
    // The server dies here: a1 running, a2 being cancelled, a3 passed, a4 waiting.
    drop(store);

    let mut store = RunStore::open(&scratch.path)?;
    let recovered = store.recover(true, at(100))?;
    assert_eq!(recovered.interrupted, [queued[0]]);
    assert_eq!(recovered.requeued.len(), 1);
    let again = store.run(recovered.requeued[0])?.ok_or("no run")?;
    assert_eq!(again.commit, "a1");
    assert_eq!(again.trigger, Trigger::Requeue);
    assert_eq!(again.attempt_of, Some(queued[0]));
    assert_eq!(again.number, 5);
    let interrupted = store.run(queued[0])?.ok_or("no run")?;
    assert_eq!(interrupted.state, RunState::Interrupted);
    assert_eq!(
        interrupted.finished_at.as_deref(),
        Some("2026-12-04T00:01:40.000Z")
    );
    assert_eq!(
        store.run(queued[1])?.ok_or("no run")?.state,
        RunState::Cancelled
    );
    // The queue is as it was, the requeued run after it.
    let waiting: Vec<i64> = store.queue()?.into_iter().map(|run| run.id).collect();
    assert_eq!(waiting, [queued[3], recovered.requeued[0]]);
    // Recovering twice changes nothing more.
    assert_eq!(store.recover(true, at(101))?, Recovered::default());
    Ok(())
}

#[test]
fn an_interrupted_run_is_queued_again_on_request_and_nothing_else_is() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    let id = store
        .enqueue(&push("app", "a1", Trigger::Hook), at(1))?
        .ok_or("not queued")?;
    let wrong = store.requeue(id, at(2)).map_err(|e| e.to_string());
    assert_eq!(wrong, Err(format!("run {id} is queued, not interrupted")));
    store.start_next(1, at(2))?;
    store.finish(id, RunState::Interrupted, None, at(3))?;
    let again = store.requeue(id, at(4))?;
    let run = store.run(again)?.ok_or("no run")?;
    assert_eq!(
        (run.state, run.trigger, run.attempt_of),
        (RunState::Queued, Trigger::Requeue, Some(id))
    );
    Ok(())
}

#[test]
fn without_requeue_a_restart_only_marks_the_interrupted_runs() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    let id = store
        .enqueue(&push("app", "a1", Trigger::Hook), at(1))?
        .ok_or("not queued")?;
    store.start_next(1, at(2))?;
    let recovered = store.recover(false, at(3))?;
    assert_eq!(recovered.interrupted, [id]);
    assert!(recovered.requeued.is_empty());
    assert!(store.queue()?.is_empty());
    Ok(())
}

#[test]
fn listings_filter_by_repository_branch_and_state_newest_first() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    let mut feature = push("app", "a2", Trigger::Hook);
    feature.branch = Some("feature".to_owned());
    let ids = [
        store.enqueue(&push("app", "a1", Trigger::Hook), at(1))?,
        store.enqueue(&feature, at(2))?,
        store.enqueue(&push("lib", "b1", Trigger::Hook), at(3))?,
        store.enqueue(&push("app", "a3", Trigger::Hook), at(4))?,
    ]
    .map(Option::unwrap_or_default);
    store.start_next(1, at(5))?;
    store.finish(ids[0], RunState::Failed, None, at(6))?;

    let listed = |filter: RunFilter| -> Result<Vec<i64>, StoreError> {
        Ok(store.runs(&filter)?.into_iter().map(|run| run.id).collect())
    };
    assert_eq!(
        listed(RunFilter::default())?,
        [ids[3], ids[2], ids[1], ids[0]]
    );
    let app = RunFilter {
        repository: Some("app".to_owned()),
        ..RunFilter::default()
    };
    assert_eq!(listed(app.clone())?, [ids[3], ids[1], ids[0]]);
    let app_main = RunFilter {
        branch: Some("main".to_owned()),
        ..app.clone()
    };
    assert_eq!(listed(app_main)?, [ids[3], ids[0]]);
    let failed = RunFilter {
        state: Some(RunState::Failed),
        ..RunFilter::default()
    };
    assert_eq!(listed(failed)?, [ids[0]]);
    let two = RunFilter {
        limit: Some(2),
        ..RunFilter::default()
    };
    assert_eq!(listed(two)?, [ids[3], ids[2]]);
    Ok(())
}

#[test]
fn a_word_no_state_has_is_reported_not_a_panic() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    let id = store
        .enqueue(&push("app", "a1", Trigger::Manual), at(1))?
        .ok_or("not queued")?;
    drop(store);
    // As a damaged file or a hand edit could leave it; the CHECK would refuse it otherwise.
    let conn = rusqlite::Connection::open(&scratch.path)?;
    conn.execute_batch("PRAGMA ignore_check_constraints = ON")?;
    conn.execute("UPDATE runs SET state = 'paused' WHERE id = ?1", [id])?;
    drop(conn);

    let store = RunStore::open(&scratch.path)?;
    let error = store.run(id).map_err(|e| e.to_string());
    assert_eq!(
        error,
        Err("the database holds `paused` where a run state belongs".to_owned())
    );
    Ok(())
}

#[test]
fn a_database_of_the_first_schema_is_brought_up_to_date_with_its_runs() -> TestResult {
    let scratch = Scratch::new()?;
    let conn = rusqlite::Connection::open(&scratch.path)?;
    conn.execute_batch(include_str!("migrations/0001_history.sql"))?;
    conn.execute_batch(
        "PRAGMA user_version = 1;
         INSERT INTO repositories (name, url) VALUES ('app', '/srv/git/app.git');
         INSERT INTO runs (repository_id, number, pipeline, commit_sha, message, author,
                           trigger, state, queued_at)
         VALUES (1, 1, 'pipekit.yml', 'a1', 'Old', 'Ada', 'poll', 'queued',
                 '2026-12-01T00:00:00.000Z');",
    )?;
    drop(conn);

    let mut store = RunStore::open(&scratch.path)?;
    let old = store.queue()?;
    assert_eq!(old.len(), 1);
    assert_eq!(
        (old[0].message.as_str(), old[0].problem.as_deref()),
        ("Old", None)
    );
    store.start_next(1, at(1))?;
    store.finish(
        old[0].id,
        RunState::Invalid,
        Some("pipekit.yml:3:5: unknown field"),
        at(2),
    )?;
    let run = store.run(old[0].id)?.ok_or("no run")?;
    assert_eq!(
        run.problem.as_deref(),
        Some("pipekit.yml:3:5: unknown field")
    );
    let conn = rusqlite::Connection::open(&scratch.path)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    assert_eq!(version, SCHEMA_VERSION as i64);
    Ok(())
}

#[test]
fn counts_by_state_and_the_last_finished_run_of_a_branch() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    let first = store
        .enqueue(&push("app", "a1", Trigger::Hook), at(1))?
        .ok_or("not queued")?;
    store.enqueue(&push("app", "a2", Trigger::Hook), at(2))?;
    assert_eq!(store.last_finished("app", "main")?, None);
    store.start_next(1, at(3))?;
    store.finish(first, RunState::Failed, None, at(4))?;
    store.start_next(1, at(5))?;

    let counts = store.counts()?;
    assert_eq!(
        (counts["failed"], counts["running"], counts["passed"]),
        (1, 1, 0)
    );
    assert_eq!(counts.len(), 8, "every state, zeros included");
    let last = store.last_finished("app", "main")?.ok_or("none")?;
    assert_eq!(
        (last.id, last.state),
        (first, RunState::Failed),
        "the running one is not it"
    );
    assert_eq!(store.last_finished("app", "other")?, None);
    Ok(())
}

#[test]
fn state_and_trigger_words_read_back() {
    for word in [
        "queued",
        "running",
        "passed",
        "failed",
        "errored",
        "interrupted",
        "cancelled",
        "invalid",
    ] {
        assert_eq!(RunState::parse(word).map(RunState::as_str), Some(word));
    }
    for word in ["manual", "hook", "webhook", "poll", "rerun", "requeue"] {
        assert_eq!(Trigger::parse(word).map(Trigger::as_str), Some(word));
    }
    assert_eq!(RunState::parse("Passed"), None);
    assert!(RunState::Invalid.is_finished() && !RunState::Running.is_finished());
}

#[test]
fn a_partial_rerun_is_kept_and_an_interrupted_one_reuses_the_same_run_again() -> TestResult {
    let scratch = Scratch::new()?;
    let mut store = scratch.store()?;
    let partial = PartialRerun {
        jobs: RerunJobs::Named(vec!["test".into()]),
        reuse_folder: "20261204-000000-000-abcd".into(),
    };
    let mut rerun = push("app", "a1", Trigger::Rerun);
    rerun.rerun = Some(partial.clone());
    let id = store.enqueue(&rerun, at(1))?.ok_or("not queued")?;
    let whole = store
        .enqueue(&push("app", "a1", Trigger::Rerun), at(1))?
        .ok_or("not queued")?;
    assert_eq!(store.run(id)?.ok_or("no run")?.rerun, Some(partial.clone()));
    assert_eq!(store.run(whole)?.ok_or("no run")?.rerun, None);

    store.start_next(1, at(2))?;
    store.finish(id, RunState::Interrupted, None, at(3))?;
    let again = store.requeue(id, at(4))?;
    assert_eq!(store.run(again)?.ok_or("no run")?.rerun, Some(partial));
    Ok(())
}
