//! Which jobs can be running at the same time. A job waiting on `b.ExitCode(0)` starts after
//! `b` is gone, and so after everything `b` itself waited to see exit: two such jobs never
//! overlap. Used to give a run its own container network only when some container could
//! talk to another.

use pipekit_schema::{Awaited, JobId, Pipeline};

/// Past this many jobs the pairwise answer costs more than a network does: assume yes.
const MAX_JOBS_COMPARED: usize = 2000;

/// True when two of `jobs` can be running at once, going by the conditions alone.
pub fn may_overlap(pipeline: &Pipeline, jobs: &[JobId]) -> bool {
    if jobs.len() > MAX_JOBS_COMPARED {
        return true;
    }
    let gone_before = exited_before_start(pipeline, jobs);
    jobs.iter().enumerate().any(|(index, a)| {
        jobs[index + 1..]
            .iter()
            .any(|b| !gone_before[b.0].contains(a) && !gone_before[a.0].contains(b))
    })
}

/// Per job: which of `watched` have certainly exited by the time it starts. Every
/// condition on a job implies that job started, so its own set carries over; an exit
/// condition adds the job itself.
fn exited_before_start(pipeline: &Pipeline, watched: &[JobId]) -> Vec<Vec<JobId>> {
    let count = pipeline.jobs.len();
    let mut is_watched = vec![false; count];
    watched.iter().for_each(|id| is_watched[id.0] = true);
    let mut sets: Vec<Vec<JobId>> = vec![Vec::new(); count];
    for id in topological_order(pipeline) {
        let mut gone = Vec::new();
        for condition in &pipeline.job(id).depends_on {
            gone.extend(sets[condition.job.0].iter().copied());
            if is_watched[condition.job.0]
                && matches!(condition.awaited, Awaited::Exited | Awaited::ExitCode(_))
            {
                gone.push(condition.job);
            }
        }
        gone.sort_unstable_by_key(|job| job.0);
        gone.dedup();
        sets[id.0] = gone;
    }
    sets
}

/// Every job after the jobs it depends on (the graph is acyclic: validated).
fn topological_order(pipeline: &Pipeline) -> Vec<JobId> {
    let count = pipeline.jobs.len();
    let mut pending: Vec<usize> = pipeline
        .jobs
        .iter()
        .map(|job| job.depends_on.len())
        .collect();
    let mut dependents: Vec<Vec<JobId>> = vec![Vec::new(); count];
    for id in pipeline.job_ids() {
        for condition in &pipeline.job(id).depends_on {
            dependents[condition.job.0].push(id);
        }
    }
    let mut ready: Vec<JobId> = pipeline.job_ids().filter(|id| pending[id.0] == 0).collect();
    let mut order = Vec::with_capacity(count);
    while let Some(id) = ready.pop() {
        order.push(id);
        for dependent in &dependents[id.0] {
            pending[dependent.0] -= 1;
            if pending[dependent.0] == 0 {
                ready.push(*dependent);
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipekit_schema::{Condition, Job};

    fn pipeline(conditions: &[&[(usize, Awaited)]]) -> Pipeline {
        Pipeline {
            triggers: None,
            secrets: Default::default(),
            name: "p".into(),
            env: Default::default(),
            jobs: conditions
                .iter()
                .enumerate()
                .map(|(index, conditions)| Job {
                    name: format!("j{index}"),
                    depends_on: conditions
                        .iter()
                        .map(|(job, awaited)| Condition {
                            job: JobId(*job),
                            awaited: *awaited,
                        })
                        .collect(),
                    ..Job::default()
                })
                .collect(),
        }
    }

    fn all(pipeline: &Pipeline) -> Vec<JobId> {
        pipeline.job_ids().collect()
    }

    #[test]
    fn a_chain_on_exit_codes_never_overlaps() {
        let chain = pipeline(&[&[], &[(0, Awaited::ExitCode(0))], &[(1, Awaited::Exited)]]);
        assert!(!may_overlap(&chain, &all(&chain)));
    }

    #[test]
    fn exits_seen_through_a_started_condition_still_count() {
        // j2 waits for j1 to start, and j1 started only after j0 exited.
        let p = pipeline(&[&[], &[(0, Awaited::ExitCode(0))], &[(1, Awaited::Started)]]);
        assert!(!may_overlap(&p, &[JobId(0), JobId(2)]));
        assert!(may_overlap(&p, &[JobId(1), JobId(2)]));
    }

    #[test]
    fn parallel_jobs_and_signals_overlap() {
        let parallel = pipeline(&[
            &[],
            &[],
            &[(0, Awaited::ExitCode(0)), (1, Awaited::ExitCode(0))],
        ]);
        assert!(may_overlap(&parallel, &all(&parallel)));
        assert!(!may_overlap(&parallel, &[JobId(0), JobId(2)]));
        let ready = pipeline(&[&[], &[(0, Awaited::Healthy)]]);
        assert!(may_overlap(&ready, &all(&ready)));
        assert!(
            !may_overlap(&ready, &[JobId(1)]),
            "one job overlaps nothing"
        );
    }
}
