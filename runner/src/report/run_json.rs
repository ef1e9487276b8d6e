//! Writing `run.json` and `junit.xml` to disk.

use std::path::Path;

use super::ReportError;
use super::junit::junit_report;
use super::run_record::RunRecord;
use crate::secrets::Masker;
use crate::storage::{write_atomically, write_atomically_unsynced};

/// Writes `record` as pretty JSON to `path`, atomically, so a reader never sees half a record.
/// Synced: once it returns, the record survives a power cut.
pub fn write_run_json(record: &RunRecord, path: &Path) -> Result<(), ReportError> {
    let json = run_json_bytes(record)?;
    write_atomically(path, &json).map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

/// The record a run starts with, so that even a run killed outright leaves one. Not
/// synced (see [`write_atomically_unsynced`]): a killed process loses nothing by that, and
/// the run's end replaces it with a synced one.
pub fn write_first_run_json(record: &RunRecord, path: &Path) -> Result<(), ReportError> {
    let json = run_json_bytes(record)?;
    write_atomically_unsynced(path, &json).map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

fn run_json_bytes(record: &RunRecord) -> Result<Vec<u8>, ReportError> {
    let mut json = serde_json::to_vec_pretty(record)?;
    json.push(b'\n');
    Ok(json)
}

/// Writes the JUnit report to `path`, atomically, creating its folder (for `--junit PATH`).
/// `masker` (see [`Masker::with_xml_escapes`]) masks the secrets in the finished XML, which
/// covers the JUnit files jobs wrote as well as pipekit-ci's own test cases.
pub fn write_junit(
    record: &RunRecord,
    run_dir: &Path,
    path: &Path,
    masker: &Masker,
) -> Result<(), ReportError> {
    let xml = junit_report(record, run_dir)?;
    let xml = masker.mask(&xml);
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|source| ReportError::Write {
            path: parent.to_owned(),
            source,
        })?;
    }
    write_atomically(path, xml.as_bytes()).map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{JobRecord, JobState, RunStatus, SignalRecord};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn record() -> RunRecord {
        RunRecord {
            run_id: "20261122-001500-123-abcd".to_owned(),
            pipeline: "ci".to_owned(),
            pipeline_file: "pipekit.yml".to_owned(),
            started_at: "2026-11-22T00:15:00.123Z".to_owned(),
            duration_seconds: 1.5,
            status: RunStatus::Passed,
            commit: None,
            jobs: vec![JobRecord {
                name: "build".to_owned(),
                state: JobState::Passed,
                exit_code: Some(0),
                started_after_seconds: Some(0.0),
                duration_seconds: Some(1.5),
                reason: None,
                signals: vec![SignalRecord {
                    name: "ready".to_owned(),
                    fired_after_seconds: Some(0.25),
                }],
                log: "logs/build.log".to_owned(),
                artifact: Some("artifacts/build.tar.zst".to_owned()),
                junit_files: Vec::new(),
            }],
        }
    }

    #[test]
    fn run_json_reads_back_as_the_same_record() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("run.json");
        write_run_json(&record(), &path)?;

        let text = std::fs::read_to_string(&path)?;
        assert!(text.contains("\n  \"run_id\": \"20261122-001500-123-abcd\""));
        assert!(text.contains("\"state\": \"passed\""));
        assert_eq!(serde_json::from_str::<RunRecord>(&text)?, record());
        // The first record, unsynced, is the same file the synced one replaces.
        write_first_run_json(&record(), &path)?;
        assert_eq!(std::fs::read_to_string(&path)?, text);
        Ok(())
    }

    #[test]
    fn junit_goes_where_asked_creating_folders() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("reports/nested/junit.xml");
        write_junit(&record(), dir.path(), &path, &Masker::default())?;
        let xml = std::fs::read_to_string(&path)?;
        assert!(
            xml.contains("<testcase name=\"build\" classname=\"ci\""),
            "{xml}"
        );
        Ok(())
    }

    #[test]
    fn unwritable_destinations_name_the_path() -> TestResult {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("file"), "")?;
        let path = dir.path().join("file/run.json");
        let expected = Err(format!("failed to write `{}`", path.display()));
        let message = write_run_json(&record(), &path).map_err(|error| error.to_string());
        assert_eq!(message, expected);
        let message = write_first_run_json(&record(), &path).map_err(|error| error.to_string());
        assert_eq!(message, expected);
        Ok(())
    }
}
