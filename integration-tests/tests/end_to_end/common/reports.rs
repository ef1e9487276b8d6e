//! Reading what a run leaves behind: `run.json`, `junit.xml`, diagnostics.

use quick_junit::{Report, TestCase, TestSuite};
use serde_json::Value;
use std::path::Path;

/// A parsed `run.json`.
pub struct RunJson(Value);

impl RunJson {
    pub fn read(run_dir: &Path) -> Self {
        let path = run_dir.join("run.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        Self(
            serde_json::from_str(&text)
                .unwrap_or_else(|error| panic!("run.json is not JSON: {error}\n{text}")),
        )
    }

    pub fn value(&self) -> &Value {
        &self.0
    }

    pub fn status(&self) -> &str {
        self.0["status"]
            .as_str()
            .unwrap_or_else(|| panic!("run.json has no status: {}", self.0))
    }

    pub fn jobs(&self) -> &[Value] {
        self.0["jobs"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_else(|| panic!("run.json has no jobs: {}", self.0))
    }

    #[track_caller]
    pub fn job(&self, name: &str) -> &Value {
        self.jobs()
            .iter()
            .find(|job| job["name"] == name)
            .unwrap_or_else(|| panic!("no job `{name}` in run.json: {:#}", self.0))
    }

    #[track_caller]
    pub fn state(&self, name: &str) -> &str {
        self.job(name)["state"]
            .as_str()
            .unwrap_or_else(|| panic!("job `{name}` has no state"))
    }

    /// The job's reason, or "" when it has none.
    #[track_caller]
    pub fn reason(&self, name: &str) -> &str {
        self.job(name)["reason"].as_str().unwrap_or_default()
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

    #[track_caller]
    pub fn seconds(&self, name: &str, field: &str) -> f64 {
        self.job(name)[field]
            .as_f64()
            .unwrap_or_else(|| panic!("job `{name}` has no `{field}`: {}", self.job(name)))
    }

    /// Fails the test unless every job is in the state given for it.
    #[track_caller]
    pub fn assert_states(&self, expected: &[(&str, &str)]) {
        let actual: Vec<(String, String)> = expected
            .iter()
            .map(|(name, _)| (name.to_string(), self.state(name).to_string()))
            .collect();
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(name, state)| (name.to_string(), state.to_string()))
            .collect();
        assert_eq!(actual, expected, "job states; run.json:\n{:#}", self.0);
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
