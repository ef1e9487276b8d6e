//! `junit.xml`: one test case per job, plus the JUnit files the jobs wrote themselves.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::ReportError;
use super::run_record::{JobRecord, JobState, RunRecord};

/// How much of a job's log `<system-out>` holds: its end, where failures usually are.
const SYSTEM_OUT_BYTES: u64 = 64 * 1024;

/// How many log lines a `<failure>` repeats, so the reason is readable without the full output.
const FAILURE_TAIL_LINES: usize = 50;

/// How far past a cut the log tail may skip to start on a whole line.
const LINE_START_SEARCH_BYTES: usize = 4096;

/// The largest JUnit file of a job that is merged; test runners do not write bigger ones.
const JUNIT_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Renders the JUnit report of a finished run; `run_dir` is where the record's log paths start.
pub fn junit_report(record: &RunRecord, run_dir: &Path) -> Result<String, ReportError> {
    let pipeline = sanitize(&record.pipeline);
    let mut report = Report::new(pipeline.as_str());
    report.set_time(seconds(record.duration_seconds));

    let mut suite = TestSuite::new(pipeline.as_str());
    suite.set_time(seconds(record.duration_seconds));
    suite.add_property(Property::new("pipekit.run_id", sanitize(&record.run_id)));
    suite.add_property(Property::new(
        "pipekit.started_at",
        sanitize(&record.started_at),
    ));
    if let Some(commit) = &record.commit {
        suite.add_property(Property::new("pipekit.commit", sanitize(&commit.sha)));
        if let Some(branch) = &commit.branch {
            suite.add_property(Property::new("pipekit.branch", sanitize(branch)));
        }
        if let Some(dirty) = commit.dirty {
            suite.add_property(Property::new("pipekit.dirty", dirty.to_string()));
        }
        if commit.staged {
            suite.add_property(Property::new("pipekit.staged", "true"));
        }
    }
    for job in &record.jobs {
        let log = if job.log.is_empty() {
            String::new()
        } else {
            let path = run_dir.join(&job.log);
            read_log_tail(&path).map_err(|source| ReportError::ReadLog { path, source })?
        };
        suite.add_test_case(job_test_case(&pipeline, job, &log));
    }
    report.add_test_suite(suite);

    for job in &record.jobs {
        for file in &job.junit_files {
            report.add_test_suites(merged_suites(job, Path::new(file)));
        }
    }
    Ok(report.to_string()?)
}

fn job_test_case(pipeline: &str, job: &JobRecord, log: &str) -> TestCase {
    let reason = job.reason.as_deref().map(sanitize);
    let status = match job.state {
        JobState::Passed => TestCaseStatus::success(),
        JobState::Failed => {
            let message = reason.unwrap_or_else(|| match job.exit_code {
                Some(code) => format!("exited with code {code}"),
                None => "failed".to_owned(),
            });
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(message);
            if !log.is_empty() {
                status.set_description(last_lines(log, FAILURE_TAIL_LINES));
            }
            status
        }
        JobState::Skipped => skipped(reason.unwrap_or_else(|| "skipped".to_owned())),
        JobState::Cancelled => skipped(match reason {
            Some(reason) => format!("cancelled: {reason}"),
            None => "cancelled".to_owned(),
        }),
        // A record written after the run should not hold these; if one does, the job
        // never produced a verdict, which is what `skipped` means to a JUnit reader.
        JobState::Waiting => skipped("never started".to_owned()),
        JobState::Running => skipped("never finished".to_owned()),
    };
    let mut test_case = TestCase::new(sanitize(&job.name), status);
    test_case
        .set_classname(pipeline)
        .set_time(seconds(job.duration_seconds.unwrap_or(0.0)));
    if !log.is_empty() {
        test_case.set_system_out(log);
    }
    test_case
}

fn skipped(message: String) -> TestCaseStatus {
    let mut status = TestCaseStatus::skipped();
    status.set_message(message);
    status
}

/// The suites of one JUnit file a job wrote, or a failed stand-in saying why it could not be used.
fn merged_suites(job: &JobRecord, path: &Path) -> Vec<TestSuite> {
    let job_name = sanitize(&job.name);
    match read_junit_file(path) {
        Ok(report) => report
            .test_suites
            .into_iter()
            .map(|mut suite| {
                // The counts a foreign file declares may be missing or wrong; recount them.
                let test_cases = std::mem::take(&mut suite.test_cases);
                suite.tests = 0;
                suite.failures = 0;
                suite.errors = 0;
                suite.skipped = 0;
                suite.add_test_cases(test_cases);
                suite.add_property(Property::new("pipekit.job", job_name.as_str()));
                suite
            })
            .collect(),
        Err(problem) => {
            let file_name = path.file_name().map_or_else(
                || path.display().to_string(),
                |name| name.to_string_lossy().into_owned(),
            );
            let file_name = sanitize(&file_name);
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(sanitize(&format!(
                "`{}` is not valid JUnit: {problem}",
                path.display()
            )));
            let mut test_case = TestCase::new(file_name.as_str(), status);
            test_case.set_classname(job_name.as_str());
            let mut suite = TestSuite::new(format!("{job_name}: {file_name}"));
            suite.add_property(Property::new("pipekit.job", job_name.as_str()));
            suite.add_test_case(test_case);
            vec![suite]
        }
    }
}

/// Reads and parses a JUnit file; the error is a sentence fragment for the stand-in failure.
fn read_junit_file(path: &Path) -> Result<Report, String> {
    // Jobs (maybe in containers) wrote these files, so a symlink to a host file is not followed.
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|error| format!("it could not be read ({error})"))?;
    let metadata = file
        .metadata()
        .map_err(|error| format!("it could not be read ({error})"))?;
    if !metadata.is_file() {
        return Err("it is not a regular file".to_owned());
    }
    if metadata.len() > JUNIT_FILE_BYTES {
        return Err(format!("it is larger than {JUNIT_FILE_BYTES} bytes"));
    }
    let mut bytes = Vec::new();
    file.take(JUNIT_FILE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("it could not be read ({error})"))?;
    let text = String::from_utf8_lossy(&bytes);
    match Report::deserialize_from_str(&text) {
        Ok(report) => Ok(report),
        // pytest, Maven and others often write a lone `<testsuite>` as the root.
        Err(error) => Report::deserialize_from_str(&format!(
            "<testsuites>{}</testsuites>",
            without_xml_declaration(&text)
        ))
        .map_err(|_| error.to_string()),
    }
}

fn without_xml_declaration(text: &str) -> &str {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    match text
        .strip_prefix("<?xml")
        .and_then(|rest| rest.split_once("?>"))
    {
        Some((_, rest)) => rest,
        None => text,
    }
}

/// The end of a log, at most [`SYSTEM_OUT_BYTES`], sanitized; read from the end of the file
/// so a huge log costs no more than a small one. A missing log is an empty one.
fn read_log_tail(path: &Path) -> io::Result<String> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(String::new()),
        Err(error) => return Err(error),
    };
    let length = file.metadata()?.len();
    let start = length.saturating_sub(SYSTEM_OUT_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(SYSTEM_OUT_BYTES).read_to_end(&mut bytes)?;

    let mut truncated = start;
    if start > 0 {
        // Starting at a line keeps half an escape sequence or character out of the report.
        let search = &bytes[..bytes.len().min(LINE_START_SEARCH_BYTES)];
        if let Some(newline) = search.iter().position(|&byte| byte == b'\n') {
            bytes.drain(..=newline);
            truncated += newline as u64 + 1;
        }
    }
    let text = sanitize(&String::from_utf8_lossy(&bytes));
    if truncated == 0 {
        Ok(text)
    } else {
        Ok(format!("[... {truncated} bytes truncated ...]\n{text}"))
    }
}

/// The last `count` lines of `text`.
fn last_lines(text: &str, count: usize) -> &str {
    let body = text.strip_suffix('\n').unwrap_or(text);
    match body.rmatch_indices('\n').nth(count.saturating_sub(1)) {
        Some((index, _)) => &text[index + 1..],
        None => text,
    }
}

/// Removes ANSI escape sequences and the characters XML 1.0 cannot hold.
pub(crate) fn sanitize(text: &str) -> String {
    let mut clean = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            if is_xml_char(c) {
                clean.push(c);
            }
            continue;
        }
        match chars.next() {
            // CSI: parameter and intermediate bytes up to one final byte in `@`..=`~`.
            Some('[') => {
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
            // OSC (titles, hyperlinks): up to BEL or ESC `\`.
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' {
                        chars.next_if_eq(&'\\');
                        break;
                    }
                }
            }
            // Character set selection such as ESC ( B carries one more byte.
            Some('\u{20}'..='\u{2f}') => {
                chars.next();
            }
            // Any other ESC x is a two-character sequence, already consumed.
            _ => {}
        }
    }
    clean
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// Seconds as a `Duration`; negative or non-finite values (a clock gone wrong) become zero.
fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{RunStatus, SignalRecord};

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
        let hostile =
            "]]><x/>\n</system-out><x/><![CDATA[\n&amp;\u{0}\u{8}\u{b}\u{fffe}\u{ffff}end\n";
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
        let TestCaseStatus::NonSuccess { message, .. } =
            &parsed.test_suites[3].test_cases[0].status
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
}
