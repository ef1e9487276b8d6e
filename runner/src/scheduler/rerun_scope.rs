//! Which jobs of a re-run run again and which are reused from the earlier run: pure graph
//! work over the pipeline, decided before anything starts.

use pipekit_schema::{Awaited, JobId, Pipeline};

/// The jobs a re-run runs again; every other job is reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RerunScope {
    rerun: Vec<bool>,
}

impl RerunScope {
    /// `asked` and, transitively, every job that depends on a job run again (its inputs
    /// change), and every dependency of a job run again that is a live process rather than
    /// a result: a `detach: true` service, or a job whose health is awaited. Those are not
    /// running any more, so they cannot be reused; they start again, as does what they
    /// need in turn.
    pub fn new(pipeline: &Pipeline, asked: &[JobId]) -> RerunScope {
        let mut dependents: Vec<Vec<JobId>> = vec![Vec::new(); pipeline.jobs.len()];
        for id in pipeline.job_ids() {
            for condition in &pipeline.job(id).depends_on {
                dependents[condition.job.0].push(id);
            }
        }
        let mut rerun = vec![false; pipeline.jobs.len()];
        let mut pending: Vec<JobId> = asked.to_vec();
        while let Some(id) = pending.pop() {
            if std::mem::replace(&mut rerun[id.0], true) {
                continue;
            }
            pending.extend(dependents[id.0].iter().copied());
            for condition in &pipeline.job(id).depends_on {
                let live =
                    pipeline.job(condition.job).detach || condition.awaited == Awaited::Healthy;
                if live {
                    pending.push(condition.job);
                }
            }
        }
        RerunScope { rerun }
    }

    /// Whether `id` runs again.
    pub fn runs_again(&self, id: JobId) -> bool {
        self.rerun.get(id.0).copied().unwrap_or(false)
    }

    /// The jobs reused, in file order.
    pub fn reused(&self) -> impl Iterator<Item = JobId> + '_ {
        self.rerun
            .iter()
            .enumerate()
            .filter(|(_, rerun)| !**rerun)
            .map(|(index, _)| JobId(index))
    }
}
