//! The queue worked for real: commits of real repositories (made with libgit2), tested by
//! the runner's session with real processes, their ends read back from the SQLite store.

use pipekit_runner::executor::HostSupervisor;
use pipekit_runner::session::{CancelHandle, cancel_channel};
use pipekit_serve::poller::poll_once;
use pipekit_serve::queue_runner::QueueRunner;
use pipekit_serve::service::Service;
use pipekit_serve::store::{Cancelled, NewRun, RunFilter, RunRow, RunState, RunStore, Trigger};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A work tree whose `main` gets one commit per call.
fn commit(dir: &Path, files: &[(&str, &str)]) -> Result<String, git2::Error> {
    let repo = match git2::Repository::open(dir) {
        Ok(repo) => repo,
        Err(_) => {
            let repo = git2::Repository::init(dir)?;
            repo.set_head("refs/heads/main")?;
            repo
        }
    };
    let mut index = repo.index()?;
    for (path, text) in files {
        std::fs::write(dir.join(path), text).map_err(|e| git2::Error::from_str(&e.to_string()))?;
        index.add_path(Path::new(path))?;
    }
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let author = git2::Signature::now("Ada", "ada@example.com")?;
    let parent = repo.head().ok().and_then(|head| head.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    let sha = repo.commit(Some("HEAD"), &author, &author, "Test it", &tree, &parents)?;
    Ok(sha.to_string())
}

/// A service over one repository `app`, its queue worked on this runtime until dropped.
struct Served {
    data: tempfile::TempDir,
    repo: tempfile::TempDir,
    runner: Arc<QueueRunner>,
    stop: CancelHandle,
    worker: Option<JoinHandle<Result<(), pipekit_serve::store::StoreError>>>,
}

impl Served {
    fn start(max_runs: usize) -> Result<Served, Box<dyn std::error::Error>> {
        let data = tempfile::tempdir()?;
        let repo = tempfile::tempdir()?;
        Served::start_in(data, repo, max_runs)
    }

    fn start_in(
        data: tempfile::TempDir,
        repo: tempfile::TempDir,
        max_runs: usize,
    ) -> Result<Served, Box<dyn std::error::Error>> {
        let service = Service {
            data_dir: data.path().to_path_buf(),
            repositories: BTreeMap::from([("app".to_owned(), repo.path().to_path_buf())]),
            mirrors: BTreeMap::new(),
            webhook_secrets: BTreeMap::new(),
            push_policies: BTreeMap::new(),
            statuses: Default::default(),
            access: Default::default(),
            keep: None,
            max_runs,
            host_env: BTreeMap::from([("PATH".to_owned(), "/usr/bin:/bin".to_owned())]),
            supervisor: HostSupervisor::for_process(),
            engine: None,
            stop_grace: Duration::from_secs(2),
            log_limit: None,
        };
        let (runner, _) = QueueRunner::open(service, true)?;
        let (stop, signal) = cancel_channel();
        let worker = Some(tokio::spawn(runner.clone().run(signal)));
        Ok(Served {
            data,
            repo,
            runner,
            stop,
            worker,
        })
    }

    fn queue(&self, commit: &str, pipeline: &str) -> Result<i64, Box<dyn std::error::Error>> {
        let run = NewRun {
            repository: "app".to_owned(),
            pipeline: pipeline.to_owned(),
            branch: Some("main".to_owned()),
            git_ref: Some("refs/heads/main".to_owned()),
            commit: commit.to_owned(),
            message: "Test it".to_owned(),
            author: "Ada <ada@example.com>".to_owned(),
            trigger: Trigger::Manual,
            attempt_of: None,
            rerun: None,
        };
        Ok(self.runner.enqueue(&run)?.ok_or("not queued")?)
    }

    fn row(&self, id: i64) -> Result<RunRow, Box<dyn std::error::Error>> {
        Ok(self.runner.store().run(id)?.ok_or("no such run")?)
    }

    /// The run once `done` holds for it, within 60 s.
    async fn wait(
        &self,
        id: i64,
        done: impl Fn(&RunRow) -> bool,
    ) -> Result<RunRow, Box<dyn std::error::Error>> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let row = self.row(id)?;
            if done(&row) {
                return Ok(row);
            }
            if Instant::now() > deadline {
                return Err(format!("run {id} is still {:?}", row).into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn finished(&self, id: i64) -> Result<RunRow, Box<dyn std::error::Error>> {
        self.wait(id, |row| row.state.is_finished()).await
    }

    /// Stops the queue as a server stopping would, and waits for it.
    async fn stop(
        mut self,
    ) -> Result<(tempfile::TempDir, tempfile::TempDir), Box<dyn std::error::Error>> {
        self.stop.cancel();
        if let Some(worker) = self.worker.take() {
            worker.await??;
        }
        Ok((self.data, self.repo))
    }
}

const PASSES: &str = "services:\n  build:\n    command: echo built $PIPEKIT_COMMIT_MESSAGE > $PIPEKIT_SHARED/build/out\n  test:\n    depends_on: [build.ExitCode(0)]\n    command: cat $PIPEKIT_SHARED/build/out\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_commit_is_tested_into_its_run_folder_and_its_end_recorded() -> TestResult {
    let served = Served::start(2)?;
    let sha = commit(served.repo.path(), &[("pipekit.yml", PASSES)])?;
    let id = served.queue(&sha, "pipekit.yml")?;
    let row = served.finished(id).await?;
    assert_eq!(row.state, RunState::Passed, "{row:?}");
    assert_eq!(row.problem, None);
    assert!(row.started_at.is_some() && row.finished_at.is_some());

    let folder = row.run_folder.clone().ok_or("no run folder recorded")?;
    let run_dir = served.data.path().join("runs/app").join(&folder);
    let run_json = std::fs::read_to_string(run_dir.join("run.json"))?;
    assert!(run_json.contains("\"status\": \"passed\""), "{run_json}");
    assert!(
        run_json.contains(&sha),
        "the commit is recorded: {run_json}"
    );
    let log = std::fs::read_to_string(run_dir.join("logs/test.log"))?;
    assert_eq!(log.trim(), "built Test it");
    // Nothing of the run is left in the work tree (it was tested from the commit), and its
    // checkouts are gone with it.
    assert!(!served.repo.path().join(".pipekit").exists());
    let checkouts = std::fs::read_dir(served.data.path().join("checkouts"))?.count();
    assert_eq!(checkouts, 0, "checkouts left behind");
    served.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_invalid_and_missing_pipelines_end_as_themselves() -> TestResult {
    let served = Served::start(2)?;
    let sha = commit(
        served.repo.path(),
        &[
            ("pipekit.yml", "services:\n  build:\n    command: exit 3\n"),
            ("broken.yml", "services:\n  build:\n    comand: make\n"),
        ],
    )?;
    let failing = served.queue(&sha, "pipekit.yml")?;
    let invalid = served.queue(&sha, "broken.yml")?;
    let missing = served.queue(&sha, "nope.yml")?;

    assert_eq!(served.finished(failing).await?.state, RunState::Failed);
    let invalid = served.finished(invalid).await?;
    assert_eq!(invalid.state, RunState::Invalid);
    let why = invalid.problem.unwrap_or_default();
    assert!(
        why.contains("broken.yml:3:5") && why.contains("comand"),
        "{why}"
    );
    assert_eq!(invalid.run_folder, None, "nothing ran");
    let missing = served.finished(missing).await?;
    assert_eq!(missing.state, RunState::Errored);
    let why = missing.problem.unwrap_or_default();
    assert!(why.contains("`nope.yml` is not a file in"), "{why}");
    served.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_runs_than_the_slots_run_at_once() -> TestResult {
    let served = Served::start(1)?;
    let sha = commit(
        served.repo.path(),
        &[(
            "pipekit.yml",
            "services:\n  slow:\n    command: sleep 0.3\n",
        )],
    )?;
    let first = served.queue(&sha, "pipekit.yml")?;
    let second = served.queue(&sha, "pipekit.yml")?;
    let first = served.finished(first).await?;
    let second = served.finished(second).await?;
    assert_eq!(
        (first.state, second.state),
        (RunState::Passed, RunState::Passed)
    );
    // RFC 3339 in UTC with milliseconds sorts as text.
    assert!(
        second.started_at >= first.finished_at,
        "the second started before the first ended: {first:?} {second:?}"
    );
    served.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_stops_its_jobs_and_ends_cancelled() -> TestResult {
    let served = Served::start(1)?;
    let sha = commit(
        served.repo.path(),
        &[(
            "pipekit.yml",
            "services:\n  forever:\n    command: sleep 300\n",
        )],
    )?;
    let running = served.queue(&sha, "pipekit.yml")?;
    let waiting = served.queue(&sha, "pipekit.yml")?;
    served.wait(running, |row| row.run_folder.is_some()).await?;

    assert_eq!(served.runner.cancel(waiting)?, Cancelled::Dequeued);
    let asked = Instant::now();
    assert_eq!(served.runner.cancel(running)?, Cancelled::Requested);
    let row = served.finished(running).await?;
    assert_eq!(row.state, RunState::Cancelled);
    assert!(
        asked.elapsed() < Duration::from_secs(20),
        "the jobs were stopped"
    );
    assert_eq!(served.row(waiting)?.state, RunState::Cancelled);
    assert_eq!(served.row(waiting)?.run_folder, None, "it never started");
    served.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_service_interrupts_its_runs_and_the_next_one_runs_them_again() -> TestResult {
    let served = Served::start(1)?;
    let sha = commit(
        served.repo.path(),
        &[(
            "pipekit.yml",
            "services:\n  slow:\n    command: sleep 300\n",
        )],
    )?;
    let id = served.queue(&sha, "pipekit.yml")?;
    served.wait(id, |row| row.run_folder.is_some()).await?;
    let (data, repo) = served.stop().await?;

    let store = RunStore::open(&data.path().join("pipekit.db"))?;
    let interrupted = store.run(id)?.ok_or("no run")?;
    assert_eq!(interrupted.state, RunState::Interrupted);
    let queue = store.queue()?;
    assert_eq!(queue.len(), 1, "queued again: {queue:?}");
    assert_eq!(
        (queue[0].trigger, queue[0].attempt_of),
        (Trigger::Requeue, Some(id))
    );
    drop(store);

    // The next server runs it.
    let served = Served::start_in(data, repo, 1)?;
    let again = served
        .wait(queue[0].id, |row| row.run_folder.is_some())
        .await?;
    assert_eq!(again.state, RunState::Running);
    assert_eq!(served.runner.cancel(again.id)?, Cancelled::Requested);
    assert_eq!(served.finished(again.id).await?.state, RunState::Cancelled);
    let all = served.runner.store().runs(&RunFilter::default())?;
    assert_eq!(all.len(), 2);
    served.stop().await?;
    Ok(())
}

/// Points `branch` at `sha` (creating it).
fn branch(dir: &Path, branch: &str, sha: &str) -> Result<(), git2::Error> {
    let repo = git2::Repository::open(dir)?;
    let commit = repo.find_commit(git2::Oid::from_str(sha)?)?;
    repo.branch(branch, &commit, true)?;
    Ok(())
}

const ON_MAIN: &str =
    "on:\n  push:\n    branches: [main]\nservices:\n  build:\n    command: \"true\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_queue_what_moved_once_and_the_first_only_learns_the_branches() -> TestResult {
    let served = Served::start(2)?;
    std::fs::create_dir_all(served.repo.path().join(".pipekit"))?;
    commit(
        served.repo.path(),
        &[("pipekit.yml", PASSES), (".pipekit/main-only.yml", ON_MAIN)],
    )?;
    let polled = |served: &Served| -> Result<Vec<i64>, pipekit_serve::poller::PollError> {
        poll_once(&served.runner, "app")
    };
    let none: [i64; 0] = [];
    assert_eq!(polled(&served)?, none, "the first poll learns the branches");
    assert_eq!(polled(&served)?, none, "nothing moved");

    let sha = commit(served.repo.path(), &[("README", "moved\n")])?;
    let queued = polled(&served)?;
    assert_eq!(queued.len(), 2, "both pipeline files take a push to main");
    for id in &queued {
        let run = served.finished(*id).await?;
        assert_eq!(run.state, RunState::Passed, "{run:?}");
        assert_eq!(
            (run.trigger, run.commit.as_str()),
            (Trigger::Poll, sha.as_str())
        );
        assert_eq!(run.branch.as_deref(), Some("main"));
        assert_eq!(run.git_ref.as_deref(), Some("refs/heads/main"));
    }
    assert_eq!(polled(&served)?, none, "seen already");

    // A new branch at a tested commit: the same commit and pipeline are not queued twice.
    branch(served.repo.path(), "copy", &sha)?;
    assert_eq!(polled(&served)?, none);
    // On that branch, only the file without an `on:` block takes the push.
    git2::Repository::open(served.repo.path())?.set_head("refs/heads/copy")?;
    commit(served.repo.path(), &[("README", "on a branch\n")])?;
    let queued = polled(&served)?;
    assert_eq!(queued.len(), 1);
    let run = served.finished(queued[0]).await?;
    assert_eq!(
        (run.pipeline.as_str(), run.branch.as_deref()),
        ("pipekit.yml", Some("copy"))
    );

    // A restart does not queue again what the last server saw.
    let (data, repo_dir) = served.stop().await?;
    let served = Served::start_in(data, repo_dir, 2)?;
    assert_eq!(polled(&served)?, none);
    assert_eq!(served.runner.store().runs(&RunFilter::default())?.len(), 3);
    served.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_with_an_image_fails_saying_so_when_the_service_has_no_engine() -> TestResult {
    let served = Served::start(1)?;
    let sha = commit(
        served.repo.path(),
        &[(
            "pipekit.yml",
            "services:\n  boxed:\n    image: busybox\n    command: [\"true\"]\n",
        )],
    )?;
    let id = served.queue(&sha, "pipekit.yml")?;
    let run = served.finished(id).await?;
    assert_ne!(
        run.state,
        RunState::Passed,
        "it did not run on the host unasked"
    );
    let folder = run.run_folder.clone().ok_or("no run folder")?;
    let run_json = std::fs::read_to_string(
        served
            .data
            .path()
            .join("runs/app")
            .join(folder)
            .join("run.json"),
    )?;
    assert!(run_json.contains("engine"), "the job says why: {run_json}");
    served.stop().await?;
    Ok(())
}
