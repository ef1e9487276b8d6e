//! The scheduling algorithm of the Pipekit paper (Figure 3), event-driven: start every job
//! as soon as all of its conditions hold, skip it as soon as one never can. Every decision
//! about stopping — a timeout, fail-fast, an interrupt and its escalation, abandoning
//! starts, `--keep-running` — is taken here; the driver only carries decisions out.
//!
//! An event costs what it touches: the conditions naming the job it is about (kept in a
//! [`ConditionBook`]), the detached jobs those may release (counted in [`DetachedJobs`]),
//! and on a cancel the jobs it stops.

use super::cancel_reason::CancelReason;
use super::condition_book::ConditionBook;
use super::detached_jobs::DetachedJobs;
use super::event::{Decision, JobExit, Outcome, SchedulerEvent, StopReason};
use super::fail_reason::FailReason;
use super::job_progress::{JobProgress, Phase};
use super::reused_job::{ReuseReason, ReusedJob};
use super::skip_reason::{NeverReason, SkipReason};
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
    conditions: ConditionBook,
    detached: DetachedJobs,
    fail_fast: bool,
    /// Per job: `--keep-running` applies, so it is left up instead of stopped at the end.
    keep_running: Vec<bool>,
    /// Jobs a re-run takes over from an earlier run; they finish as they did there, first.
    reused: Vec<ReusedJob>,
    /// Set once the whole run is being stopped, to the strongest reason seen so far.
    cancelling: Option<CancelReason>,
    /// Jobs in scope not finished yet: `is_done` is asked after every log line.
    unfinished: usize,
    /// In-scope jobs by phase, so that a cancel touches only the jobs it stops.
    waiting: BTreeSet<JobId>,
    starting: BTreeSet<JobId>,
    running: BTreeSet<JobId>,
}

impl Dispatcher {
    /// `only` limits the run to those jobs and everything they depend on (empty: all).
    pub fn new(pipeline: Arc<Pipeline>, only: &[JobId], fail_fast: bool) -> Self {
        let scope = scope_of(&pipeline, only);
        let jobs: Vec<JobProgress> = pipeline
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
            conditions: ConditionBook::new(&pipeline),
            detached: DetachedJobs::new(&pipeline, &jobs),
            keep_running: vec![false; pipeline.jobs.len()],
            reused: Vec::new(),
            pipeline,
            jobs,
            dependents,
            fail_fast,
            cancelling: None,
            unfinished: scope.len(),
            waiting: scope,
            starting: BTreeSet::new(),
            running: BTreeSet::new(),
        }
    }

    /// `--keep-running`: these detached jobs are left up (a [`Decision::LeaveRunning`])
    /// where they would be stopped because nothing needs them any more.
    pub fn keep_running(mut self, jobs: impl IntoIterator<Item = JobId>) -> Self {
        for id in jobs {
            self.keep_running[id.0] = true;
        }
        self
    }

    /// A re-run: these jobs are not run. [`Dispatcher::begin`] finishes each (in scope) as
    /// [`Outcome::Reused`], as having started, exited 0 and fired `fired`, so that its
    /// dependents' conditions hold as they did in the earlier run.
    pub fn reuse(mut self, jobs: impl IntoIterator<Item = ReusedJob>) -> Self {
        self.reused.extend(jobs);
        self
    }

    /// The first decisions: every reused job finishes, then every job whose conditions
    /// hold (those without any first) starts.
    pub fn begin(&mut self) -> Vec<Decision> {
        let mut decisions = Vec::new();
        for reused in std::mem::take(&mut self.reused) {
            let id = reused.job;
            if !self.is_waiting(id) {
                continue;
            }
            let job = &mut self.jobs[id.0];
            job.started = true;
            job.exit = Some(JobExit::Code(0));
            for signal in reused.fired {
                if let Some(fired) = job.fired.get_mut(signal.0) {
                    *fired = true;
                }
            }
            let reason = ReuseReason { run: reused.run };
            self.finish(id, Outcome::Reused(reason), &mut decisions);
        }
        let all: Vec<JobId> = self.waiting.iter().copied().collect();
        for &id in &all {
            self.conditions.evaluate_all(&self.pipeline, &self.jobs, id);
        }
        self.settle(all, &mut decisions);
        decisions
    }

    /// Takes one event in and returns what must be done about it.
    pub fn handle(&mut self, event: SchedulerEvent) -> Vec<Decision> {
        let mut decisions = Vec::new();
        let touched = event.job();
        match event {
            SchedulerEvent::Started(id) => {
                if self.jobs[id.0].phase == Phase::Starting {
                    self.enter(id, Phase::Running);
                    self.jobs[id.0].started = true;
                    self.detached.started(id);
                }
            }
            SchedulerEvent::FailedToStart(id, message) => {
                if self.jobs[id.0].is_active() {
                    let reason = FailReason::StartFailed { message };
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
                self.signal_timed_out(id, signal, &mut decisions)
            }
            SchedulerEvent::Healthy(id) => {
                let job = &mut self.jobs[id.0];
                if job.failure.is_none() {
                    job.healthy = true;
                }
            }
            SchedulerEvent::Failed(id, reason) => self.fail_running(id, reason, &mut decisions),
            SchedulerEvent::TimedOut(id) => self.timed_out(id, &mut decisions),
            SchedulerEvent::Exited(id, exit) => {
                if self.jobs[id.0].is_active() {
                    self.jobs[id.0].exit = Some(exit);
                    let outcome = self.outcome_of_exit(id, exit);
                    self.finish(id, outcome, &mut decisions);
                }
            }
            SchedulerEvent::Interrupted => {
                // A second interrupt while stopping for one: the user will not wait for the
                // grace periods.
                let reason = match &self.cancelling {
                    Some(current) if current.is_interrupt() => CancelReason::ForcedInterrupt,
                    _ => CancelReason::Interrupt,
                };
                self.cancel(reason, &mut decisions);
            }
            SchedulerEvent::Aborted(reason) => self.cancel(reason, &mut decisions),
        }
        let worklist = match touched {
            Some(id) => {
                self.conditions.refresh(&self.pipeline, &self.jobs, id);
                self.dependents[id.0].clone()
            }
            None => Vec::new(),
        };
        self.settle(worklist, &mut decisions);
        decisions
    }

    /// True once the run is being stopped (an interrupt, `--fail-fast`, a lost engine).
    pub fn is_cancelling(&self) -> bool {
        self.cancelling.is_some()
    }

    /// Why the run is being stopped: the strongest reason so far.
    pub fn cancel_reason(&self) -> Option<&CancelReason> {
        self.cancelling.as_ref()
    }

    /// True once every job in scope has reached its final state.
    pub fn is_done(&self) -> bool {
        self.unfinished == 0
    }

    /// Whether the job is part of the run (`--only`).
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

    /// The job's final state, once it has one.
    pub fn outcome(&self, id: JobId) -> Option<&Outcome> {
        self.jobs[id.0].outcome()
    }

    /// The conditions of a waiting job that do not hold yet, in file order.
    pub fn waiting_on(&self, id: JobId) -> impl Iterator<Item = Condition> + '_ {
        self.conditions.pending(&self.pipeline, id)
    }

    /// How many conditions of a waiting job do not hold yet (what
    /// [`Dispatcher::waiting_on`] would yield, without walking them).
    pub fn waiting_count(&self, id: JobId) -> usize {
        self.conditions.unmet(id)
    }

    /// Moves a job to another phase, keeping the per-phase sets in step.
    fn enter(&mut self, id: JobId, phase: Phase) {
        match self.jobs[id.0].phase {
            Phase::Waiting => self.waiting.remove(&id),
            Phase::Starting => self.starting.remove(&id),
            Phase::Running => self.running.remove(&id),
            Phase::Finished(_) => false,
        };
        match phase {
            Phase::Waiting => self.waiting.insert(id),
            Phase::Starting => self.starting.insert(id),
            Phase::Running => self.running.insert(id),
            Phase::Finished(_) => false,
        };
        self.jobs[id.0].phase = phase;
    }

    /// Whether the job is being stopped because it, or the run, is cancelled.
    fn is_being_cancelled(&self, id: JobId) -> bool {
        matches!(self.jobs[id.0].stop, Some(StopReason::Cancelled { .. }))
    }

    fn signal_timed_out(&mut self, id: JobId, signal: SignalId, decisions: &mut Vec<Decision>) {
        let job = &self.jobs[id.0];
        // A job already being cancelled is on its way out for a stronger reason: the
        // timeout does not turn its cancellation into a failure.
        if job.fired[signal.0] || job.exit.is_some() || !job.is_active() {
            return;
        }
        if self.is_being_cancelled(id) {
            return;
        }
        let declared = self.pipeline.job(id).signal(signal);
        let (name, after) = (declared.name.clone(), declared.timeout);
        self.jobs[id.0].signal_lost[signal.0] = Some(NeverReason::SignalTimedOut {
            signal: name.clone(),
            after,
        });
        let reason = FailReason::SignalTimedOut {
            signal: name,
            after,
        };
        self.fail_running(id, reason, decisions);
    }

    /// The job's own timeout: the weakest cancel reason, so it yields to any other.
    fn timed_out(&mut self, id: JobId, decisions: &mut Vec<Decision>) {
        let job = &self.jobs[id.0];
        if job.exit.is_some() || !job.is_active() || self.is_being_cancelled(id) {
            return;
        }
        let after = self.pipeline.job(id).timeout.unwrap_or_default();
        let job = &mut self.jobs[id.0];
        if job.failure.is_none() {
            job.failure = Some(FailReason::Timeout { after });
        }
        let reason = CancelReason::JobTimeout { after };
        self.stop(id, StopReason::Cancelled { reason }, decisions);
    }

    /// A failure while the job still runs: recorded (it wins over the exit code), job stopped.
    fn fail_running(&mut self, id: JobId, reason: FailReason, decisions: &mut Vec<Decision>) {
        let job = &mut self.jobs[id.0];
        if job.failure.is_none() {
            job.failure = Some(reason.clone());
        }
        if job.is_active() && job.exit.is_none() {
            self.stop(id, StopReason::Failed { reason }, decisions);
        }
    }

    fn outcome_of_exit(&self, id: JobId, exit: JobExit) -> Outcome {
        let job = &self.jobs[id.0];
        if let Some(failure) = &job.failure {
            return Outcome::Failed(failure.clone());
        }
        match &job.stop {
            Some(StopReason::Cancelled { reason }) => return Outcome::Cancelled(reason.clone()),
            // Passed if it was still running when stopped, or exited 0 (spec 2, "Ending a
            // run"); an exit the stop cannot explain means it had crashed on its own.
            Some(StopReason::DependentsEnded) if ended_by_stop(exit) => return Outcome::Passed,
            Some(StopReason::DependentsEnded) => {
                return Outcome::Failed(FailReason::from_exit(exit));
            }
            Some(StopReason::Failed { reason }) => return Outcome::Failed(reason.clone()),
            None => {}
        }
        if exit != JobExit::Code(0) {
            return Outcome::Failed(FailReason::from_exit(exit));
        }
        let declared = &self.pipeline.job(id).signals;
        match declared.iter().zip(&job.fired).find(|(_, fired)| !**fired) {
            Some((signal, _)) => Outcome::Failed(FailReason::ExitedBeforeSignal {
                signal: signal.name.clone(),
            }),
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
        self.enter(id, Phase::Finished(outcome.clone()));
        self.unfinished -= 1;
        self.detached.finished(id);
        decisions.push(Decision::Finish(id, outcome));
        if failed && self.fail_fast {
            let job = self.pipeline.job(id).name.clone();
            self.cancel(CancelReason::FailFast { job }, decisions);
        }
    }

    /// Stops the whole run for `reason` unless a reason at least as strong already does:
    /// running jobs are stopped (or killed, on a forced interrupt); waiting ones are
    /// skipped and starts in flight abandoned by `settle`.
    fn cancel(&mut self, reason: CancelReason, decisions: &mut Vec<Decision>) {
        let forced = reason == CancelReason::ForcedInterrupt;
        match &self.cancelling {
            // Every further interrupt kills again, as the user asked again.
            Some(current) if !reason.supersedes(current) && !forced => return,
            _ => {}
        }
        self.cancelling = Some(reason.clone());
        let running: Vec<JobId> = self.running.iter().copied().collect();
        for id in running {
            match &self.jobs[id.0].stop {
                None => {
                    let stop = StopReason::Cancelled {
                        reason: reason.clone(),
                    };
                    self.stop(id, stop, decisions);
                }
                Some(StopReason::Cancelled { reason: current }) if reason.supersedes(current) => {
                    // Already stopping: the stronger reason is what it ends with.
                    self.jobs[id.0].stop = Some(StopReason::Cancelled {
                        reason: reason.clone(),
                    });
                }
                Some(_) => {}
            }
            if forced {
                decisions.push(Decision::Kill(id));
            }
        }
    }

    /// Applies every consequence of a change until nothing changes: starts, skips (which
    /// cascade to their own dependents), and stops of detached jobs nobody needs any more.
    /// `worklist` holds the jobs whose conditions may have changed.
    fn settle(&mut self, mut worklist: Vec<JobId>, decisions: &mut Vec<Decision>) {
        // Reversed so that jobs start in file order, which keeps output predictable.
        worklist.reverse();
        while let Some(id) = worklist.pop() {
            if !self.is_waiting(id) {
                continue;
            }
            if self.cancelling.is_some() {
                break;
            }
            if let Some(reason) = self.conditions.never(id) {
                let outcome = Outcome::Skipped(reason.clone());
                self.finish(id, outcome, decisions);
                self.conditions.refresh(&self.pipeline, &self.jobs, id);
                worklist.extend(self.dependents[id.0].iter().rev());
            } else if self.conditions.all_hold(id) {
                self.enter(id, Phase::Starting);
                decisions.push(Decision::Start(id));
            }
        }
        if let Some(cancel) = self.cancelling.clone() {
            let waiting: Vec<JobId> = self.waiting.iter().copied().collect();
            for id in waiting {
                let reason = SkipReason::NotStarted {
                    cancel: cancel.clone(),
                };
                self.finish(id, Outcome::Skipped(reason), decisions);
            }
            // Pulls and builds in flight must not run their commands after the run
            // decided to stop.
            let starting: Vec<JobId> = self.starting.iter().copied().collect();
            for id in starting {
                decisions.push(Decision::Abandon(id));
                self.finish(id, Outcome::Cancelled(cancel.clone()), decisions);
            }
        }
        self.stop_unneeded_detached_jobs(decisions);
    }

    /// A detached job is stopped (or, with `--keep-running`, left up) once nothing needs it.
    /// Leaving one up finishes it, which may release the detached jobs it depends on.
    fn stop_unneeded_detached_jobs(&mut self, decisions: &mut Vec<Decision>) {
        loop {
            let candidates = self.detached.take_candidates();
            if candidates.is_empty() {
                return;
            }
            for id in candidates {
                let job = &self.jobs[id.0];
                if job.phase != Phase::Running || job.stop.is_some() {
                    continue;
                }
                if !self.detached.is_unneeded(id) {
                    continue;
                }
                if self.keep_running[id.0] && job.failure.is_none() {
                    decisions.push(Decision::LeaveRunning(id));
                    self.finish(id, Outcome::Passed, decisions);
                } else {
                    self.stop(id, StopReason::DependentsEnded, decisions);
                }
            }
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
