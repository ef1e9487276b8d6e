//! Re-runs: which jobs run again, and how the reused ones count for their dependents.

use super::*;

/// A pipeline, the jobs asked to run again, and every job that must run again.
struct ScopeCase {
    name: &'static str,
    jobs: &'static [JobSpec],
    asked: &'static [usize],
    rerun: &'static [usize],
}

const BUILD_TEST_DEPLOY: &[JobSpec] = &[
    ("build", &[], false, &[]),
    ("test", &[], false, &[(0, OK)]),
    ("deploy", &[], false, &[(1, OK)]),
];

const WITH_DATABASE: &[JobSpec] = &[
    ("build", &[], false, &[]),
    ("database", &["ready"], true, &[]),
    ("migrate", &[], false, &[(1, READY)]),
    ("test", &[], false, &[(0, OK), (1, READY), (2, OK)]),
    ("lint", &[], false, &[(0, OK)]),
];

fn scope_cases() -> Vec<ScopeCase> {
    vec![
        ScopeCase {
            name: "a job and what depends on it, not what it depends on",
            jobs: BUILD_TEST_DEPLOY,
            asked: &[1],
            rerun: &[1, 2],
        },
        ScopeCase {
            name: "the first job: everything",
            jobs: BUILD_TEST_DEPLOY,
            asked: &[0],
            rerun: &[0, 1, 2],
        },
        ScopeCase {
            name: "the last job alone",
            jobs: BUILD_TEST_DEPLOY,
            asked: &[2],
            rerun: &[2],
        },
        ScopeCase {
            name: "a diamond: one side and the join",
            jobs: &[
                ("a", &[], false, &[]),
                ("b", &[], false, &[(0, OK)]),
                ("c", &[], false, &[(0, OK)]),
                ("d", &[], false, &[(1, OK), (2, OK)]),
            ],
            asked: &[1],
            rerun: &[1, 3],
        },
        ScopeCase {
            // The service is not running any more; a fresh one has lost what `migrate` did
            // to the old one, so `migrate` runs again too. `build` and `lint` are results.
            name: "a service a re-run job needs runs again, with its dependents",
            jobs: WITH_DATABASE,
            asked: &[3],
            rerun: &[1, 2, 3],
        },
        ScopeCase {
            name: "a job whose health is awaited runs again",
            jobs: &[
                ("api", &[], false, &[]),
                ("check", &[], false, &[(0, Awaited::Healthy)]),
                ("report", &[], false, &[(0, OK)]),
            ],
            asked: &[1],
            rerun: &[0, 1, 2],
        },
        ScopeCase {
            name: "services a service needs, transitively",
            jobs: &[
                ("volume", &[], true, &[]),
                ("database", &[], true, &[(0, Awaited::Started)]),
                ("seed", &[], false, &[]),
                ("test", &[], false, &[(1, Awaited::Started), (2, OK)]),
            ],
            asked: &[3],
            rerun: &[0, 1, 3],
        },
        ScopeCase {
            name: "several asked",
            jobs: &[
                ("a", &[], false, &[]),
                ("b", &[], false, &[]),
                ("c", &[], false, &[(0, OK)]),
                ("d", &[], false, &[]),
            ],
            asked: &[1, 2],
            rerun: &[1, 2],
        },
    ]
}

#[test]
fn rerun_scope_cases() {
    for case in scope_cases() {
        let pipeline = pipeline(case.jobs);
        let asked: Vec<JobId> = case.asked.iter().map(|index| j(*index)).collect();
        let scope = RerunScope::new(&pipeline, &asked);
        let rerun: Vec<usize> = pipeline
            .job_ids()
            .filter(|id| scope.runs_again(*id))
            .map(|id| id.0)
            .collect();
        assert_eq!(rerun, case.rerun, "case `{}`", case.name);
        let reused: Vec<usize> = scope.reused().map(|id| id.0).collect();
        let expected: Vec<usize> = (0..case.jobs.len())
            .filter(|index| !case.rerun.contains(index))
            .collect();
        assert_eq!(reused, expected, "case `{}`: reused", case.name);
    }
}

/// A pipeline, the jobs reused (with the signals they fired), then events and decisions.
struct ReuseCase {
    name: &'static str,
    jobs: &'static [JobSpec],
    reused: &'static [(usize, &'static [usize])],
    steps: Vec<(Option<SchedulerEvent>, Vec<String>)>,
    done: bool,
}

fn reused(index: usize) -> String {
    format!("finish {index} passed: reused from run 20261204-0400-00-abcd")
}

fn reuse_cases() -> Vec<ReuseCase> {
    vec![
        ReuseCase {
            name: "a reused build releases its dependent at once",
            jobs: BUILD_TEST_DEPLOY,
            reused: &[(0, &[])],
            steps: vec![
                (None, vec![reused(0), start(1)]),
                (Some(started(1)), vec![]),
                (Some(exited(1, 0)), vec![passed(1), start(2)]),
                (Some(started(2)), vec![]),
                (Some(exited(2, 0)), vec![passed(2)]),
            ],
            done: true,
        },
        ReuseCase {
            name: "a failure after reused jobs skips as usual",
            jobs: BUILD_TEST_DEPLOY,
            reused: &[(0, &[])],
            steps: vec![
                (None, vec![reused(0), start(1)]),
                (Some(started(1)), vec![]),
                (
                    Some(exited(1, 4)),
                    vec![
                        failed(1, "exited with code 4"),
                        skipped(
                            2,
                            "`test.ExitCode(0)` can no longer hold: `test` exited with code 4",
                        ),
                    ],
                ),
            ],
            done: true,
        },
        ReuseCase {
            name: "every job reused: nothing starts, the run is done",
            jobs: BUILD_TEST_DEPLOY,
            reused: &[(0, &[]), (1, &[]), (2, &[])],
            steps: vec![(None, vec![reused(0), reused(1), reused(2)])],
            done: true,
        },
        ReuseCase {
            name: "the signals a reused job fired hold for its dependents",
            jobs: &[
                ("generator", &["ready"], false, &[]),
                ("user", &[], false, &[(0, READY), (0, Awaited::Started)]),
            ],
            reused: &[(0, &[0])],
            steps: vec![(None, vec![reused(0), start(1)])],
            done: false,
        },
        ReuseCase {
            // Only what it fired counts: a signal it never fired cannot hold now.
            name: "a signal a reused job did not fire can never hold",
            jobs: &[
                ("generator", &["ready"], false, &[]),
                ("user", &[], false, &[(0, READY)]),
            ],
            reused: &[(0, &[])],
            steps: vec![(
                None,
                vec![
                    reused(0),
                    skipped(
                        1,
                        "`generator.ready` can no longer hold: `generator` exited with code 0 \
                         before signal `ready` fired",
                    ),
                ],
            )],
            done: true,
        },
        ReuseCase {
            name: "a reused job's dependents see exit code 0",
            jobs: &[
                ("probe", &[], false, &[]),
                ("on-zero", &[], false, &[(0, Awaited::Exited), (0, OK)]),
                ("on-one", &[], false, &[(0, Awaited::ExitCode(1))]),
            ],
            reused: &[(0, &[])],
            steps: vec![(
                None,
                vec![
                    reused(0),
                    start(1),
                    skipped(
                        2,
                        "`probe.ExitCode(1)` can no longer hold: `probe` exited with code 0",
                    ),
                ],
            )],
            done: false,
        },
    ]
}

#[test]
fn reuse_cases_decide_as_the_earlier_run_ended() {
    for case in reuse_cases() {
        let pipeline = pipeline(case.jobs);
        let reused = case.reused.iter().map(|(index, fired)| ReusedJob {
            job: j(*index),
            fired: fired.iter().map(|signal| SignalId(*signal)).collect(),
            run: "20261204-0400-00-abcd".into(),
        });
        let mut dispatcher = Dispatcher::new(pipeline, &[], false).reuse(reused);
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
fn a_reused_job_has_exited_zero_and_serialises_as_passed() -> Result<(), serde_json::Error> {
    let mut dispatcher =
        Dispatcher::new(pipeline(BUILD_TEST_DEPLOY), &[], false).reuse([ReusedJob {
            job: j(0),
            fired: Vec::new(),
            run: "r1".into(),
        }]);
    let decisions = dispatcher.begin();
    assert_eq!(dispatcher.exit(j(0)), Some(JobExit::Code(0)));
    let Some(Decision::Finish(_, outcome)) = decisions.first() else {
        panic!("no finish first: {decisions:?}");
    };
    assert_eq!(
        serde_json::to_value(outcome)?,
        serde_json::json!({
            "state": "passed",
            "reason": {"kind": "reused", "run": "r1", "text": "reused from run r1"},
        })
    );
    Ok(())
}

#[test]
fn a_reused_job_out_of_scope_is_left_alone() {
    // `--only deploy`-like scopes leave `lint` out: reusing it changes nothing.
    let jobs: &[JobSpec] = &[("build", &[], false, &[]), ("lint", &[], false, &[])];
    let mut dispatcher = Dispatcher::new(pipeline(jobs), &[j(0)], false).reuse([ReusedJob {
        job: j(1),
        fired: Vec::new(),
        run: "r1".into(),
    }]);
    assert_eq!(rendered(&dispatcher.begin()), [start(0)]);
}
