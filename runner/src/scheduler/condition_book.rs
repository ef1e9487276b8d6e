//! Which conditions of each waiting job hold, kept up to date as the jobs they name change,
//! so that an event costs the conditions it touches, not every condition of every job (a
//! fan-in of 1,000 jobs would otherwise re-evaluate 1,000 conditions per exit).

use super::condition::{ConditionStatus, evaluate};
use super::job_progress::{JobProgress, Phase};
use super::skip_reason::SkipReason;
use pipekit_schema::{Condition, JobId, Pipeline};

/// Per job: how many of its conditions hold, and the first that never can.
#[derive(Debug)]
pub(super) struct ConditionBook {
    /// Where each job's conditions start in `holds`; one more entry than jobs.
    offsets: Vec<usize>,
    /// Every condition of every job, in file order: does it hold now?
    holds: Vec<bool>,
    /// Per job: how many of its conditions do not hold.
    unmet: Vec<usize>,
    /// Per job: its first condition (by position) that can never hold, and why. Boxed:
    /// almost every job has none.
    never: Vec<Option<Box<(usize, SkipReason)>>>,
    /// Per job: (dependent, position in its `depends_on`) for every condition naming it.
    watchers: Vec<Vec<(JobId, usize)>>,
}

impl ConditionBook {
    /// Nothing holds yet; [`ConditionBook::evaluate_all`] takes the first look.
    pub fn new(pipeline: &Pipeline) -> Self {
        let mut offsets = Vec::with_capacity(pipeline.jobs.len() + 1);
        let mut watchers = vec![Vec::new(); pipeline.jobs.len()];
        let mut total = 0;
        for id in pipeline.job_ids() {
            offsets.push(total);
            let conditions = &pipeline.job(id).depends_on;
            for (position, condition) in conditions.iter().enumerate() {
                watchers[condition.job.0].push((id, position));
            }
            total += conditions.len();
        }
        offsets.push(total);
        Self {
            unmet: pipeline
                .jobs
                .iter()
                .map(|job| job.depends_on.len())
                .collect(),
            never: (0..pipeline.jobs.len()).map(|_| None).collect(),
            holds: vec![false; total],
            offsets,
            watchers,
        }
    }

    /// Evaluates every condition of `id` afresh.
    pub fn evaluate_all(&mut self, pipeline: &Pipeline, jobs: &[JobProgress], id: JobId) {
        for position in 0..pipeline.job(id).depends_on.len() {
            self.update(pipeline, jobs, id, position);
        }
    }

    /// `changed`'s state moved on: re-evaluates the conditions of waiting jobs that name it.
    pub fn refresh(&mut self, pipeline: &Pipeline, jobs: &[JobProgress], changed: JobId) {
        for index in 0..self.watchers[changed.0].len() {
            let (dependent, position) = self.watchers[changed.0][index];
            let job = &jobs[dependent.0];
            if job.in_scope && job.phase == Phase::Waiting {
                self.update(pipeline, jobs, dependent, position);
            }
        }
    }

    fn update(&mut self, pipeline: &Pipeline, jobs: &[JobProgress], id: JobId, position: usize) {
        let condition = pipeline.job(id).depends_on[position];
        let status = evaluate(pipeline, jobs, condition);
        let slot = &mut self.holds[self.offsets[id.0] + position];
        let holds = status == ConditionStatus::Holds;
        if holds != *slot {
            *slot = holds;
            if holds {
                self.unmet[id.0] -= 1;
            } else {
                self.unmet[id.0] += 1;
            }
        }
        if let ConditionStatus::Never(why) = status {
            let earlier = matches!(&self.never[id.0], Some(never) if never.0 < position);
            if !earlier {
                let reason = SkipReason::ConditionNever {
                    job: pipeline.job(condition.job).name.clone(),
                    condition: pipeline.describe(condition),
                    why,
                };
                self.never[id.0] = Some(Box::new((position, reason)));
            }
        }
    }

    /// Why `id` can never start, if one of its conditions can no longer hold.
    pub fn never(&self, id: JobId) -> Option<&SkipReason> {
        self.never[id.0].as_deref().map(|(_, reason)| reason)
    }

    /// Whether every condition of `id` holds.
    pub fn all_hold(&self, id: JobId) -> bool {
        self.unmet[id.0] == 0
    }

    /// How many conditions of `id` do not hold.
    pub fn unmet(&self, id: JobId) -> usize {
        self.unmet[id.0]
    }

    /// The conditions of `id` that do not hold, in file order.
    pub fn pending<'a>(
        &'a self,
        pipeline: &'a Pipeline,
        id: JobId,
    ) -> impl Iterator<Item = Condition> + 'a {
        let holds = &self.holds[self.offsets[id.0]..self.offsets[id.0 + 1]];
        pipeline
            .job(id)
            .depends_on
            .iter()
            .zip(holds)
            .filter(|(_, holds)| !**holds)
            .map(|(condition, _)| *condition)
    }
}
