//! Reading what a run leaves behind: `run.json`, `junit.xml`, diagnostics.

use quick_junit::{Report, TestCase, TestSuite};
use serde::Deserialize;
use std::path::Path;

/// `run.json` as a reader outside pipekit-ci sees it: a mirror of the file's fields, kept
/// apart from the runner's own `RunRecord` on purpose, so that a field renamed or retyped
/// there fails these tests instead of changing both sides of the contract at once.
#[expect(
    dead_code,
    reason = "every field is read from the file, so a missing or retyped one fails the test"
)]
#[derive(Debug, Deserialize)]
pub struct RunJson {
    pub run_id: String,
    pub pipeline: String,
    pub pipeline_file: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_seconds: f64,
    pub status: RunStatus,
    /// Absent outside a git repository.
    #[serde(default)]
    pub commit: Option<CommitJson>,
    pub jobs: Vec<JobJson>,
}

/// `status` of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Passed,
    Failed,
    Interrupted,
    Errored,
}

/// `commit` of the run.
#[expect(
    dead_code,
    reason = "every field is read from the file, so a missing or retyped one fails the test"
)]
#[derive(Debug, Deserialize)]
pub struct CommitJson {
    pub sha: String,
    pub branch: Option<String>,
    pub message: String,
    pub author: String,
    /// Only for a run of the working tree.
    pub dirty: Option<bool>,
    pub staged: bool,
}

/// One entry of `jobs`.
#[expect(
    dead_code,
    reason = "every field is read from the file, so a missing or retyped one fails the test"
)]
#[derive(Debug, Deserialize)]
pub struct JobJson {
    pub name: String,
    pub state: JobState,
    pub exit_code: Option<i32>,
    pub started_after_seconds: Option<f64>,
    pub duration_seconds: Option<f64>,
    pub reason: Option<String>,
    pub signals: Vec<SignalJson>,
    /// Relative to the run folder.
    pub log: String,
    /// Relative to the run folder.
    pub artifact: Option<String>,
    pub junit_files: Vec<String>,
}

/// `state` of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Waiting,
    Running,
    Passed,
    Failed,
    Skipped,
    Cancelled,
}

/// One entry of a job's `signals`.
#[expect(
    dead_code,
    reason = "every field is read from the file, so a missing or retyped one fails the test"
)]
#[derive(Debug, Deserialize)]
pub struct SignalJson {
    pub name: String,
    pub fired_after_seconds: Option<f64>,
}

impl RunJson {
    pub fn read(run_dir: &Path) -> Self {
        let path = run_dir.join("run.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|error| {
            panic!("run.json does not read as a run record: {error}\n{text}")
        })
    }

    #[track_caller]
    pub fn job(&self, name: &str) -> &JobJson {
        self.jobs
            .iter()
            .find(|job| job.name == name)
            .unwrap_or_else(|| panic!("no job `{name}` in run.json: {self:#?}"))
    }

    #[track_caller]
    pub fn state(&self, name: &str) -> JobState {
        self.job(name).state
    }

    /// The job's reason, or "" when it has none.
    #[track_caller]
    pub fn reason(&self, name: &str) -> &str {
        self.job(name).reason.as_deref().unwrap_or_default()
    }

    /// Fails unless the job's recorded reason contains every one of `needles`.
    #[track_caller]
    pub fn assert_reason_contains(&self, name: &str, needles: &[&str]) {
        let reason = self.reason(name);
        for needle in needles {
            assert!(
                reason.contains(needle),
                "reason of `{name}` lacks `{needle}`: {reason:?}"
            );
        }
    }

    /// Fails the test unless every job is in the state given for it.
    #[track_caller]
    pub fn assert_states(&self, expected: &[(&str, JobState)]) {
        let actual: Vec<(&str, JobState)> = expected
            .iter()
            .map(|(name, _)| (*name, self.state(name)))
            .collect();
        assert_eq!(actual, expected, "job states; run.json:\n{self:#?}");
    }
}

impl JobJson {
    /// Seconds from the run's start to the job's start; fails unless it started.
    #[track_caller]
    pub fn started_after(&self) -> f64 {
        self.started_after_seconds
            .unwrap_or_else(|| panic!("job `{}` never started: {self:#?}", self.name))
    }

    /// The job's wall time; fails unless it ran.
    #[track_caller]
    pub fn duration(&self) -> f64 {
        self.duration_seconds
            .unwrap_or_else(|| panic!("job `{}` has no duration: {self:#?}", self.name))
    }

    /// Seconds from the run's start to the job's end.
    #[track_caller]
    pub fn ended_after(&self) -> f64 {
        self.started_after() + self.duration()
    }

    /// Seconds from the job's start to the firing of its `index`th signal; fails unless it
    /// fired.
    #[track_caller]
    pub fn signal_fired_after(&self, index: usize) -> f64 {
        self.signals
            .get(index)
            .and_then(|signal| signal.fired_after_seconds)
            .unwrap_or_else(|| panic!("signal {index} of `{}` never fired: {self:#?}", self.name))
    }
}

/// Parses a JUnit file.
pub fn parse_junit(path: &Path) -> Report {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    Report::deserialize_from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not JUnit: {error}\n{text}", path.display()))
}

/// The `<testsuite>` named after the pipeline.
#[track_caller]
pub fn pipeline_suite<'r>(report: &'r Report, pipeline: &str) -> &'r TestSuite {
    report
        .test_suites
        .iter()
        .find(|suite| suite.name.as_str() == pipeline)
        .unwrap_or_else(|| panic!("no testsuite `{pipeline}` in {report:#?}"))
}

#[track_caller]
pub fn find_test_case<'s>(suite: &'s TestSuite, name: &str) -> &'s TestCase {
    suite
        .test_cases
        .iter()
        .find(|case| case.name.as_str() == name)
        .unwrap_or_else(|| panic!("no testcase `{name}` in suite `{}`", suite.name.as_str()))
}

/// Every `file:line:column` of `file` in `text`, as (line, column).
pub fn locations_in(text: &str, file: &str) -> Vec<(u32, u32)> {
    let needle = format!("{file}:");
    let mut found = Vec::new();
    for (start, _) in text.match_indices(&needle) {
        let rest = &text[start + needle.len()..];
        let mut numbers = rest.splitn(3, ':');
        let line = numbers.next().and_then(|n| n.parse::<u32>().ok());
        let column = numbers.next().map(|n| {
            n.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        });
        if let (Some(line), Some(Ok(column))) = (line, column.map(|c| c.parse::<u32>())) {
            found.push((line, column));
        }
    }
    found
}
