//! The scheduling algorithm of the Pipekit paper (Figure 3), event-driven: start every job
//! as soon as all of its conditions hold, skip it as soon as one never can.

use super::condition::{ConditionStatus, evaluate};
use super::event::{Decision, JobExit, Outcome, SchedulerEvent, StopReason};
use super::job_progress::{JobProgress, Phase};
use pipekit_schema::{Condition, JobId, Pipeline, SignalId};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Decides, from the events of a run, which job starts, stops, is skipped or has ended.
#[derive(Debug)]
pub struct Dispatcher {
    pipeline: Arc<Pipeline>,
    jobs: Vec<JobProgress>,
    /// Per job, the jobs whose `depends_on` names it: only they can change when it does.
    dependents: Vec<Vec<JobId>>,
    fail_fast: bool,
    /// Set once the whole run is being stopped; waiting jobs are skipped with it.
    cancelling: Option<String>,
    /// Jobs in scope not finished yet: `is_done` is asked after every log line.
    unfinished: usize,
}

impl Dispatcher {
    /// `only` limits the run to those jobs and everything they depend on (empty: all).
    pub fn new(pipeline: Arc<Pipeline>, only: &[JobId], fail_fast: bool) -> Self {
        let scope = scope_of(&pipeline, only);
        let jobs = pipeline
            .job_ids()
            .map(|id| JobProgress::new(pipeline.job(id).signals.len(), scope.contains(&id)))
            .collect();
        let mut dependents = vec![Vec::new(); pipeline.jobs.len()];
        for id in pipeline.job_ids() {
            for condition in &pipeline.job(id).depends_on {
                let list: &mut Vec<JobId> = &mut dependents[condition.job.0];
                if list.last() != Some(&id) {
                    list.push(id);
                }
            }
        }
        Self {
            pipeline,
            jobs,
            dependents,
            fail_fast,
            cancelling: None,
            unfinished: scope.len(),
        }
    }

    /// The first decisions: every job without conditions starts.
    pub fn begin(&mut self) -> Vec<Decision> {
        let mut decisions = Vec::new();
        self.settle(self.pipeline.job_ids().collect(), &mut decisions);
        decisions
    }

    /// Takes one event in and returns what must be done about it.
    pub fn handle(&mut self, event: SchedulerEvent) -> Vec<Decision> {
        let mut decisions = Vec::new();
        let touched = event.job();
        match event {
            SchedulerEvent::Started(id) => {
                let job = &mut self.jobs[id.0];
                if job.phase == Phase::Starting {
                    job.phase = Phase::Running;
                    job.started = true;
                    if let Some(reason) = self.cancelling.clone() {
                        self.stop(id, StopReason::Cancelled(reason), &mut decisions);
                    }
                }
            }
            SchedulerEvent::FailedToStart(id, reason) => {
                if self.jobs[id.0].is_active() {
                    self.finish(id, Outcome::Failed(reason), &mut decisions);
                }
            }
            SchedulerEvent::SignalFired(id, signal) => {
                let job = &mut self.jobs[id.0];
                if job.signal_lost[signal.0].is_none() {
                    job.fired[signal.0] = true;
                }
            }
            SchedulerEvent::SignalTimedOut(id, signal) => {
                let job = &self.jobs[id.0];
                if !job.fired[signal.0] && job.exit.is_none() && job.is_active() {
                    let declared = self.pipeline.job(id).signal(signal);
                    let after = declared
                        .timeout
                        .map(|t| format!(" after {}s", t.as_secs_f64()));
                    let reason = format!(
                        "signal `{}` timed out{}",
                        declared.name,
                        after.unwrap_or_default()
                    );
                    self.jobs[id.0].signal_lost[signal.0] =
                        Some(format!("`{}`'s {reason}", self.pipeline.job(id).name));
                    self.fail_running(id, reason, &mut decisions);
                }
            }
            SchedulerEvent::Healthy(id) => {
                let job = &mut self.jobs[id.0];
                if job.failure.is_none() {
                    job.healthy = true;
                }
            }
            SchedulerEvent::Failed(id, reason) => self.fail_running(id, reason, &mut decisions),
            SchedulerEvent::TimedOut(id) => {
                let job = &self.jobs[id.0];
                if job.exit.is_none() && job.is_active() {
                    let limit = self
                        .pipeline
                        .job(id)
                        .timeout
                        .unwrap_or_default()
                        .as_secs_f64();
                    self.fail_running(id, format!("timed out after {limit}s"), &mut decisions);
                }
            }
            SchedulerEvent::Exited(id, exit) => {
                if self.jobs[id.0].is_active() {
                    self.jobs[id.0].exit = Some(exit);
                    let outcome = self.outcome_of_exit(id, exit);
                    self.finish(id, outcome, &mut decisions);
                }
            }
            SchedulerEvent::StartAbandoned(id) => {
                if self.jobs[id.0].phase == Phase::Starting {
                    let reason = self
                        .cancelling
                        .clone()
                        .unwrap_or_else(|| "cancelled".into());
                    self.finish(id, Outcome::Cancelled(reason), &mut decisions);
                }
            }
            SchedulerEvent::LeftRunning(id) => {
                if self.jobs[id.0].is_active() && self.jobs[id.0].failure.is_none() {
                    self.finish(id, Outcome::Passed, &mut decisions);
                }
            }
            SchedulerEvent::Interrupted => self.cancel("interrupted".to_string(), &mut decisions),
            SchedulerEvent::Aborted(reason) => self.cancel(reason, &mut decisions),
        }
        let worklist = match touched {
            Some(id) => self.dependents[id.0].clone(),
            None => Vec::new(),
        };
        self.settle(worklist, &mut decisions);
        decisions
    }

    /// True once the run is being stopped (an interrupt, `--fail-fast`).
    pub fn is_cancelling(&self) -> bool {
        self.cancelling.is_some()
    }

    /// True once every job in scope has reached its final state.
    pub fn is_done(&self) -> bool {
        self.unfinished == 0
    }

    pub fn in_scope(&self, id: JobId) -> bool {
        self.jobs[id.0].in_scope
    }

    /// The jobs whose `depends_on` names `id`, each once.
    pub fn dependents(&self, id: JobId) -> &[JobId] {
        &self.dependents[id.0]
    }

    /// Whether the job is in scope and has not been started or finished yet.
    pub fn is_waiting(&self, id: JobId) -> bool {
        let job = &self.jobs[id.0];
        job.in_scope && job.phase == Phase::Waiting
    }

    /// Whether a declared signal of the job has fired.
    pub fn has_fired(&self, id: JobId, signal: SignalId) -> bool {
        self.jobs[id.0].fired[signal.0]
    }

    /// How the job's process ended, if it ran and exited.
    pub fn exit(&self, id: JobId) -> Option<JobExit> {
        self.jobs[id.0].exit
    }

    pub fn outcome(&self, id: JobId) -> Option<&Outcome> {
        self.jobs[id.0].outcome()
    }

    /// The conditions of a waiting job that do not hold yet.
    pub fn waiting_on(&self, id: JobId) -> Vec<Condition> {
        self.pipeline
            .job(id)
            .depends_on
            .iter()
            .copied()
            .filter(|c| evaluate(&self.pipeline, &self.jobs, *c) != ConditionStatus::Holds)
            .collect()
    }

    /// A failure while the job still runs: recorded (it wins over the exit code), job stopped.
    fn fail_running(&mut self, id: JobId, reason: String, decisions: &mut Vec<Decision>) {
        let job = &mut self.jobs[id.0];
        if job.failure.is_none() {
            job.failure = Some(reason.clone());
        }
        if job.is_active() && job.exit.is_none() {
            self.stop(id, StopReason::Failed(reason), decisions);
        }
    }

    fn outcome_of_exit(&self, id: JobId, exit: JobExit) -> Outcome {
        let job = &self.jobs[id.0];
        if let Some(failure) = &job.failure {
            return Outcome::Failed(failure.clone());
        }
        match &job.stop {
            Some(StopReason::Cancelled(reason)) => return Outcome::Cancelled(reason.clone()),
            // Passed if it was still running when stopped, or exited 0 (spec 2, "Ending a
            // run"); an exit the stop cannot explain means it had crashed on its own.
            Some(StopReason::DependentsEnded) if ended_by_stop(exit) => return Outcome::Passed,
            Some(StopReason::DependentsEnded) => return Outcome::Failed(exit.to_string()),
            Some(StopReason::Failed(reason)) => return Outcome::Failed(reason.clone()),
            None => {}
        }
        if exit != JobExit::Code(0) {
            return Outcome::Failed(exit.to_string());
        }
        let declared = &self.pipeline.job(id).signals;
        match declared.iter().zip(&job.fired).find(|(_, fired)| !**fired) {
            Some((signal, _)) => {
                Outcome::Failed(format!("exited 0 before signal `{}` fired", signal.name))
            }
            None => Outcome::Passed,
        }
    }

    fn stop(&mut self, id: JobId, reason: StopReason, decisions: &mut Vec<Decision>) {
        let job = &mut self.jobs[id.0];
        if job.stop.is_none() {
            job.stop = Some(reason.clone());
            decisions.push(Decision::Stop(id, reason));
        }
    }

    fn finish(&mut self, id: JobId, outcome: Outcome, decisions: &mut Vec<Decision>) {
        let failed = matches!(outcome, Outcome::Failed(_));
        self.jobs[id.0].phase = Phase::Finished(outcome.clone());
        self.unfinished -= 1;
        decisions.push(Decision::Finish(id, outcome));
        if failed && self.fail_fast {
            let name = &self.pipeline.job(id).name;
            self.cancel(format!("--fail-fast after `{name}` failed"), decisions);
        }
    }

    /// Stops the whole run: running jobs are stopped, waiting ones skipped by `settle`.
    fn cancel(&mut self, reason: String, decisions: &mut Vec<Decision>) {
        if self.cancelling.is_some() {
            return;
        }
        self.cancelling = Some(reason.clone());
        let running: Vec<JobId> = self
            .pipeline
            .job_ids()
            .filter(|id| self.jobs[id.0].phase == Phase::Running)
            .collect();
        for id in running {
            self.stop(id, StopReason::Cancelled(reason.clone()), decisions);
        }
    }

    /// Applies every consequence of a change until nothing changes: starts, skips (which
    /// cascade to their own dependents), and stops of detached jobs nobody needs any more.
    /// `worklist` holds the jobs whose conditions may have changed.
    fn settle(&mut self, mut worklist: Vec<JobId>, decisions: &mut Vec<Decision>) {
        // Reversed so that jobs start in file order, which keeps output predictable.
        worklist.reverse();
        while let Some(id) = worklist.pop() {
            let job = &self.jobs[id.0];
            if !job.in_scope || job.phase != Phase::Waiting {
                continue;
            }
            if self.cancelling.is_some() {
                break;
            }
            match self.readiness(id) {
                ConditionStatus::Holds => {
                    self.jobs[id.0].phase = Phase::Starting;
                    decisions.push(Decision::Start(id));
                }
                ConditionStatus::Never(reason) => {
                    self.finish(id, Outcome::Skipped(reason), decisions);
                    worklist.extend(self.dependents[id.0].iter().rev());
                }
                ConditionStatus::Pending => {}
            }
        }
        if let Some(reason) = self.cancelling.clone() {
            for index in 0..self.jobs.len() {
                let (id, job) = (JobId(index), &self.jobs[index]);
                if job.in_scope && job.phase == Phase::Waiting {
                    let outcome = Outcome::Skipped(format!("not started: {reason}"));
                    self.finish(id, outcome, decisions);
                }
            }
        }
        self.stop_unneeded_detached_jobs(decisions);
    }

    /// All conditions together: the first that can never hold, else pending or holds.
    fn readiness(&self, id: JobId) -> ConditionStatus {
        let mut status = ConditionStatus::Holds;
        for condition in &self.pipeline.job(id).depends_on {
            match evaluate(&self.pipeline, &self.jobs, *condition) {
                ConditionStatus::Never(why) => {
                    let described = self.pipeline.describe(*condition);
                    return ConditionStatus::Never(format!(
                        "`{described}` can no longer hold: {why}"
                    ));
                }
                ConditionStatus::Pending => status = ConditionStatus::Pending,
                ConditionStatus::Holds => {}
            }
        }
        status
    }

    /// A detached job is stopped once every job depending on it has ended; one that nothing
    /// depends on, once every non-detached job has ended.
    fn stop_unneeded_detached_jobs(&mut self, decisions: &mut Vec<Decision>) {
        let in_scope = |jobs: &[JobProgress], id: &JobId| jobs[id.0].in_scope;
        let rest_ended = self
            .pipeline
            .job_ids()
            .filter(|id| in_scope(&self.jobs, id) && !self.pipeline.job(*id).detach)
            .all(|id| self.jobs[id.0].is_finished());
        let unneeded: Vec<JobId> = self
            .pipeline
            .job_ids()
            .filter(|id| {
                let job = &self.jobs[id.0];
                self.pipeline.job(*id).detach && job.phase == Phase::Running && job.stop.is_none()
            })
            .filter(|id| {
                let mut dependents = self.dependents[id.0]
                    .iter()
                    .filter(|d| in_scope(&self.jobs, d))
                    .peekable();
                if dependents.peek().is_none() {
                    rest_ended
                } else {
                    dependents.all(|d| self.jobs[d.0].is_finished())
                }
            })
            .collect();
        for id in unneeded {
            self.stop(id, StopReason::DependentsEnded, decisions);
        }
    }
}

/// Whether an exit is what a stop (SIGTERM, then SIGKILL) or a clean shutdown produces.
fn ended_by_stop(exit: JobExit) -> bool {
    const SIGINT: i32 = 2;
    const SIGQUIT: i32 = 3;
    const SIGKILL: i32 = 9;
    const SIGTERM: i32 = 15;
    match exit {
        // SIGINT and SIGQUIT too: images choose their stop signal (`STOPSIGNAL`).
        JobExit::Code(code) => {
            code == 0 || [SIGINT, SIGQUIT, SIGTERM, SIGKILL].contains(&(code - 128))
        }
        JobExit::Signal(signal) => [SIGINT, SIGQUIT, SIGTERM, SIGKILL].contains(&signal),
    }
}

/// The jobs named by `--only` and, transitively, everything they depend on.
fn scope_of(pipeline: &Pipeline, only: &[JobId]) -> BTreeSet<JobId> {
    if only.is_empty() {
        return pipeline.job_ids().collect();
    }
    let mut scope = BTreeSet::new();
    let mut pending: Vec<JobId> = only.to_vec();
    while let Some(id) = pending.pop() {
        if scope.insert(id) {
            pending.extend(pipeline.job(id).depends_on.iter().map(|c| c.job));
        }
    }
    scope
}
