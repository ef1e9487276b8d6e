//! Table-driven dispatcher cases: a pipeline, then events and the decisions each must yield.

use super::*;
use pipekit_schema::{Awaited, Condition, Job, JobId, Pipeline, Signal, SignalId, SignalKind};
use std::sync::Arc;
use std::time::Duration;

/// `name`, its signals, `detach`, and its conditions as (job index, awaited).
type JobSpec = (
    &'static str,
    &'static [&'static str],
    bool,
    &'static [(usize, Awaited)],
);

fn pipeline(specs: &[JobSpec]) -> Arc<Pipeline> {
    let jobs = specs
        .iter()
        .map(|(name, signals, detach, conditions)| Job {
            name: name.to_string(),
            signals: signals
                .iter()
                .map(|signal| Signal {
                    name: signal.to_string(),
                    kind: SignalKind::Exists { path: "x".into() },
                    timeout: Some(Duration::from_secs(30)),
                })
                .collect(),
            detach: *detach,
            timeout: Some(Duration::from_secs(10)),
            depends_on: conditions
                .iter()
                .map(|(job, awaited)| Condition {
                    job: JobId(*job),
                    awaited: *awaited,
                })
                .collect(),
            ..Job::default()
        })
        .collect();
    Arc::new(Pipeline {
        triggers: None,
        secrets: Default::default(),
        name: "test".into(),
        env: Default::default(),
        jobs,
    })
}

const OK: Awaited = Awaited::ExitCode(0);
const READY: Awaited = Awaited::Signal(SignalId(0));

fn j(index: usize) -> JobId {
    JobId(index)
}
fn start(index: usize) -> String {
    format!("start {index}")
}
fn passed(index: usize) -> String {
    format!("finish {index} passed")
}
fn failed(index: usize, reason: &str) -> String {
    format!("finish {index} failed: {reason}")
}
fn skipped(index: usize, reason: &str) -> String {
    format!("finish {index} skipped: {reason}")
}
fn cancelled(index: usize, reason: &str) -> String {
    format!("finish {index} cancelled: {reason}")
}
fn stop(index: usize, reason: &str) -> String {
    format!("stop {index}: {reason}")
}
fn abandon(index: usize) -> String {
    format!("abandon {index}")
}

/// A decision as the console would tell it: the reasons' prose is what is compared, so
/// these cases also pin that the typed reasons read exactly as the strings did.
fn render(decision: &Decision) -> String {
    match decision {
        Decision::Start(id) => start(id.0),
        Decision::Stop(id, reason) => stop(id.0, &reason.to_string()),
        Decision::Kill(id) => format!("kill {}", id.0),
        Decision::Abandon(id) => abandon(id.0),
        Decision::LeaveRunning(id) => format!("leave running {}", id.0),
        Decision::Finish(id, outcome) => match outcome.reason_text() {
            Some(reason) => format!("finish {} {}: {reason}", id.0, outcome.state()),
            None => format!("finish {} {}", id.0, outcome.state()),
        },
    }
}

fn rendered(decisions: &[Decision]) -> Vec<String> {
    decisions.iter().map(render).collect()
}
fn exited(index: usize, code: i32) -> SchedulerEvent {
    SchedulerEvent::Exited(j(index), JobExit::Code(code))
}
fn engine_lost() -> CancelReason {
    CancelReason::EngineLost {
        host: "unix:///d.sock".into(),
    }
}
fn started(index: usize) -> SchedulerEvent {
    SchedulerEvent::Started(j(index))
}

struct Case {
    name: &'static str,
    jobs: &'static [JobSpec],
    only: &'static [usize],
    fail_fast: bool,
    /// `None` stands for `begin()`.
    steps: Vec<(Option<SchedulerEvent>, Vec<String>)>,
    done: bool,
}

const PAPER_CI: &[JobSpec] = &[
    ("compiler", &[], false, &[]),
    ("static-analyzer", &[], false, &[]),
    ("testing-deployment", &[], false, &[(0, OK), (1, OK)]),
];

const THREE_TIER: &[JobSpec] = &[
    ("password-generator", &[], false, &[]),
    ("database", &["ready"], true, &[(0, OK)]),
    ("web", &[], false, &[(0, OK), (1, READY)]),
];

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "paper ci: parallel pair gates the third",
            jobs: PAPER_CI,
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0), start(1)]),
                (Some(started(0)), vec![]),
                (Some(started(1)), vec![]),
                (Some(exited(0, 0)), vec![passed(0)]),
                (Some(exited(1, 0)), vec![passed(1), start(2)]),
                (Some(started(2)), vec![]),
                (Some(exited(2, 0)), vec![passed(2)]),
            ],
            done: true,
        },
        Case {
            name: "a failure skips its dependent with the reason",
            jobs: PAPER_CI,
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0), start(1)]),
                (Some(started(0)), vec![]),
                (Some(started(1)), vec![]),
                (
                    Some(exited(1, 3)),
                    vec![
                        failed(1, "exited with code 3"),
                        skipped(
                            2,
                            "`static-analyzer.ExitCode(0)` can no longer hold: \
                             `static-analyzer` exited with code 3",
                        ),
                    ],
                ),
                // The independent branch keeps going and still passes.
                (Some(exited(0, 0)), vec![passed(0)]),
            ],
            done: true,
        },
        Case {
            name: "fail-fast stops the others and skips the waiting",
            jobs: PAPER_CI,
            only: &[],
            fail_fast: true,
            steps: vec![
                (None, vec![start(0), start(1)]),
                (Some(started(0)), vec![]),
                (Some(started(1)), vec![]),
                (
                    Some(exited(1, 1)),
                    vec![
                        failed(1, "exited with code 1"),
                        stop(0, "--fail-fast after `static-analyzer` failed"),
                        skipped(2, "not started: --fail-fast after `static-analyzer` failed"),
                    ],
                ),
                (
                    Some(SchedulerEvent::Exited(j(0), JobExit::Signal(15))),
                    vec![cancelled(0, "--fail-fast after `static-analyzer` failed")],
                ),
            ],
            done: true,
        },
        Case {
            name: "three tier: signal gates web, detached database stopped after web",
            jobs: THREE_TIER,
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0)]),
                (Some(started(0)), vec![]),
                (Some(exited(0, 0)), vec![passed(0), start(1)]),
                (Some(started(1)), vec![]),
                (
                    Some(SchedulerEvent::SignalFired(j(1), SignalId(0))),
                    vec![start(2)],
                ),
                (Some(started(2)), vec![]),
                (
                    Some(exited(2, 0)),
                    vec![passed(2), stop(1, "every job depending on it has ended")],
                ),
                (
                    Some(SchedulerEvent::Exited(j(1), JobExit::Signal(15))),
                    vec![passed(1)],
                ),
            ],
            done: true,
        },
        Case {
            name: "signal timeout fails the job and skips its dependent at once",
            jobs: THREE_TIER,
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0)]),
                (Some(started(0)), vec![]),
                (Some(exited(0, 0)), vec![passed(0), start(1)]),
                (Some(started(1)), vec![]),
                (
                    Some(SchedulerEvent::SignalTimedOut(j(1), SignalId(0))),
                    vec![
                        stop(1, "signal `ready` timed out after 30s"),
                        skipped(
                            2,
                            "`database.ready` can no longer hold: \
                             `database`'s signal `ready` timed out after 30s",
                        ),
                    ],
                ),
                (
                    Some(SchedulerEvent::Exited(j(1), JobExit::Signal(15))),
                    vec![failed(1, "signal `ready` timed out after 30s")],
                ),
            ],
            done: true,
        },
        Case {
            name: "exiting before a declared signal fired fails the job",
            jobs: THREE_TIER,
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0)]),
                (Some(started(0)), vec![]),
                (Some(exited(0, 0)), vec![passed(0), start(1)]),
                (Some(started(1)), vec![]),
                (
                    Some(exited(1, 0)),
                    vec![
                        failed(1, "exited 0 before signal `ready` fired"),
                        skipped(
                            2,
                            "`database.ready` can no longer hold: \
                             `database` exited with code 0 before signal `ready` fired",
                        ),
                    ],
                ),
            ],
            done: true,
        },
        Case {
            name: "skips cascade down a chain",
            jobs: &[
                ("a", &[], false, &[]),
                ("b", &[], false, &[(0, OK)]),
                ("c", &[], false, &[(1, Awaited::Started)]),
            ],
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0)]),
                (
                    Some(SchedulerEvent::FailedToStart(j(0), "bad .env".into())),
                    vec![
                        failed(0, "bad .env"),
                        skipped(
                            1,
                            "`a.ExitCode(0)` can no longer hold: `a` failed: bad .env",
                        ),
                        skipped(2, "`b.Started` can no longer hold: `b` was skipped"),
                    ],
                ),
            ],
            done: true,
        },
        Case {
            name: "job timeout stops it and fails it",
            jobs: &[("slow", &[], false, &[])],
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0)]),
                (Some(started(0)), vec![]),
                (
                    Some(SchedulerEvent::TimedOut(j(0))),
                    vec![stop(0, "timed out after 10s")],
                ),
                (
                    Some(SchedulerEvent::Exited(j(0), JobExit::Signal(9))),
                    vec![failed(0, "timed out after 10s")],
                ),
            ],
            done: true,
        },
        Case {
            name: "a detached job nothing depends on is stopped when the rest ended",
            jobs: &[("server", &[], true, &[]), ("check", &[], false, &[])],
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0), start(1)]),
                (Some(started(0)), vec![]),
                (Some(started(1)), vec![]),
                (
                    Some(exited(1, 0)),
                    vec![passed(1), stop(0, "every job depending on it has ended")],
                ),
                (Some(exited(0, 143)), vec![passed(0)]),
            ],
            done: true,
        },
        Case {
            name: "a start in flight when the run stops is abandoned and cancelled, not failed",
            jobs: &[("fails", &[], false, &[]), ("pulling", &[], false, &[])],
            only: &[],
            fail_fast: true,
            steps: vec![
                (None, vec![start(0), start(1)]),
                (Some(started(0)), vec![]),
                (
                    Some(exited(0, 3)),
                    vec![
                        failed(0, "exited with code 3"),
                        abandon(1),
                        cancelled(1, "--fail-fast after `fails` failed"),
                    ],
                ),
                // The start completed anyway: nothing more to decide.
                (Some(started(1)), vec![]),
            ],
            done: true,
        },
        Case {
            name: "a detached job that crashes on its own fails",
            jobs: &[
                ("server", &[], true, &[]),
                ("check", &[], false, &[(0, Awaited::Started)]),
            ],
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0)]),
                (Some(started(0)), vec![start(1)]),
                (Some(exited(0, 2)), vec![failed(0, "exited with code 2")]),
            ],
            done: false,
        },
        Case {
            name: "a detached job that crashed before its stop landed is not passed",
            jobs: &[
                ("server", &[], true, &[]),
                ("check", &[], false, &[(0, Awaited::Started)]),
            ],
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0)]),
                (Some(started(0)), vec![start(1)]),
                (Some(started(1)), vec![]),
                (
                    Some(exited(1, 0)),
                    vec![passed(1), stop(0, "every job depending on it has ended")],
                ),
                // Exit code 2 is the server's own doing, not what SIGTERM/SIGKILL leave.
                (Some(exited(0, 2)), vec![failed(0, "exited with code 2")]),
            ],
            done: true,
        },
        Case {
            name: "--only runs the job and what it depends on",
            jobs: PAPER_CI,
            only: &[1],
            fail_fast: false,
            steps: vec![
                (None, vec![start(1)]),
                (Some(started(1)), vec![]),
                (Some(exited(1, 0)), vec![passed(1)]),
            ],
            done: true,
        },
        Case {
            name: "interrupt cancels the running and skips the waiting",
            jobs: PAPER_CI,
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0), start(1)]),
                (Some(started(0)), vec![]),
                (
                    Some(SchedulerEvent::Interrupted),
                    vec![
                        stop(0, "interrupted"),
                        skipped(2, "not started: interrupted"),
                        abandon(1),
                        cancelled(1, "interrupted"),
                    ],
                ),
                // Its start completed after all: the driver ends it, the dispatcher is done.
                (Some(started(1)), vec![]),
                (
                    Some(SchedulerEvent::Exited(j(0), JobExit::Signal(15))),
                    vec![cancelled(0, "interrupted")],
                ),
            ],
            done: true,
        },
        Case {
            name: "an aborted run cancels the running with the reason and skips the waiting",
            jobs: PAPER_CI,
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0), start(1)]),
                (Some(started(0)), vec![]),
                (
                    Some(SchedulerEvent::Aborted(engine_lost())),
                    vec![
                        stop(0, "the container engine at unix:///d.sock was lost"),
                        skipped(
                            2,
                            "not started: the container engine at unix:///d.sock was lost",
                        ),
                        abandon(1),
                        cancelled(1, "the container engine at unix:///d.sock was lost"),
                    ],
                ),
                (
                    Some(SchedulerEvent::Exited(j(0), JobExit::Signal(15))),
                    vec![cancelled(
                        0,
                        "the container engine at unix:///d.sock was lost",
                    )],
                ),
            ],
            done: true,
        },
        Case {
            name: "exit code conditions other than zero",
            jobs: &[
                ("probe", &[], false, &[]),
                ("on-missing", &[], false, &[(0, Awaited::ExitCode(1))]),
                ("on-any", &[], false, &[(0, Awaited::Exited)]),
            ],
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0)]),
                (Some(started(0)), vec![]),
                (
                    Some(exited(0, 1)),
                    vec![failed(0, "exited with code 1"), start(1), start(2)],
                ),
            ],
            done: false,
        },
    ]
}

#[test]
fn dispatcher_cases() {
    for case in cases() {
        let pipeline = pipeline(case.jobs);
        let only: Vec<JobId> = case.only.iter().map(|i| JobId(*i)).collect();
        let mut dispatcher = Dispatcher::new(pipeline, &only, case.fail_fast);
        for (step, (event, expected)) in case.steps.into_iter().enumerate() {
            let actual = match event.clone() {
                None => dispatcher.begin(),
                Some(event) => dispatcher.handle(event),
            };
            assert_eq!(
                rendered(&actual),
                expected,
                "case `{}`, step {step} ({event:?})",
                case.name
            );
        }
        assert_eq!(
            dispatcher.is_done(),
            case.done,
            "case `{}`: done",
            case.name
        );
    }
}

#[test]
fn waiting_on_lists_conditions_that_do_not_hold_yet() {
    let mut dispatcher = Dispatcher::new(pipeline(PAPER_CI), &[], false);
    dispatcher.begin();
    dispatcher.handle(started(0));
    dispatcher.handle(exited(0, 0));
    let waiting: Vec<Condition> = dispatcher.waiting_on(j(2)).collect();
    assert_eq!(
        waiting,
        vec![Condition {
            job: j(1),
            awaited: OK
        }]
    );
}

/// Drives `dispatcher` through `events`, returning every decision rendered.
fn drive(dispatcher: &mut Dispatcher, events: Vec<SchedulerEvent>) -> Vec<Vec<String>> {
    events
        .into_iter()
        .map(|event| rendered(&dispatcher.handle(event)))
        .collect()
}

#[test]
fn cancel_reasons_are_ordered_weakest_first() {
    let timeout = CancelReason::JobTimeout {
        after: Duration::from_secs(1),
    };
    let fail_fast = CancelReason::FailFast { job: "a".into() };
    let ordered = [
        timeout.clone(),
        fail_fast.clone(),
        engine_lost(),
        CancelReason::Interrupt,
        CancelReason::ForcedInterrupt,
    ];
    for pair in ordered.windows(2) {
        assert!(pair[0] < pair[1], "{:?} < {:?}", pair[0], pair[1]);
        assert!(pair[1].supersedes(&pair[0]) && !pair[0].supersedes(&pair[1]));
    }
    // Of one kind, the first stays: a second failure does not rename the fail-fast.
    let other = CancelReason::FailFast { job: "z".into() };
    assert!(!other.supersedes(&fail_fast));
}

#[test]
fn a_second_interrupt_escalates_to_a_kill_and_a_third_kills_again() {
    let mut dispatcher = Dispatcher::new(pipeline(PAPER_CI), &[], false);
    dispatcher.begin();
    let steps = drive(
        &mut dispatcher,
        vec![
            started(0),
            started(1),
            SchedulerEvent::Interrupted,
            SchedulerEvent::Interrupted,
            SchedulerEvent::Interrupted,
            SchedulerEvent::Exited(j(0), JobExit::Signal(9)),
            SchedulerEvent::Exited(j(1), JobExit::Signal(9)),
        ],
    );
    assert_eq!(
        steps[2],
        [
            stop(0, "interrupted"),
            stop(1, "interrupted"),
            skipped(2, "not started: interrupted")
        ]
    );
    assert_eq!(steps[3], ["kill 0", "kill 1"]);
    assert_eq!(steps[4], ["kill 0", "kill 1"]);
    assert_eq!(steps[5], [cancelled(0, "interrupted")]);
    assert_eq!(
        dispatcher.cancel_reason(),
        Some(&CancelReason::ForcedInterrupt)
    );
    assert_eq!(
        dispatcher.outcome(j(1)),
        Some(&Outcome::Cancelled(CancelReason::ForcedInterrupt))
    );
    assert!(dispatcher.is_done());
}

#[test]
fn an_interrupt_supersedes_fail_fast_but_fail_fast_never_an_interrupt() {
    let jobs: &[JobSpec] = &[("a", &[], false, &[]), ("b", &[], false, &[])];
    let mut dispatcher = Dispatcher::new(pipeline(jobs), &[], true);
    dispatcher.begin();
    let steps = drive(
        &mut dispatcher,
        vec![
            started(0),
            started(1),
            exited(0, 1),
            SchedulerEvent::Interrupted,
        ],
    );
    assert_eq!(
        steps[2],
        [
            failed(0, "exited with code 1"),
            stop(1, "--fail-fast after `a` failed")
        ]
    );
    // Already stopping: no second stop, but it ends for the stronger reason.
    assert!(steps[3].is_empty());
    assert_eq!(dispatcher.cancel_reason(), Some(&CancelReason::Interrupt));
    dispatcher.handle(SchedulerEvent::Exited(j(1), JobExit::Signal(15)));
    assert_eq!(
        dispatcher.outcome(j(1)),
        Some(&Outcome::Cancelled(CancelReason::Interrupt))
    );

    // The other way round: a failure while interrupted does not weaken the reason.
    let mut dispatcher = Dispatcher::new(pipeline(jobs), &[], true);
    dispatcher.begin();
    drive(
        &mut dispatcher,
        vec![started(0), started(1), SchedulerEvent::Interrupted],
    );
    dispatcher.handle(exited(0, 1));
    assert_eq!(dispatcher.cancel_reason(), Some(&CancelReason::Interrupt));
}

#[test]
fn a_job_timeout_yields_to_a_fail_fast_already_stopping_the_job() {
    let jobs: &[JobSpec] = &[("a", &[], false, &[]), ("slow", &["ready"], false, &[])];
    let mut dispatcher = Dispatcher::new(pipeline(jobs), &[], true);
    dispatcher.begin();
    let steps = drive(
        &mut dispatcher,
        vec![
            started(0),
            started(1),
            exited(0, 2),
            SchedulerEvent::TimedOut(j(1)),
            SchedulerEvent::SignalTimedOut(j(1), SignalId(0)),
            SchedulerEvent::Exited(j(1), JobExit::Signal(15)),
        ],
    );
    assert_eq!(steps[3], Vec::<String>::new());
    assert_eq!(steps[4], Vec::<String>::new());
    assert_eq!(steps[5], [cancelled(1, "--fail-fast after `a` failed")]);
}

#[test]
fn a_timed_out_job_fails_and_then_fails_the_run_fast() {
    let jobs: &[JobSpec] = &[("slow", &[], false, &[]), ("b", &[], false, &[])];
    let mut dispatcher = Dispatcher::new(pipeline(jobs), &[], true);
    dispatcher.begin();
    let steps = drive(
        &mut dispatcher,
        vec![
            started(0),
            started(1),
            SchedulerEvent::TimedOut(j(0)),
            SchedulerEvent::Interrupted,
            SchedulerEvent::Exited(j(0), JobExit::Signal(15)),
        ],
    );
    assert_eq!(steps[2], [stop(0, "timed out after 10s")]);
    // The interrupt stops the other job; the timed-out one keeps its own stop.
    assert_eq!(steps[3], [stop(1, "interrupted")]);
    // Its failure wins over the stronger cancel reason: it did time out.
    assert_eq!(steps[4], [failed(0, "timed out after 10s")]);
    assert_eq!(
        dispatcher.outcome(j(0)),
        Some(&Outcome::Failed(FailReason::Timeout {
            after: Duration::from_secs(10)
        }))
    );
}

#[test]
fn keep_running_leaves_an_unneeded_detached_job_up_and_releases_what_it_needs() {
    // `db` <- `web` (both detached) <- `test`: with --keep-running both are left up, `web`
    // first, then `db`, which only `web` needed, in the same step.
    let jobs: &[JobSpec] = &[
        ("db", &[], true, &[]),
        ("web", &[], true, &[(0, Awaited::Started)]),
        ("test", &[], false, &[(1, Awaited::Started)]),
    ];
    let mut dispatcher = Dispatcher::new(pipeline(jobs), &[], false).keep_running([j(0), j(1)]);
    assert_eq!(rendered(&dispatcher.begin()), [start(0)]);
    let steps = drive(
        &mut dispatcher,
        vec![started(0), started(1), started(2), exited(2, 0)],
    );
    assert_eq!(
        steps[3],
        [
            passed(2),
            "leave running 1".to_string(),
            passed(1),
            "leave running 0".to_string(),
            passed(0),
        ]
    );
    assert!(dispatcher.is_done());
    // Without --keep-running the same graph stops `web`, and `db` only once `web` is gone.
    let mut dispatcher = Dispatcher::new(pipeline(jobs), &[], false);
    dispatcher.begin();
    let steps = drive(
        &mut dispatcher,
        vec![
            started(0),
            started(1),
            started(2),
            exited(2, 0),
            exited(1, 143),
        ],
    );
    assert_eq!(
        steps[3],
        [passed(2), stop(1, "every job depending on it has ended")]
    );
    assert_eq!(
        steps[4],
        [passed(1), stop(0, "every job depending on it has ended")]
    );
}

#[test]
fn keep_running_does_not_keep_a_detached_job_up_through_an_interrupt() {
    let jobs: &[JobSpec] = &[("db", &[], true, &[]), ("test", &[], false, &[])];
    let mut dispatcher = Dispatcher::new(pipeline(jobs), &[], false).keep_running([j(0)]);
    dispatcher.begin();
    let steps = drive(
        &mut dispatcher,
        vec![started(0), started(1), SchedulerEvent::Interrupted],
    );
    assert_eq!(steps[2], [stop(0, "interrupted"), stop(1, "interrupted")]);
}

#[test]
fn failures_on_the_way_out_and_at_start_are_typed() {
    let jobs: &[JobSpec] = &[("a", &[], false, &[]), ("b", &[], false, &[(0, OK)])];
    let mut dispatcher = Dispatcher::new(pipeline(jobs), &[], false);
    dispatcher.begin();
    let artifacts = FailReason::Artifacts {
        message: "artifacts could not be packed".into(),
    };
    let steps = drive(
        &mut dispatcher,
        vec![
            started(0),
            SchedulerEvent::Failed(j(0), artifacts.clone()),
            exited(0, 0),
        ],
    );
    assert_eq!(steps[1], [stop(0, "artifacts could not be packed")]);
    assert_eq!(
        dispatcher.outcome(j(0)),
        Some(&Outcome::Failed(artifacts.clone()))
    );
    assert_eq!(
        dispatcher.outcome(j(1)),
        Some(&Outcome::Skipped(SkipReason::ConditionNever {
            job: "a".into(),
            condition: "a.ExitCode(0)".into(),
            why: NeverReason::DependencyFailed { reason: artifacts },
        }))
    );
}

#[test]
fn the_first_condition_that_can_never_hold_is_the_reason() {
    // Both conditions name `a`; the one written first is reported.
    let jobs: &[JobSpec] = &[
        ("a", &["ready"], false, &[]),
        ("b", &[], false, &[(0, READY), (0, OK)]),
    ];
    let mut dispatcher = Dispatcher::new(pipeline(jobs), &[], false);
    dispatcher.begin();
    drive(&mut dispatcher, vec![started(0), exited(0, 1)]);
    assert_eq!(
        dispatcher.outcome(j(1)),
        Some(&Outcome::Skipped(SkipReason::ConditionNever {
            job: "a".into(),
            condition: "a.ready".into(),
            why: NeverReason::ExitedBeforeSignal {
                exit: JobExit::Code(1),
                signal: "ready".into(),
            },
        }))
    );
}

#[test]
fn reasons_serialise_tagged_with_their_text() -> Result<(), serde_json::Error> {
    let skipped = Outcome::Skipped(SkipReason::ConditionNever {
        job: "db".into(),
        condition: "db.ready".into(),
        why: NeverReason::SignalTimedOut {
            signal: "ready".into(),
            after: Some(Duration::from_millis(1500)),
        },
    });
    assert_eq!(
        serde_json::to_value(&skipped)?,
        serde_json::json!({
            "state": "skipped",
            "reason": {
                "kind": "condition_never",
                "job": "db",
                "condition": "db.ready",
                "why": {"kind": "signal_timed_out", "signal": "ready", "after_seconds": 1.5},
                "text": "`db.ready` can no longer hold: `db`'s signal `ready` timed out after 1.5s",
            },
        })
    );
    let cancelled = Outcome::Cancelled(CancelReason::FailFast { job: "a".into() });
    assert_eq!(
        serde_json::to_value(&cancelled)?,
        serde_json::json!({
            "state": "cancelled",
            "reason": {"kind": "fail_fast", "job": "a", "text": "--fail-fast after `a` failed"},
        })
    );
    let failed = Outcome::Failed(FailReason::ExitCode { code: 3 });
    assert_eq!(
        serde_json::to_value(&failed)?["reason"],
        serde_json::json!({"kind": "exit_code", "code": 3, "text": "exited with code 3"})
    );
    assert_eq!(
        serde_json::to_value(&Outcome::Passed)?,
        serde_json::json!({"state": "passed"})
    );
    let stop = StopReason::Cancelled {
        reason: CancelReason::Interrupt,
    };
    assert_eq!(
        serde_json::to_value(&stop)?,
        serde_json::json!({"kind": "cancelled", "reason": {"kind": "interrupt"}})
    );
    Ok(())
}

#[test]
fn masking_reaches_every_quoted_text_of_a_reason() {
    let mask = |text: &str| text.replace("hunter2", "***");
    let outcome = Outcome::Skipped(SkipReason::ConditionNever {
        job: "a".into(),
        condition: "a.ExitCode(0)".into(),
        why: NeverReason::DependencyFailed {
            reason: FailReason::StartFailed {
                message: "login hunter2".into(),
            },
        },
    })
    .map_text(&mask);
    assert_eq!(
        outcome.reason_text().as_deref(),
        Some("`a.ExitCode(0)` can no longer hold: `a` failed: login ***")
    );
}

mod rerun;
