//! What a run will do, decided once before anything starts: which jobs are in scope and
//! where each one runs. The driver and the executors follow it rather than deciding again.

use crate::executor::Placement;
use crate::scheduler::Dispatcher;
use pipekit_schema::{JobId, Pipeline};
use std::sync::Arc;

/// Scope and placement of every job of a run.
#[derive(Debug, Clone)]
pub struct RunPlan {
    in_scope: Vec<bool>,
    placement: Vec<Placement>,
}

impl RunPlan {
    /// `only` (empty: every job) and what it depends on are in scope; a job with an `image`
    /// or `build` goes to a container when `containers` allows it.
    pub fn new(pipeline: &Arc<Pipeline>, only: &[JobId], containers: bool) -> RunPlan {
        let scope = Dispatcher::new(pipeline.clone(), only, false);
        let in_scope = pipeline.job_ids().map(|id| scope.in_scope(id)).collect();
        let placement = pipeline
            .jobs
            .iter()
            .map(|job| match containers && job.needs_container() {
                true => Placement::Container,
                false => Placement::Host,
            })
            .collect();
        RunPlan {
            in_scope,
            placement,
        }
    }

    pub fn in_scope(&self, id: JobId) -> bool {
        self.in_scope.get(id.0).copied().unwrap_or(false)
    }

    pub fn placement(&self, id: JobId) -> Placement {
        self.placement.get(id.0).copied().unwrap_or(Placement::Host)
    }

    /// The jobs in scope that run in containers.
    pub fn container_jobs(&self) -> Vec<JobId> {
        (0..self.placement.len())
            .map(JobId)
            .filter(|id| self.in_scope(*id) && self.placement(*id) == Placement::Container)
            .collect()
    }

    /// Whether the run needs a container engine.
    pub fn needs_engine(&self) -> bool {
        !self.container_jobs().is_empty()
    }
}
