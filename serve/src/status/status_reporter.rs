//! Hears a run's events and tells the outbox each change of a job's commit status. Runs on
//! the session's driver, so it only hands the change over, never waiting for the database.

use super::forge_request::{StatusMessage, percent_encoded};
use super::job_status::JobStatus;
use super::status_outbox::QueuedStatus;
use pipekit_runner::run::{Reporter, RunEvent};
use pipekit_schema::{JobId, Pipeline};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// The commit statuses of one run's jobs.
pub struct StatusReporter {
    run_id: i64,
    commit: String,
    pipeline: String,
    /// `{public url}/runs/{id}/jobs/`.
    job_pages: String,
    /// By [`JobId`]: each job's name and the status last told, so that a state is told
    /// once (GitLab refuses a status that is already the job's).
    jobs: Vec<(String, Option<JobStatus>)>,
    outbox: UnboundedSender<QueuedStatus>,
}

impl StatusReporter {
    /// For run `run_id` of `commit`, testing `pipeline`, linking to pages under
    /// `public_url`.
    pub fn new(
        run_id: i64,
        commit: &str,
        pipeline: &Pipeline,
        public_url: &str,
        outbox: UnboundedSender<QueuedStatus>,
    ) -> StatusReporter {
        StatusReporter {
            run_id,
            commit: commit.to_owned(),
            pipeline: pipeline.name.clone(),
            job_pages: format!("{public_url}/runs/{run_id}/jobs/"),
            jobs: pipeline
                .job_ids()
                .map(|id| (pipeline.job(id).name.clone(), None))
                .collect(),
            outbox,
        }
    }

    fn tell(&mut self, job: JobId, status: JobStatus, description: String) {
        let Some((name, last)) = self.jobs.get_mut(job.0) else {
            return;
        };
        if *last == Some(status) {
            return;
        }
        *last = Some(status);
        let message = StatusMessage {
            commit: self.commit.clone(),
            context: format!("pipekit/{}/{name}", self.pipeline),
            status,
            description,
            target_url: format!("{}{}", self.job_pages, percent_encoded(name)),
        };
        // A closed outbox means the server is stopping: nothing is left to tell.
        let _ = self.outbox.send(QueuedStatus {
            run_id: self.run_id,
            job: name.clone(),
            message,
        });
    }
}

impl Reporter for StatusReporter {
    fn on_event(&mut self, _at: Duration, event: &RunEvent) {
        match event {
            RunEvent::RunStarted { .. } => {
                for index in 0..self.jobs.len() {
                    self.tell(
                        JobId(index),
                        JobStatus::Pending,
                        "waiting to start".to_owned(),
                    );
                }
            }
            // Pending from the start already: only a job not told yet is told here.
            RunEvent::JobWaiting { job, on, .. }
                if self.jobs.get(job.0).is_some_and(|(_, last)| last.is_none()) =>
            {
                let description = match on.first() {
                    Some(condition) => format!("waiting on {condition}"),
                    None => "waiting".to_owned(),
                };
                self.tell(*job, JobStatus::Pending, description);
            }
            RunEvent::JobStarted { job } => {
                self.tell(*job, JobStatus::Running, "running".to_owned());
            }
            RunEvent::JobFinished { job, outcome, .. } => {
                let description = outcome
                    .reason_text()
                    .unwrap_or_else(|| outcome.state().to_owned());
                self.tell(*job, JobStatus::of_outcome(outcome), description);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipekit_runner::scheduler::{FailReason, Outcome};
    use tokio::sync::mpsc::unbounded_channel;

    fn pipeline() -> Pipeline {
        let text =
            "name: ci\nservices:\n  build:\n    command: make\n  lint:\n    command: make lint\n";
        let source = pipekit_schema::Source {
            name: "pipekit.yml".to_owned(),
            text: text.to_owned(),
        };
        pipekit_schema::parse(&source)
            .map(|parsed| parsed.pipeline)
            .expect("a valid pipeline")
    }

    #[test]
    fn each_jobs_changes_are_told_once_each_with_its_context_and_page() {
        let (sender, mut receiver) = unbounded_channel();
        let mut reporter = StatusReporter::new(7, "c0ffee", &pipeline(), "http://ci:8080", sender);
        let at = Duration::ZERO;
        let events = [
            RunEvent::RunStarted {
                run_id: "r".to_owned(),
                run_dir: "/tmp/r".into(),
            },
            RunEvent::JobWaiting {
                job: JobId(1),
                on: vec!["build.done".to_owned()],
                more: 0,
            },
            RunEvent::JobStarted { job: JobId(0) },
            RunEvent::JobStarted { job: JobId(0) },
            RunEvent::JobFinished {
                job: JobId(0),
                outcome: Outcome::Passed,
                exit: None,
            },
            RunEvent::JobStarted { job: JobId(1) },
            RunEvent::JobFinished {
                job: JobId(1),
                outcome: Outcome::Failed(FailReason::ExitCode { code: 2 }),
                exit: None,
            },
        ];
        for event in &events {
            reporter.on_event(at, event);
        }
        let mut told = Vec::new();
        while let Ok(status) = receiver.try_recv() {
            assert_eq!(status.run_id, 7);
            assert_eq!(status.message.commit, "c0ffee");
            assert_eq!(status.message.context, format!("pipekit/ci/{}", status.job));
            assert_eq!(
                status.message.target_url,
                format!("http://ci:8080/runs/7/jobs/{}", status.job)
            );
            told.push((status.job, status.message.status));
        }
        use JobStatus::*;
        let expected = [
            ("build", Pending),
            ("lint", Pending),
            ("build", Running),
            ("build", Passed),
            ("lint", Running),
            ("lint", Failed),
        ]
        .map(|(job, status)| (job.to_owned(), status));
        assert_eq!(told, expected);
    }
}
