//! When a detached job is no longer needed, kept as counts so that finding out costs what a
//! finished job touches instead of a scan of every job after every event.

use super::job_progress::JobProgress;
use pipekit_schema::{JobId, Pipeline};

/// Counts behind "a detached job is stopped once every job that depends on it has ended;
/// one that nothing depends on, once every other job has ended" (spec 2, "Ending a run").
#[derive(Debug)]
pub(super) struct DetachedJobs {
    /// Per job: the jobs its conditions name, each once.
    dependencies: Vec<Vec<JobId>>,
    /// Per job: how many of its in-scope dependents have not finished.
    unfinished_dependents: Vec<usize>,
    /// Per job: detached and in scope.
    detached: Vec<bool>,
    /// In-scope jobs that are not detached and have not finished.
    unfinished_attached: usize,
    /// In-scope detached jobs nothing in scope depends on.
    lonely: Vec<JobId>,
    /// Detached jobs that may have become unneeded since the last [`Self::take_candidates`].
    candidates: Vec<JobId>,
}

impl DetachedJobs {
    /// Counts for a run where nothing has finished yet.
    pub fn new(pipeline: &Pipeline, jobs: &[JobProgress]) -> Self {
        let count = pipeline.jobs.len();
        let mut dependencies = Vec::with_capacity(count);
        let mut unfinished_dependents = vec![0; count];
        for id in pipeline.job_ids() {
            let mut named: Vec<JobId> = pipeline
                .job(id)
                .depends_on
                .iter()
                .map(|condition| condition.job)
                .collect();
            named.sort_unstable();
            named.dedup();
            if jobs[id.0].in_scope {
                named
                    .iter()
                    .for_each(|job| unfinished_dependents[job.0] += 1);
            }
            dependencies.push(named);
        }
        let detached: Vec<bool> = pipeline
            .job_ids()
            .map(|id| jobs[id.0].in_scope && pipeline.job(id).detach)
            .collect();
        let unfinished_attached = pipeline
            .job_ids()
            .filter(|id| jobs[id.0].in_scope && !detached[id.0])
            .count();
        let lonely = pipeline
            .job_ids()
            .filter(|id| detached[id.0] && unfinished_dependents[id.0] == 0)
            .collect();
        Self {
            dependencies,
            unfinished_dependents,
            detached,
            unfinished_attached,
            lonely,
            candidates: Vec::new(),
        }
    }

    /// Whether nothing needs the detached job `id` any more.
    pub fn is_unneeded(&self, id: JobId) -> bool {
        if !self.detached[id.0] {
            return false;
        }
        if self.dependencies_of_none(id) {
            self.unfinished_attached == 0
        } else {
            self.unfinished_dependents[id.0] == 0
        }
    }

    fn dependencies_of_none(&self, id: JobId) -> bool {
        self.lonely.binary_search(&id).is_ok()
    }

    /// `id` is running now: if nothing needs it any more (its dependents were all skipped
    /// meanwhile), it is a candidate at once.
    pub fn started(&mut self, id: JobId) {
        if self.is_unneeded(id) {
            self.candidates.push(id);
        }
    }

    /// In-scope job `id` reached its final state: the jobs it named need one dependent
    /// less.
    pub fn finished(&mut self, id: JobId) {
        for index in 0..self.dependencies[id.0].len() {
            let named = self.dependencies[id.0][index];
            self.unfinished_dependents[named.0] -= 1;
            if self.unfinished_dependents[named.0] == 0 && self.detached[named.0] {
                self.candidates.push(named);
            }
        }
        if !self.detached[id.0] {
            self.unfinished_attached -= 1;
            if self.unfinished_attached == 0 {
                self.candidates.extend(self.lonely.iter().copied());
            }
        }
    }

    /// The candidates gathered since the last call, in file order, each once.
    pub fn take_candidates(&mut self) -> Vec<JobId> {
        let mut candidates = std::mem::take(&mut self.candidates);
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }
}
