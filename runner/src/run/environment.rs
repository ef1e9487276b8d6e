//! The environment and command line a job starts with (spec section 4).

use crate::storage::{EnvFileError, read_env_file};
use pipekit_schema::{Command, Job, Pipeline};
use std::collections::BTreeMap;
use std::path::Path;

/// Why a job's environment could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    /// `env_file:` of the job (the source names the file).
    #[error("bad env_file: {source}")]
    EnvFile { source: EnvFileError },
    /// `shared/<job>/.env`, written by other jobs (the source names the file).
    #[error("bad `.env` handed to this job: {source}")]
    SharedEnv { source: EnvFileError },
}

/// Where a job runs, for its `PIPEKIT_*` variables.
#[derive(Debug, Clone)]
pub struct JobPlaces<'a> {
    pub run_id: &'a str,
    /// As the job sees them: host paths, or the mount points in a container.
    pub shared_root: &'a Path,
    pub workspace: &'a Path,
    /// Directory of the pipeline file: `env_file` paths are relative to it, as in Compose.
    pub pipeline_dir: &'a Path,
    /// `shared/<job>/.env`, written by other jobs.
    pub shared_env_file: &'a Path,
    /// Set by pipekit-ci for every job and not overridable (`PIPEKIT_COMMIT`, ...).
    pub run_variables: &'a [(String, String)],
}

/// The full environment of a job, lowest precedence first: pipekit-ci's own
/// environment, the pipeline's `env`, `env_file`s, the job's `environment`, the `.env`
/// other jobs handed it in shared storage, and the `PIPEKIT_*` variables.
///
/// A container does not inherit pipekit-ci's environment (`inherit_host` false), as in
/// Compose; `- KEY` still takes `KEY` from it.
pub fn job_environment(
    pipeline: &Pipeline,
    job: &Job,
    places: &JobPlaces<'_>,
    host: &BTreeMap<String, String>,
    inherit_host: bool,
) -> Result<Vec<(String, String)>, EnvironmentError> {
    let mut env: BTreeMap<String, String> = if inherit_host {
        host.clone()
    } else {
        BTreeMap::new()
    };
    env.extend(pipeline.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    for file in &job.env_files {
        let path = places.pipeline_dir.join(file);
        let pairs = read_env_file(&path).map_err(|source| EnvironmentError::EnvFile { source })?;
        env.extend(pairs);
    }
    for (key, value) in &job.environment {
        match value {
            Some(value) => {
                env.insert(key.clone(), value.clone());
            }
            // `- KEY` without a value: taken from pipekit-ci's environment, as in Compose.
            None => match host.get(key) {
                Some(value) => {
                    env.insert(key.clone(), value.clone());
                }
                None => {
                    env.remove(key);
                }
            },
        }
    }
    let handed = read_env_file(places.shared_env_file)
        .map_err(|source| EnvironmentError::SharedEnv { source })?;
    env.extend(handed);
    let path = |p: &Path| p.display().to_string();
    for (key, value) in [
        ("CI", "true".to_string()),
        ("PIPEKIT", "true".to_string()),
        ("PIPEKIT_JOB", job.name.clone()),
        ("PIPEKIT_RUN_ID", places.run_id.to_string()),
        ("PIPEKIT_SHARED", path(places.shared_root)),
        ("PIPEKIT_WORKSPACE", path(places.workspace)),
    ] {
        env.insert(key.to_string(), value);
    }
    // A run inside another run's job (pipekit-ci testing itself) must not pass on the
    // outer run's commit when its own has none.
    for key in COMMIT_VARIABLES {
        env.remove(key);
    }
    env.extend(places.run_variables.iter().cloned());
    Ok(env.into_iter().collect())
}

/// Set by pipekit-ci from the tested commit, never inherited.
const COMMIT_VARIABLES: [&str; 4] = [
    "PIPEKIT_COMMIT",
    "PIPEKIT_BRANCH",
    "PIPEKIT_COMMIT_MESSAGE",
    "PIPEKIT_AUTHOR",
];

/// Program and arguments: a string `command` runs under `sh -c`, a list is exec form.
pub fn argv_of(command: Option<&Command>) -> Vec<String> {
    match command {
        Some(Command::Shell(script)) => vec!["sh".into(), "-c".into(), script.clone()],
        Some(Command::Exec(argv)) => argv.clone(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_from_host_to_pipekit_variables() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shared_env = dir.path().join(".env");
        std::fs::write(&shared_env, "PASSWORD=s3cret\nLEVEL=handed\n").expect("write .env");
        let mut job = Job {
            name: "db".into(),
            ..Job::default()
        };
        job.environment.insert("LEVEL".into(), Some("job".into()));
        job.environment.insert("FROM_HOST".into(), None);
        job.environment.insert("ABSENT".into(), None);
        let mut pipeline = Pipeline {
            triggers: None,
            secrets: Default::default(),
            name: "p".into(),
            env: BTreeMap::new(),
            jobs: vec![],
        };
        pipeline.env.insert("LEVEL".into(), "pipeline".into());
        pipeline.env.insert("RUST_LOG".into(), "info".into());
        let places = JobPlaces {
            run_id: "r1",
            shared_root: dir.path(),
            workspace: dir.path(),
            pipeline_dir: dir.path(),
            shared_env_file: &shared_env,
            run_variables: &[("PIPEKIT_COMMIT".to_string(), "abc".to_string())],
        };
        let host: BTreeMap<String, String> = [
            ("FROM_HOST", "h"),
            ("CI", "false"),
            ("ABSENT", "x"),
            ("HOME", "/root"),
            ("PIPEKIT_AUTHOR", "an outer run's"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
        let env: BTreeMap<_, _> = job_environment(&pipeline, &job, &places, &host, true)
            .expect("environment")
            .into_iter()
            .collect();
        let in_container: BTreeMap<_, _> = job_environment(&pipeline, &job, &places, &host, false)
            .expect("environment")
            .into_iter()
            .collect();
        assert!(
            !in_container.contains_key("HOME"),
            "a container inherits nothing"
        );
        assert_eq!(
            in_container["FROM_HOST"], "h",
            "`- KEY` still reads the host"
        );
        assert_eq!(env["LEVEL"], "handed");
        assert_eq!(env["PASSWORD"], "s3cret");
        assert_eq!(env["RUST_LOG"], "info");
        assert_eq!(env["FROM_HOST"], "h");
        assert_eq!(env["CI"], "true");
        assert_eq!(env["PIPEKIT_JOB"], "db");
        assert_eq!(env["PIPEKIT_RUN_ID"], "r1");
        assert_eq!(env["PIPEKIT_COMMIT"], "abc");
        assert!(
            !env.contains_key("PIPEKIT_AUTHOR"),
            "an outer run's commit variables are not inherited"
        );
        assert!(
            env.contains_key("ABSENT"),
            "inherited, and `- ABSENT` keeps the host value"
        );
    }

    #[test]
    fn command_forms() {
        assert_eq!(
            argv_of(Some(&Command::Shell("echo hi".into()))),
            ["sh", "-c", "echo hi"]
        );
        assert_eq!(argv_of(Some(&Command::Exec(vec!["true".into()]))), ["true"]);
        assert!(argv_of(None).is_empty());
    }
}
