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
fn start(index: usize) -> Decision {
    Decision::Start(j(index))
}
fn passed(index: usize) -> Decision {
    Decision::Finish(j(index), Outcome::Passed)
}
fn failed(index: usize, reason: &str) -> Decision {
    Decision::Finish(j(index), Outcome::Failed(reason.into()))
}
fn skipped(index: usize, reason: &str) -> Decision {
    Decision::Finish(j(index), Outcome::Skipped(reason.into()))
}
fn exited(index: usize, code: i32) -> SchedulerEvent {
    SchedulerEvent::Exited(j(index), JobExit::Code(code))
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
    steps: Vec<(Option<SchedulerEvent>, Vec<Decision>)>,
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
                        Decision::Stop(
                            j(0),
                            StopReason::Cancelled(
                                "--fail-fast after `static-analyzer` failed".into(),
                            ),
                        ),
                        skipped(2, "not started: --fail-fast after `static-analyzer` failed"),
                    ],
                ),
                (
                    Some(SchedulerEvent::Exited(j(0), JobExit::Signal(15))),
                    vec![Decision::Finish(
                        j(0),
                        Outcome::Cancelled("--fail-fast after `static-analyzer` failed".into()),
                    )],
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
                    vec![passed(2), Decision::Stop(j(1), StopReason::DependentsEnded)],
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
                        Decision::Stop(
                            j(1),
                            StopReason::Failed("signal `ready` timed out after 30s".into()),
                        ),
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
                    vec![Decision::Stop(
                        j(0),
                        StopReason::Failed("timed out after 10s".into()),
                    )],
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
                    vec![passed(1), Decision::Stop(j(0), StopReason::DependentsEnded)],
                ),
                (Some(exited(0, 143)), vec![passed(0)]),
            ],
            done: true,
        },
        Case {
            name: "a detached job left running (--keep-running) passes and ends the run",
            jobs: &[("server", &[], true, &[]), ("check", &[], false, &[])],
            only: &[],
            fail_fast: false,
            steps: vec![
                (None, vec![start(0), start(1)]),
                (Some(started(0)), vec![]),
                (Some(started(1)), vec![]),
                (
                    Some(exited(1, 0)),
                    vec![passed(1), Decision::Stop(j(0), StopReason::DependentsEnded)],
                ),
                (Some(SchedulerEvent::LeftRunning(j(0))), vec![passed(0)]),
                (Some(exited(0, 143)), vec![]),
            ],
            done: true,
        },
        Case {
            name: "a start abandoned while cancelling is cancelled, not failed",
            jobs: &[("fails", &[], false, &[]), ("pulling", &[], false, &[])],
            only: &[],
            fail_fast: true,
            steps: vec![
                (None, vec![start(0), start(1)]),
                (Some(started(0)), vec![]),
                (Some(exited(0, 3)), vec![failed(0, "exited with code 3")]),
                (
                    Some(SchedulerEvent::StartAbandoned(j(1))),
                    vec![Decision::Finish(
                        j(1),
                        Outcome::Cancelled("--fail-fast after `fails` failed".into()),
                    )],
                ),
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
                    vec![passed(1), Decision::Stop(j(0), StopReason::DependentsEnded)],
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
                        Decision::Stop(j(0), StopReason::Cancelled("interrupted".into())),
                        skipped(2, "not started: interrupted"),
                    ],
                ),
                // Started after the interrupt: stopped at once.
                (
                    Some(started(1)),
                    vec![Decision::Stop(
                        j(1),
                        StopReason::Cancelled("interrupted".into()),
                    )],
                ),
                (
                    Some(SchedulerEvent::Exited(j(0), JobExit::Signal(15))),
                    vec![Decision::Finish(
                        j(0),
                        Outcome::Cancelled("interrupted".into()),
                    )],
                ),
                (
                    Some(SchedulerEvent::Exited(j(1), JobExit::Signal(15))),
                    vec![Decision::Finish(
                        j(1),
                        Outcome::Cancelled("interrupted".into()),
                    )],
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
                    Some(SchedulerEvent::Aborted("engine lost".into())),
                    vec![
                        Decision::Stop(j(0), StopReason::Cancelled("engine lost".into())),
                        skipped(2, "not started: engine lost"),
                    ],
                ),
                (
                    Some(SchedulerEvent::Exited(j(0), JobExit::Signal(15))),
                    vec![Decision::Finish(
                        j(0),
                        Outcome::Cancelled("engine lost".into()),
                    )],
                ),
            ],
            done: false,
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
                actual, expected,
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
    let waiting = dispatcher.waiting_on(j(2));
    assert_eq!(
        waiting,
        vec![Condition {
            job: j(1),
            awaited: OK
        }]
    );
}
