//! What a `junit.xml` says in numbers, and which tests failed: for pages that show a run's
//! failures first.

use quick_junit::{Report, TestCaseStatus};
use serde::Serialize;

/// The failures shown of one report at most; the counts still count all of them.
const MAX_FAILURES: usize = 200;

/// The test cases of a report, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TestTally {
    pub passed: u64,
    /// Failures and errors.
    pub failed: u64,
    pub skipped: u64,
    /// The first failed cases, in the report's order.
    pub failures: Vec<TestFailure>,
}

/// One failed test case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestFailure {
    pub suite: String,
    pub name: String,
    pub message: Option<String>,
}

/// Counts the test cases of `xml` (a report pipekit-ci wrote); `None` if it is not JUnit.
pub fn junit_tally(xml: &str) -> Option<TestTally> {
    let report = Report::deserialize_from_str(xml).ok()?;
    let mut tally = TestTally::default();
    for suite in &report.test_suites {
        for case in &suite.test_cases {
            match &case.status {
                TestCaseStatus::Success { .. } => tally.passed += 1,
                TestCaseStatus::Skipped { .. } => tally.skipped += 1,
                TestCaseStatus::NonSuccess { message, .. } => {
                    tally.failed += 1;
                    if tally.failures.len() < MAX_FAILURES {
                        tally.failures.push(TestFailure {
                            suite: suite.name.as_str().to_owned(),
                            name: case.name.as_str().to_owned(),
                            message: message.as_ref().map(|text| text.as_str().to_owned()),
                        });
                    }
                }
            }
        }
    }
    Some(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_counted_with_its_failures() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="p" tests="4" failures="1" errors="1" skipped="1">
  <testsuite name="jobs" tests="4" failures="1" errors="1" skipped="1">
    <testcase name="build"/>
    <testcase name="lint"><skipped/></testcase>
    <testcase name="test"><failure message="exit code 1"/></testcase>
    <testcase name="deploy"><error message="never started"/></testcase>
  </testsuite>
</testsuites>"#;
        let tally = junit_tally(xml).expect("a report");
        assert_eq!((tally.passed, tally.failed, tally.skipped), (1, 2, 1));
        assert_eq!(tally.failures[0].name, "test");
        assert_eq!(tally.failures[0].message.as_deref(), Some("exit code 1"));
        assert_eq!(tally.failures[1].suite, "jobs");
        assert_eq!(junit_tally("not xml"), None);
    }
}
