//! The Docker engine as the container tests see it, through the `docker` command: whether
//! there is one, the test image, and what a run left in it (found by pipekit-ci's labels).
//! The product talks to the engine's API; the tests look from outside, as a user would.

use super::project::Project;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Set to `1` to skip the container tests where no engine is reachable.
const SKIP_VARIABLE: &str = "PIPEKIT_SKIP_DOCKER_TESTS";

/// The image the container tests run: `$PIPEKIT_TEST_IMAGE`, else the local busybox image
/// `scripts/docker-up.sh` builds.
pub fn test_image() -> String {
    std::env::var("PIPEKIT_TEST_IMAGE")
        .ok()
        .filter(|image| !image.is_empty())
        .unwrap_or_else(|| "pipekit-test/busybox:latest".to_string())
}

/// A container test's hold on the engine, for as long as it runs.
///
/// Every `pipekit-ci run` that uses the engine reaps the containers of dead pipekit-ci
/// processes when it starts, so a test that kills pipekit-ci outright and then checks what
/// `gc` does must have the engine to itself; the others share it.
pub struct EngineLease {
    _shared: Option<RwLockReadGuard<'static, ()>>,
    _alone: Option<RwLockWriteGuard<'static, ()>>,
}

fn lease_lock() -> &'static RwLock<()> {
    static LOCK: RwLock<()> = RwLock::new(());
    &LOCK
}

/// The engine shared with the other container tests; `None` (the test returns) only when
/// there is no engine and `PIPEKIT_SKIP_DOCKER_TESTS=1` says to skip.
pub fn engine_or_skip() -> Option<EngineLease> {
    engine_ready().then(|| EngineLease {
        _shared: Some(lease_lock().read().unwrap_or_else(PoisonError::into_inner)),
        _alone: None,
    })
}

/// The engine to this test alone (no other container test runs meanwhile); as
/// [`engine_or_skip`] otherwise.
pub fn engine_alone_or_skip() -> Option<EngineLease> {
    engine_ready().then(|| EngineLease {
        _shared: None,
        _alone: Some(lease_lock().write().unwrap_or_else(PoisonError::into_inner)),
    })
}

/// Whether the container tests can run; fails the test when they cannot and were not
/// told to skip.
fn engine_ready() -> bool {
    static PROBLEM: OnceLock<Option<String>> = OnceLock::new();
    let Some(problem) = PROBLEM.get_or_init(engine_problem) else {
        return true;
    };
    if std::env::var(SKIP_VARIABLE).is_ok_and(|value| value == "1") {
        eprintln!("skipped: {problem} ({SKIP_VARIABLE}=1)");
        return false;
    }
    panic!(
        "the container tests need a Docker engine and the test image; {problem}\n\
         Run `bash scripts/docker-up.sh` (it starts Docker if needed and builds the image), \
         or set {SKIP_VARIABLE}=1 to skip the container tests."
    );
}

/// What keeps the container tests from running, if anything.
fn engine_problem() -> Option<String> {
    let info = match docker_output(&["info", "--format", "{{.ServerVersion}}"]) {
        Ok(info) => info,
        Err(error) => return Some(format!("`docker` cannot be run: {error}")),
    };
    if !info.status.success() {
        let said = String::from_utf8_lossy(&info.stderr);
        return Some(format!("`docker info` failed: {}", said.trim()));
    }
    let image = test_image();
    match docker_output(&["image", "inspect", "--format", "{{.Id}}", &image]) {
        Ok(inspect) if inspect.status.success() => None,
        _ => Some(format!("the test image `{image}` is missing")),
    }
}

fn docker_output(args: &[&str]) -> std::io::Result<Output> {
    Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
}

/// Runs `docker <args>`, failing the test with docker's own words unless it succeeds;
/// its stdout.
#[track_caller]
pub fn docker(args: &[&str]) -> String {
    let output = docker_output(args).unwrap_or_else(|error| panic!("cannot run docker: {error}"));
    assert!(
        output.status.success(),
        "`docker {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Containers (running or not), networks and volumes carrying a label.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DockerObjects {
    /// Container names.
    pub containers: Vec<String>,
    /// Network names.
    pub networks: Vec<String>,
    /// Volume names.
    pub volumes: Vec<String>,
}

impl DockerObjects {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty() && self.volumes.is_empty()
    }

    /// Removes them all, quietly: for leftovers of a test that failed. Containers first,
    /// since a network or volume in use cannot go.
    pub(super) fn remove(&self) {
        for container in &self.containers {
            let _ = docker_output(&["rm", "--force", "--volumes", container]);
        }
        for network in &self.networks {
            let _ = docker_output(&["network", "rm", network]);
        }
        for volume in &self.volumes {
            let _ = docker_output(&["volume", "rm", "--force", volume]);
        }
    }
}

/// The `docker` arguments listing each kind of object carrying `label`, one name a line.
fn listings(label: &str) -> [Vec<String>; 3] {
    let filter = format!("label={label}");
    let list = |kind: &[&str], format: &str| -> Vec<String> {
        let mut args: Vec<String> = kind.iter().map(|word| word.to_string()).collect();
        args.extend([
            "--filter".into(),
            filter.clone(),
            "--format".into(),
            format.into(),
        ]);
        args
    };
    [
        list(&["ps", "--all"], "{{.Names}}"),
        list(&["network", "ls"], "{{.Name}}"),
        list(&["volume", "ls"], "{{.Name}}"),
    ]
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text.lines().map(str::to_string).collect();
    names.sort();
    names
}

/// What carries `label` (`key=value`, or `key` for any value); fails the test if docker does.
pub fn docker_objects_with_label(label: &str) -> DockerObjects {
    let [containers, networks, volumes] = listings(label).map(|args| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sorted_lines(&docker(&args))
    });
    DockerObjects {
        containers,
        networks,
        volumes,
    }
}

/// As [`docker_objects_with_label`], but what docker cannot list counts as nothing: for
/// a drop, which must not panic during a panic.
pub(super) fn labelled_objects_quietly(label: &str) -> DockerObjects {
    let [containers, networks, volumes] = listings(label).map(|args| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        docker_output(&args)
            .ok()
            .filter(|output| output.status.success())
            .map(|output| sorted_lines(&String::from_utf8_lossy(&output.stdout)))
            .unwrap_or_default()
    });
    DockerObjects {
        containers,
        networks,
        volumes,
    }
}

/// The label pipekit-ci puts on every object of a run of `file`: its absolute path, as
/// pipekit-ci resolves it (the temp dir may sit behind a symlink, as on macOS).
pub(super) fn pipeline_file_label(file: &Path) -> String {
    let dir = file.parent().expect("a pipeline file is in a folder");
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let name = file.file_name().expect("a pipeline file has a name");
    format!("pipekit.pipeline-file={}", dir.join(name).display())
}

/// Removes an image the test built, quietly.
pub(super) fn remove_image_quietly(image: &str) {
    let _ = docker_output(&["rmi", "--force", image]);
}

/// What the run `run_id` created and has not removed.
pub fn docker_objects_of_run(run_id: &str) -> DockerObjects {
    docker_objects_with_label(&format!("pipekit.run={run_id}"))
}

/// Names of the running containers of the run `run_id`.
pub fn running_containers_of_run(run_id: &str) -> Vec<String> {
    let filter = format!("label=pipekit.run={run_id}");
    let listed = docker(&["ps", "--filter", &filter, "--format", "{{.Names}}"]);
    listed.lines().map(str::to_string).collect()
}

/// The labels of a container, as `docker inspect` shows them (JSON).
pub fn container_labels(container: &str) -> serde_json::Value {
    let text = docker(&["inspect", "--format", "{{json .Config.Labels}}", container]);
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("labels of {container} are not JSON: {error}\n{text}"))
}

/// Removes, when dropped, what runs of a project's pipeline left in the engine, so that a
/// test that fails halfway leaves nothing running for the next. The checks themselves
/// happen before, in the test; [`super::ContainerTest`] sweeps and checks both.
pub struct LeftoverSweeper {
    label: String,
}

impl LeftoverSweeper {
    /// For the runs of `pipekit.yml` in `project`.
    pub fn for_project(project: &Project) -> Self {
        Self {
            label: pipeline_file_label(&project.path().join("pipekit.yml")),
        }
    }
}

impl Drop for LeftoverSweeper {
    fn drop(&mut self) {
        labelled_objects_quietly(&self.label).remove();
    }
}
