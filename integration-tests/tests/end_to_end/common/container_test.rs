//! The setting of a container test: it holds the engine, sweeps what its runs leave in it,
//! and when it ends checks that nothing of its runs is left, in the engine or as a process.
//!
//! ```ignore
//! let Some(test) = ContainerTest::shared() else { return };
//! let marker = test.marker();
//! let project = test.project(&format!("services:\n  a:\n    image: {{image}}\n    command: sleep {marker}\n"));
//! project.run_pipeline(&[]).assert_code(0);
//! // Dropped here: fails unless no container, network, volume or process of its runs is left.
//! ```

use super::docker::{
    DockerObjects, EngineLease, docker_objects_with_label, engine_alone_or_skip, engine_or_skip,
    labelled_objects_quietly, pipeline_file_label, test_image,
};
use super::processes::{eventually, kill_processes, processes_with, unique_marker};
use super::project::Project;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// How long the engine and the kernel get to finish removing what a run stopped.
const SETTLE: Duration = Duration::from_secs(5);

/// One container test's hold on the engine and on everything its runs create.
pub struct ContainerTest {
    /// Dropped last (fields drop in order): the check runs while the engine is still ours.
    owned: RefCell<Owned>,
    _lease: EngineLease,
}

/// What the test's runs may leave behind, to look for at the end.
#[derive(Default)]
struct Owned {
    /// The `pipekit.pipeline-file` label of each project: every object of every run of it
    /// carries it, even of runs whose folder the test deleted.
    labels: Vec<String>,
    /// Kept alive until the check, so a project's folder outlives its containers' mounts.
    projects: Vec<Rc<Project>>,
    /// Markers in the commands of the test's jobs: a process showing one is a leftover.
    markers: Vec<String>,
    /// Images the test builds.
    images: Vec<String>,
}

impl ContainerTest {
    /// A test sharing the engine with the other container tests; `None` (the test returns)
    /// when there is no engine or no test image and `PIPEKIT_SKIP_DOCKER_TESTS=1` says to
    /// skip. Without that variable a missing engine fails the test, so that a machine
    /// without Docker cannot pass the suite by skipping it unnoticed.
    pub fn shared() -> Option<Self> {
        engine_or_skip().map(Self::holding)
    }

    /// A test with the engine to itself (no other container test runs meanwhile): for a
    /// test whose runs are killed outright and whose leftovers another run would reap.
    pub fn alone() -> Option<Self> {
        engine_alone_or_skip().map(Self::holding)
    }

    fn holding(lease: EngineLease) -> Self {
        Self {
            owned: RefCell::new(Owned::default()),
            _lease: lease,
        }
    }

    /// A project whose `pipekit.yml` is `pipeline` with `{image}` replaced by the test image;
    /// its runs are the test's.
    pub fn project(&self, pipeline: &str) -> Rc<Project> {
        self.adopt(Project::new(&pipeline.replace("{image}", &test_image())))
    }

    /// Makes the runs of `project`'s `pipekit.yml` the test's.
    pub fn adopt(&self, project: Project) -> Rc<Project> {
        let label = pipeline_file_label(&project.path().join("pipekit.yml"));
        // Sweeps before as well as after: a project folder is new, so this finds something
        // only if a temp dir name came round again after a crashed test. It is scoped to
        // the test's own label because other tests, and other checkouts, share the engine.
        labelled_objects_quietly(&label).remove();
        let project = Rc::new(project);
        let mut owned = self.owned.borrow_mut();
        owned.labels.push(label);
        owned.projects.push(Rc::clone(&project));
        project
    }

    /// A fresh marker for a job's command (`sleep {marker}` is a valid, long sleep); the
    /// test fails at its end if any process still shows it.
    pub fn marker(&self) -> String {
        let marker = unique_marker();
        self.owned.borrow_mut().markers.push(marker.clone());
        marker
    }

    /// Removes `image` (a tag the test builds) at the end.
    pub fn remove_image_at_end(&self, image: &str) {
        self.owned.borrow_mut().images.push(image.to_string());
    }

    /// Fails the test unless the run `run_id` has left nothing in the engine (allowing it
    /// a moment to finish removing): for checks in the middle of a test, while another
    /// run of it is still up.
    #[track_caller]
    pub fn assert_run_left_nothing(&self, run_id: &str) {
        let label = format!("pipekit.run={run_id}");
        let gone = eventually(SETTLE, || docker_objects_with_label(&label).is_empty());
        assert!(
            gone,
            "run {run_id} left behind {:?}",
            docker_objects_with_label(&label)
        );
    }

    /// What is left of the test's runs once they had a moment to go: objects in the
    /// engine and processes, described; empty when nothing is.
    fn leftovers(&self) -> Vec<String> {
        let owned = self.owned.borrow();
        let objects = |owned: &Owned| -> Vec<(String, DockerObjects)> {
            owned
                .labels
                .iter()
                .map(|label| (label.clone(), labelled_objects_quietly(label)))
                .filter(|(_, objects)| !objects.is_empty())
                .collect()
        };
        let processes = |owned: &Owned| -> Vec<(i32, String)> {
            owned
                .markers
                .iter()
                .flat_map(|marker| processes_with(marker))
                .collect()
        };
        eventually(SETTLE, || {
            objects(&owned).is_empty() && processes(&owned).is_empty()
        });
        let mut problems: Vec<String> = objects(&owned)
            .into_iter()
            .map(|(label, objects)| format!("{label}: {objects:?}"))
            .collect();
        problems.extend(
            processes(&owned)
                .into_iter()
                .map(|(pid, command_line)| format!("process {pid}: {command_line}")),
        );
        problems
    }

    /// Removes whatever the test's runs left (a test that failed halfway must not leave
    /// containers running for the next), quietly.
    fn sweep(&self) {
        let owned = self.owned.borrow();
        for label in &owned.labels {
            labelled_objects_quietly(label).remove();
        }
        for marker in &owned.markers {
            kill_processes(&processes_with(marker));
        }
        for image in &owned.images {
            super::docker::remove_image_quietly(image);
        }
    }
}

impl Drop for ContainerTest {
    fn drop(&mut self) {
        // A test already failing gets its leftovers removed, not a second panic (an abort).
        let problems = if std::thread::panicking() {
            Vec::new()
        } else {
            self.leftovers()
        };
        self.sweep();
        assert!(
            problems.is_empty(),
            "the test's runs left behind:\n{}",
            problems.join("\n")
        );
    }
}
