//! The pure dispatcher driven through a large synthetic graph, no processes: how much one
//! event costs when the graph is big. Run by `bench/dispatch.sh`.
//!
//! Usage: `dispatch_bench [JOBS...]` (default: 10000 100000). Every thousandth job is a
//! fan-in waiting on 1,000 earlier jobs, every hundredth is detached, every other job depends
//! on up to 4 earlier jobs.

use pipekit_runner::scheduler::{Decision, Dispatcher, JobExit, SchedulerEvent};
use pipekit_schema::{Awaited, Condition, Job, JobId, Pipeline};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

const FAN_IN: usize = 1_000;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    for jobs in sizes {
        let pipeline = Arc::new(graph(jobs));
        let began = Instant::now();
        let finished = drive(pipeline);
        let elapsed = began.elapsed();
        assert_eq!(finished, jobs, "every job must reach its final state");
        println!("dispatch: {jobs} jobs in {} ms", elapsed.as_millis());
    }
}

/// A deterministic random DAG: edges only point to earlier jobs.
fn graph(count: usize) -> Pipeline {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut random = move |below: usize| {
        // xorshift64: enough spread for a benchmark, no dependency.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % below as u64) as usize
    };
    let jobs = (0..count)
        .map(|index| {
            let fan_in = index >= FAN_IN && index % 1_000 == 999;
            let mut depends_on: Vec<Condition> = if fan_in {
                (index - FAN_IN..index).map(exit_zero).collect()
            } else if index == 0 {
                Vec::new()
            } else {
                (0..random(5)).map(|_| exit_zero(random(index))).collect()
            };
            depends_on.sort_by_key(|condition| condition.job.0);
            depends_on.dedup();
            Job {
                name: format!("job-{index}"),
                depends_on,
                detach: is_detached(index),
                ..Job::default()
            }
        })
        .collect();
    Pipeline {
        name: "bench".into(),
        env: Default::default(),
        jobs,
        triggers: None,
        secrets: Default::default(),
    }
}

/// A condition on `job`: its exit code 0, or its start for a detached job (which only
/// exits once nothing waits on it any more).
fn exit_zero(job: usize) -> Condition {
    Condition {
        job: JobId(job),
        awaited: if is_detached(job) {
            Awaited::Started
        } else {
            Awaited::ExitCode(0)
        },
    }
}

fn is_detached(index: usize) -> bool {
    index % 100 == 50
}

/// Plays the executor: every started job runs, exits 0 (detached ones only when stopped).
/// Returns how many jobs finished.
fn drive(pipeline: Arc<Pipeline>) -> usize {
    let mut dispatcher = Dispatcher::new(pipeline.clone(), &[], false);
    let mut events = VecDeque::new();
    let mut finished = 0;
    let mut take = |decisions: Vec<Decision>, events: &mut VecDeque<SchedulerEvent>| {
        for decision in decisions {
            match decision {
                Decision::Start(id) => {
                    events.push_back(SchedulerEvent::Started(id));
                    if !pipeline.job(id).detach {
                        events.push_back(SchedulerEvent::Exited(id, JobExit::Code(0)));
                    }
                }
                Decision::Stop(id, _) => {
                    events.push_back(SchedulerEvent::Exited(id, JobExit::Signal(15)))
                }
                Decision::Finish(..) => finished += 1,
                _ => {}
            }
        }
    };
    take(dispatcher.begin(), &mut events);
    while let Some(event) = events.pop_front() {
        take(dispatcher.handle(event), &mut events);
    }
    assert!(dispatcher.is_done(), "the run must end");
    finished
}
