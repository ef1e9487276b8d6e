//! Tests of `junit.xml`: job states, hostile logs, long logs, merged files.

use super::*;
use crate::report::junit_log::SYSTEM_OUT_BYTES;
use crate::report::{RunStatus, SignalRecord};
use std::io;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn job(name: &str, state: JobState, reason: Option<&str>, duration: Option<f64>) -> JobRecord {
    JobRecord {
        name: name.to_owned(),
        state,
        exit_code: None,
        started_after_seconds: duration.map(|_| 0.5),
        duration_seconds: duration,
        reason: reason.map(str::to_owned),
        signals: Vec::new(),
        log: format!("logs/{name}.log"),
        artifact: None,
        junit_files: Vec::new(),
    }
}

fn record(jobs: Vec<JobRecord>) -> RunRecord {
    RunRecord {
        run_id: "20261122-001500-123-abcd".to_owned(),
        pipeline: "ci".to_owned(),
        pipeline_file: "pipekit.yml".to_owned(),
        started_at: "2026-11-22T00:15:00.123Z".to_owned(),
        duration_seconds: 42.25,
        status: RunStatus::Failed,
        commit: None,
        jobs,
    }
}

fn write_log(run_dir: &Path, job: &str, text: &str) -> io::Result<()> {
    std::fs::create_dir_all(run_dir.join("logs"))?;
    std::fs::write(run_dir.join(format!("logs/{job}.log")), text)
}

#[test]
fn every_job_state_maps_to_a_test_case() -> TestResult {
    let run_dir = tempfile::tempdir()?;
    write_log(
        run_dir.path(),
        "build",
        "\u{1b}[32mCompiling\u{1b}[0m pipekit\nFinished\n",
    )?;
    let test_log: String = (1..=60).map(|line| format!("test line {line}\n")).collect();
    write_log(run_dir.path(), "test", &test_log)?;
    write_log(
        run_dir.path(),
        "database",
        "\u{1b}]0;title\u{7}Database is ready\n",
    )?;
    let mut build = job("build", JobState::Passed, None, Some(12.5));
    build.exit_code = Some(0);
    build.signals.push(SignalRecord {
        name: "ready".to_owned(),
        fired_after_seconds: Some(1.0),
    });
    let mut test = job(
        "test",
        JobState::Failed,
        Some("exited with code 2"),
        Some(3.0),
    );
    test.exit_code = Some(2);
    let jobs = vec![
        build,
        test,
        job(
            "deploy",
            JobState::Skipped,
            Some("`test.ExitCode(0)` can no longer hold: `test` exited with code 2"),
            None,
        ),
        job(
            "database",
            JobState::Cancelled,
            Some("interrupted"),
            Some(20.0),
        ),
        job(
            "lint",
            JobState::Failed,
            Some("signal `ready` timed out after 30s"),
            Some(30.0),
        ),
    ];

    let xml = junit_report(&record(jobs), run_dir.path())?;
    insta::assert_snapshot!(xml);
    Ok(())
}

#[test]
fn log_output_cannot_inject_elements() -> TestResult {
    let run_dir = tempfile::tempdir()?;
    let hostile = "]]><x/>\n</system-out><x/><![CDATA[\n&amp;\u{0}\u{8}\u{b}\u{fffe}\u{ffff}end\n";
    write_log(run_dir.path(), "test", hostile)?;
    let mut test = job(
        "test</testcase><x/>",
        JobState::Failed,
        Some("\"><x/>"),
        Some(1.0),
    );
    test.log = "logs/test.log".to_owned();

    let xml = junit_report(&record(vec![test]), run_dir.path())?;

    assert!(!xml.contains("<x/>"), "{xml}");
    let parsed = Report::deserialize_from_str(&xml)?;
    assert_eq!(parsed.test_suites.len(), 1);
    let cases = &parsed.test_suites[0].test_cases;
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].name.as_str(), "test</testcase><x/>");
    let system_out = cases[0].system_out.as_ref().map(|out| out.as_str());
    assert_eq!(
        system_out,
        Some("]]><x/>\n</system-out><x/><![CDATA[\n&amp;end")
    );
    Ok(())
}

#[test]
fn long_logs_keep_their_end() -> TestResult {
    let run_dir = tempfile::tempdir()?;
    let lines: String = (0..20_000)
        .map(|line| format!("line {line:06}\n"))
        .collect();
    write_log(run_dir.path(), "build", &lines)?;
    let build = job(
        "build",
        JobState::Failed,
        Some("exited with code 1"),
        Some(1.0),
    );

    let tail = read_log_tail(&run_dir.path().join("logs/build.log"))?;
    let (marker, kept) = tail.split_once('\n').ok_or("no marker line")?;
    let truncated = lines.len() - kept.len();
    assert_eq!(marker, format!("[... {truncated} bytes truncated ...]"));
    assert!(kept.len() <= SYSTEM_OUT_BYTES as usize);
    assert!(kept.starts_with("line "), "cut mid-line: {:?}", &kept[..20]);
    assert!(kept.ends_with("line 019999\n"));

    let xml = junit_report(&record(vec![build]), run_dir.path())?;
    let parsed = Report::deserialize_from_str(&xml)?;
    let case = &parsed.test_suites[0].test_cases[0];
    let TestCaseStatus::NonSuccess { description, .. } = &case.status else {
        return Err("expected a failure".into());
    };
    let description = description.as_ref().map_or("", |text| text.as_str());
    assert_eq!(description.lines().count(), FAILURE_TAIL_LINES);
    assert!(description.starts_with("line 019950\n"));
    Ok(())
}

#[test]
fn a_job_without_a_log_file_has_no_output() -> TestResult {
    let run_dir = tempfile::tempdir()?;
    let deploy = job("deploy", JobState::Skipped, Some("`test` failed"), None);
    let xml = junit_report(&record(vec![deploy]), run_dir.path())?;
    assert!(!xml.contains("system-out"), "{xml}");
    assert!(xml.contains("time=\"0.000\""), "{xml}");
    Ok(())
}

#[test]
fn junit_files_of_jobs_are_merged() -> TestResult {
    let run_dir = tempfile::tempdir()?;
    let reports = run_dir.path().join("reports");
    std::fs::create_dir_all(&reports)?;
    std::fs::write(
        reports.join("unit.xml"),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="unit" tests="0"><testcase name="adds" classname="math"/>
<testcase name="divides" classname="math"><failure message="by zero"/></testcase></testsuite></testsuites>"#,
    )?;
    std::fs::write(
        reports.join("pytest.xml"),
        r#"<?xml version="1.0"?><testsuite name="pytest"><testcase name="test_ok"/></testsuite>"#,
    )?;
    std::fs::write(reports.join("broken.xml"), "<testsuites><testsuite")?;
    let mut test = job("test", JobState::Passed, None, Some(2.0));
    test.junit_files = ["unit.xml", "pytest.xml", "broken.xml", "missing.xml"]
        .iter()
        .map(|name| reports.join(name).display().to_string())
        .collect();

    let xml = junit_report(&record(vec![test]), run_dir.path())?;
    let parsed = Report::deserialize_from_str(&xml)?;

    let suites: Vec<(&str, usize, usize)> = parsed
        .test_suites
        .iter()
        .map(|suite| (suite.name.as_str(), suite.tests, suite.failures))
        .collect();
    assert_eq!(
        suites,
        [
            ("ci", 1, 0),
            ("unit", 2, 1),
            ("pytest", 1, 0),
            ("test: broken.xml", 1, 1),
            ("test: missing.xml", 1, 1),
        ]
    );
    assert_eq!((parsed.tests, parsed.failures), (6, 3));
    let TestCaseStatus::NonSuccess { message, .. } = &parsed.test_suites[3].test_cases[0].status
    else {
        return Err("expected a failure".into());
    };
    let message = message.as_ref().map_or("", |message| message.as_str());
    assert!(
        message.contains("broken.xml` is not valid JUnit"),
        "{message}"
    );
    Ok(())
}

#[test]
fn sanitize_strips_escapes_and_invalid_characters() {
    let cases = [
        ("plain\ttext\r\n", "plain\ttext\r\n"),
        ("\u{1b}[1;31mred\u{1b}[0m", "red"),
        ("\u{1b}[2K\u{1b}[1Gprogress", "progress"),
        (
            "\u{1b}]8;;https://example.invalid\u{1b}\\link\u{1b}]8;;\u{1b}\\",
            "link",
        ),
        ("\u{1b}]0;title\u{7}after", "after"),
        ("\u{1b}(Bcharset", "charset"),
        ("\u{1b}7saved\u{1b}8", "saved"),
        ("nul\u{0}bell\u{7}vt\u{b}", "nulbellvt"),
        ("\u{fffe}\u{ffff}ok\u{fffd}", "ok\u{fffd}"),
        ("emoji 🚀", "emoji 🚀"),
        ("dangling \u{1b}", "dangling "),
    ];
    for (input, expected) in cases {
        assert_eq!(sanitize(input), expected, "{input:?}");
    }
}

#[test]
fn a_reused_job_passes_with_its_reason_as_a_property() -> TestResult {
    let run_dir = tempfile::tempdir()?;
    let reused = job(
        "build",
        JobState::Passed,
        Some("reused from run 20261204-040000-000-abcd"),
        None,
    );
    let xml = junit_report(&record(vec![reused]), run_dir.path())?;
    assert!(
        xml.contains(
            r#"<property name="pipekit.reason" value="reused from run 20261204-040000-000-abcd"/>"#
        ),
        "{xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");
    Ok(())
}
