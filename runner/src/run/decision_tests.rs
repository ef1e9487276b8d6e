//! The driver carrying out the dispatcher's decisions — leave running, abandon a start,
//! kill on a second interrupt — against the fake executor, on tokio's paused clock.

use super::fake_executor::{Call, FakeExecutor, Script};
use super::test_run::{TestRun, test_run};
use super::*;
use crate::executor::Executors;
use crate::report::{JobState, RunRecord};
use crate::storage::FolderStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

struct Ran {
    record: RunRecord,
    interrupted: bool,
    took: Duration,
    _dir: tempfile::TempDir,
}

/// Runs `yaml` with every job on `fake` (as containers), interrupted at each of `interrupts`.
async fn run_fake(yaml: &str, fake: &FakeExecutor, keep_running: bool, interrupts: &[u64]) -> Ran {
    let TestRun {
        dir,
        pipeline,
        folder,
        events,
    } = test_run(yaml);
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(events.clone())];
    let context = RunContext {
        pipeline: pipeline.clone(),
        folder: folder.clone(),
        workspaces: Workspaces::Shared(dir.path().to_path_buf()),
        pipeline_dir: dir.path().to_path_buf(),
        run_variables: Vec::new(),
        executors: Executors::new(Arc::new(fake.clone()), Some(Arc::new(fake.clone()))),
        plan: RunPlan::new(&pipeline, &[], true),
        options: RunOptions {
            fail_fast: false,
            only: Vec::new(),
            stop_grace: Duration::from_secs(600),
            keep_running,
            log_limit: None,
        },
        secrets: Default::default(),
        artifacts: Arc::new(FolderStore(folder.clone())),
        host_env: Default::default(),
        reused: Default::default(),
    };
    let (sender, receiver) = mpsc::unbounded_channel();
    let started = Instant::now();
    for at in interrupts.iter().copied() {
        let sender = sender.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(at)).await;
            let _ = sender.send(());
        });
    }
    // Kept open: a closed channel is not an interrupt.
    let _keep = sender;
    let interrupted = execute(context, &mut reporters, receiver).await;
    let took = started.elapsed();
    Ran {
        record: events.finish().record,
        interrupted,
        took,
        _dir: dir,
    }
}

fn job<'r>(record: &'r RunRecord, name: &str) -> &'r crate::report::JobRecord {
    record
        .jobs
        .iter()
        .find(|job| job.name == name)
        .expect("job in record")
}

const DETACHED_DB: &str = r#"
services:
  db:
    image: fake
    detach: true
    command: serve
  app:
    image: fake
    depends_on: [db]
    command: test
"#;

fn serving_db() -> FakeExecutor {
    FakeExecutor::default().with(
        "db",
        Script {
            runs_for: None,
            ..Script::default()
        },
    )
}

#[tokio::test(start_paused = true)]
async fn keep_running_leaves_a_detached_container_up_when_its_dependents_end() {
    let fake = serving_db();
    let ran = run_fake(DETACHED_DB, &fake, true, &[]).await;
    let db = job(&ran.record, "db");
    assert_eq!(db.state, JobState::Passed, "{db:?}");
    assert!(
        db.reason
            .as_deref()
            .is_some_and(|r| r.contains("left running")),
        "{db:?}"
    );
    assert_eq!(fake.calls("db"), [Call::Spawned], "nothing may stop it");
    assert_eq!(job(&ran.record, "app").state, JobState::Passed);
}

#[tokio::test(start_paused = true)]
async fn without_keep_running_the_detached_container_is_stopped() {
    let fake = serving_db();
    let ran = run_fake(DETACHED_DB, &fake, false, &[]).await;
    assert_eq!(job(&ran.record, "db").state, JobState::Passed);
    let calls = fake.calls("db");
    assert_eq!(calls[..2], [Call::Spawned, Call::Stopped], "{calls:?}");
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_abandons_a_start_in_flight() {
    let fake = FakeExecutor::default().with(
        "pulls",
        Script {
            start_takes: Duration::from_secs(3600),
            ..Script::default()
        },
    );
    let yaml = "services:\n  pulls:\n    image: fake\n    command: run\n";
    let ran = run_fake(yaml, &fake, false, &[1]).await;
    assert!(ran.interrupted);
    assert_eq!(job(&ran.record, "pulls").state, JobState::Cancelled);
    assert!(fake.calls("pulls").is_empty(), "the start must not finish");
    assert!(ran.took < Duration::from_secs(60), "waited {:?}", ran.took);
}

#[tokio::test(start_paused = true)]
async fn a_second_interrupt_kills_a_job_that_ignores_the_first() {
    let fake = FakeExecutor::default().with(
        "stubborn",
        Script {
            runs_for: None,
            stops: false,
            ..Script::default()
        },
    );
    let yaml = "services:\n  stubborn:\n    image: fake\n    command: run\n";
    let ran = run_fake(yaml, &fake, false, &[1, 2]).await;
    assert!(ran.interrupted);
    assert_eq!(job(&ran.record, "stubborn").state, JobState::Cancelled);
    let calls = fake.calls("stubborn");
    assert_eq!(
        calls[..3],
        [Call::Spawned, Call::Stopped, Call::Killed],
        "{calls:?}"
    );
    // Not the 600 s grace: the second interrupt ended it.
    assert!(ran.took < Duration::from_secs(60), "waited {:?}", ran.took);
}
