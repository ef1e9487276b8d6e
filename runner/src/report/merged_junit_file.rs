//! A JUnit file a job wrote, merged into `junit.xml` as further `<testsuite>` elements.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::junit_log::sanitize;
use super::run_record::JobRecord;

/// The largest JUnit file of a job that is merged; test runners do not write bigger ones.
const JUNIT_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The suites of one JUnit file a job wrote, or a failed stand-in saying why it could not be used.
pub(super) fn merged_suites(job: &JobRecord, path: &Path) -> Vec<TestSuite> {
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
