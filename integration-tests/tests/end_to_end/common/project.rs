//! A pipeline in a temp dir, and running `pipekit-ci` on it with a time limit.

use super::binary::binary;
use super::reports::RunJson;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::cell::Cell;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The longest any single `pipekit-ci` invocation may take before the test fails.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// A directory holding a pipeline file, where `pipekit-ci` runs.
pub struct Project {
    dir: TempDir,
    /// Captured stdout/stderr of each invocation; outside `dir` so a run never sees them.
    outputs: TempDir,
    invocations: Cell<u32>,
}

impl Project {
    /// A temp dir with `pipekit.yml` holding `pipeline`.
    pub fn new(pipeline: &str) -> Self {
        let project = Self::empty();
        project.write("pipekit.yml", pipeline);
        project
    }

    /// A temp dir with nothing in it.
    pub fn empty() -> Self {
        Self {
            dir: tempfile::tempdir().expect("cannot create a temp dir"),
            outputs: tempfile::tempdir().expect("cannot create a temp dir"),
            invocations: Cell::new(0),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file below the project, creating its folders.
    pub fn write(&self, relative: &str, contents: &str) {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("cannot create folders in the temp dir");
        }
        std::fs::write(&path, contents).expect("cannot write into the temp dir");
    }

    /// Starts `pipekit-ci <args>` in the project directory.
    pub fn spawn(&self, args: &[&str]) -> Started {
        self.spawn_with_env(args, &[])
    }

    /// Starts `pipekit-ci <args>` in the project directory with these variables added to
    /// (or replacing some of) the test's own environment.
    pub fn spawn_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Started {
        let number = self.invocations.get() + 1;
        self.invocations.set(number);
        let stdout_path = self.outputs.path().join(format!("{number}.stdout"));
        let stderr_path = self.outputs.path().join(format!("{number}.stderr"));
        let create = |path: &Path| File::create(path).expect("cannot create an output file");
        let child = Command::new(binary())
            .args(args)
            .envs(env.iter().copied())
            .current_dir(self.path())
            .stdin(Stdio::null())
            // Files, not pipes: nothing to drain, and a leftover grandchild cannot hang us.
            .stdout(create(&stdout_path))
            .stderr(create(&stderr_path))
            .spawn()
            .expect("cannot start pipekit-ci");
        Started {
            child,
            stdout_path,
            stderr_path,
            started: Instant::now(),
            what: format!("pipekit-ci {}", args.join(" ")),
        }
    }

    /// Runs `pipekit-ci <args>` to its end (at most [`RUN_TIMEOUT`]).
    pub fn run(&self, args: &[&str]) -> Finished {
        self.spawn(args).wait(RUN_TIMEOUT)
    }

    /// Runs `pipekit-ci <args>` to its end, with these variables added to its environment.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Finished {
        self.spawn_with_env(args, env).wait(RUN_TIMEOUT)
    }

    /// Runs `pipekit-ci run --no-progress <extra>`.
    pub fn run_pipeline(&self, extra: &[&str]) -> Finished {
        let mut args = vec!["run", "--no-progress"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// The run folders under `.pipekit/runs/`.
    pub fn run_dirs(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.path().join(".pipekit/runs")) else {
            return Vec::new();
        };
        let mut dirs: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.is_dir())
            .collect();
        dirs.sort();
        dirs
    }

    /// The one run folder; fails the test unless there is exactly one.
    pub fn run_dir(&self) -> PathBuf {
        let dirs = self.run_dirs();
        assert_eq!(
            dirs.len(),
            1,
            "expected exactly one run folder, found {dirs:?}"
        );
        dirs.into_iter().next().expect("checked above")
    }

    /// The id of the one run (its folder's name).
    pub fn run_id(&self) -> String {
        run_id_of(&self.run_dir())
    }

    /// `run.json` of the one run folder.
    pub fn run_json(&self) -> RunJson {
        RunJson::read(&self.run_dir())
    }

    /// `logs/<job>.log` of the one run folder.
    pub fn log(&self, job: &str) -> String {
        let path = self.run_dir().join("logs").join(format!("{job}.log"));
        std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
    }

    /// Checks the layout the spec promises for the one run folder, for these jobs.
    pub fn assert_run_folder(&self, jobs: &[&str]) {
        let run_dir = self.run_dir();
        for file in ["run.json", "junit.xml"] {
            assert!(
                run_dir.join(file).is_file(),
                "{file} is missing in {}",
                run_dir.display()
            );
        }
        for dir in ["logs", "artifacts", "shared"] {
            assert!(
                run_dir.join(dir).is_dir(),
                "{dir}/ is missing in {}",
                run_dir.display()
            );
        }
        for job in jobs {
            let shared = run_dir.join("shared").join(job);
            assert!(shared.is_dir(), "{} is missing", shared.display());
        }
        let run = self.run_json();
        let names: Vec<&str> = run.jobs.iter().map(|job| job.name.as_str()).collect();
        assert_eq!(names, jobs, "jobs in run.json");
        let run_id = run_dir
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        assert_eq!(run.run_id, run_id, "run.json's run_id is the folder name");
        for job in &run.jobs {
            if job.started_after_seconds.is_some() {
                let log = run_dir.join("logs").join(format!("{}.log", job.name));
                assert!(
                    log.is_file(),
                    "job `{}` started but {} is missing",
                    job.name,
                    log.display()
                );
            }
        }
    }
}

/// A `pipekit-ci` process the test started.
pub struct Started {
    child: Child,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
    started: Instant,
    what: String,
}

impl Started {
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// What it printed to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Waits for the process to exit; past `timeout` it is stopped and the test fails.
    pub fn wait(mut self, timeout: Duration) -> Finished {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait().expect("cannot wait for pipekit-ci") {
                Some(status) => {
                    let elapsed = self.started.elapsed();
                    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
                    return Finished {
                        code: status.code(),
                        status: status.to_string(),
                        stdout: read(&self.stdout_path),
                        stderr: read(&self.stderr_path),
                        elapsed,
                    };
                }
                None if Instant::now() >= deadline => self.stop_and_fail(timeout),
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    fn stop_and_fail(&mut self, timeout: Duration) -> ! {
        // SIGTERM first: pipekit-ci then stops its jobs, which a SIGKILL would leave running.
        let _ = kill(self.pid(), Signal::SIGTERM);
        let grace = Instant::now() + Duration::from_secs(5);
        while Instant::now() < grace && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!(
            "`{}` did not finish within {timeout:?}; stderr:\n{}",
            self.what,
            self.stderr_so_far()
        );
    }
}

/// How a `pipekit-ci` invocation ended.
#[derive(Debug)]
pub struct Finished {
    /// `None` when it died of a signal.
    pub code: Option<i32>,
    status: String,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    /// Fails the test, showing the output, unless the exit code is `expected`.
    #[track_caller]
    pub fn assert_code(&self, expected: i32) {
        assert_eq!(
            self.code,
            Some(expected),
            "pipekit-ci ended with {}, expected exit code {expected}\n--- stdout\n{}\n--- stderr\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
    }

    /// stdout and stderr together, for checks that do not care which stream.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// The id of the run whose folder is `run_dir`.
pub fn run_id_of(run_dir: &Path) -> String {
    run_dir
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_else(|| panic!("{} has no run id as its name", run_dir.display()))
        .to_string()
}

/// Runs `pipekit-ci <args>` in `dir` (for commands on files that are not in a project).
pub fn run_binary(args: &[&str]) -> Finished {
    Project::empty().run(args)
}
