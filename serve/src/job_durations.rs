//! How long jobs ran, as a Prometheus histogram by final state (`/metrics`). Counted in
//! memory as each run ends, from its `events.jsonl`: a restart starts the counts again,
//! which Prometheus' `rate()` and `increase()` take in their stride (counters may reset).

use crate::run_facts::RunFacts;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, PoisonError};

/// Upper bounds of the buckets, in seconds: from a quick check to an hour-long suite.
const BUCKETS: [f64; 11] = [
    1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0,
];

/// The histogram of one final state.
#[derive(Debug, Clone, Default, PartialEq)]
struct Histogram {
    /// Per bucket of [`BUCKETS`], the jobs that took at most its bound (not cumulative).
    in_bucket: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Job durations by final state (`passed`, `failed`, `cancelled`).
#[derive(Debug, Default)]
pub struct JobDurations {
    by_state: Mutex<BTreeMap<&'static str, Histogram>>,
}

impl JobDurations {
    /// Counts every job of a run that ended which started and finished; a job that never
    /// ran (skipped) has no duration.
    pub fn count_run(&self, facts: &RunFacts) {
        let mut by_state = self.by_state.lock().unwrap_or_else(PoisonError::into_inner);
        for job in &facts.jobs {
            let (Some(started), Some(finished)) = (job.started, job.finished) else {
                continue;
            };
            let seconds = finished.seconds_since(started).max(0.0);
            let histogram = by_state.entry(job.state).or_default();
            if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
                histogram.in_bucket[bucket] += 1;
            }
            histogram.count += 1;
            histogram.sum += seconds;
        }
    }

    /// `pipekit_job_duration_seconds` in the Prometheus text format.
    pub fn render(&self, text: &mut String) {
        let by_state = self.by_state.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = writeln!(
            text,
            "# HELP pipekit_job_duration_seconds How long jobs ran, by final state, counted \
             as runs end since the server started."
        );
        let _ = writeln!(text, "# TYPE pipekit_job_duration_seconds histogram");
        for (state, histogram) in by_state.iter() {
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(histogram.in_bucket) {
                cumulative += count;
                let _ = writeln!(
                    text,
                    "pipekit_job_duration_seconds_bucket{{state=\"{state}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                text,
                "pipekit_job_duration_seconds_bucket{{state=\"{state}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                text,
                "pipekit_job_duration_seconds_sum{{state=\"{state}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                text,
                "pipekit_job_duration_seconds_count{{state=\"{state}\"}} {}",
                histogram.count
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_facts::JobFacts;
    use pipekit_runner::run::Timestamp;

    fn job(state: &'static str, ran: Option<(&str, &str)>) -> JobFacts {
        let at = |text| Timestamp::parse(text).expect("a time");
        JobFacts {
            name: state.to_owned(),
            depends_on: Vec::new(),
            state,
            waiting_since: None,
            waits_on: Vec::new(),
            started: ran.map(|(start, _)| at(start)),
            finished: ran.map(|(_, end)| at(end)),
            exit_code: None,
            reason: None,
            signals: Vec::new(),
            artifact_bytes: None,
        }
    }

    #[test]
    fn jobs_that_ran_are_counted_in_cumulative_buckets_by_state() {
        let durations = JobDurations::default();
        let facts = RunFacts {
            jobs: vec![
                job(
                    "passed",
                    Some(("2026-12-04T00:00:00.000Z", "2026-12-04T00:00:00.500Z")),
                ),
                job(
                    "failed",
                    Some(("2026-12-04T00:00:00.000Z", "2026-12-04T00:00:45.000Z")),
                ),
                job("skipped", None),
            ],
            ..RunFacts::default()
        };
        durations.count_run(&facts);
        durations.count_run(&RunFacts {
            jobs: vec![job(
                "failed",
                Some(("2026-12-04T00:00:00.000Z", "2026-12-04T02:00:00.000Z")),
            )],
            ..RunFacts::default()
        });
        let mut text = String::new();
        durations.render(&mut text);
        for line in [
            "pipekit_job_duration_seconds_bucket{state=\"passed\",le=\"1\"} 1",
            "pipekit_job_duration_seconds_bucket{state=\"failed\",le=\"30\"} 0",
            "pipekit_job_duration_seconds_bucket{state=\"failed\",le=\"60\"} 1",
            "pipekit_job_duration_seconds_bucket{state=\"failed\",le=\"3600\"} 1",
            "pipekit_job_duration_seconds_bucket{state=\"failed\",le=\"+Inf\"} 2",
            "pipekit_job_duration_seconds_sum{state=\"failed\"} 7245",
            "pipekit_job_duration_seconds_count{state=\"failed\"} 2",
        ] {
            assert!(text.lines().any(|got| got == line), "{line} in\n{text}");
        }
        assert!(!text.contains("skipped"), "{text}");
    }
}
