//! What pipekit-ci does when the machine fails it: a full disk under the run folder, an
//! interrupt while reports are due, a console nobody reads any more.

use crate::common::{
    JobState, Project, RunJson, RunStatus, binary, eventually, parse_junit, pipeline_suite,
};
use nix::sys::signal::{Signal, kill};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A small file system mounted for one test, unmounted when dropped.
struct TinyDisk {
    mount_point: tempfile::TempDir,
    /// The image behind an ext4 disk, removed after the unmount.
    _image: Option<tempfile::TempDir>,
}

impl TinyDisk {
    /// A tmpfs of `size`. `None`, with the reason printed, when this is not root or the
    /// mount fails.
    fn mount(size: &str) -> Option<TinyDisk> {
        let mount_point = tempfile::tempdir().expect("cannot create a temp dir");
        let mut mount = Command::new("mount");
        mount.args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]);
        TinyDisk::mounted(mount, mount_point, None)
    }

    /// An ext4 file system of `megabytes` on a loop device: unlike tmpfs, it allocates the
    /// blocks of buffered writes lazily, when they are written back.
    fn mount_ext4(megabytes: u64) -> Option<TinyDisk> {
        let image_dir = tempfile::tempdir().expect("cannot create a temp dir");
        let image = image_dir.path().join("disk.img");
        let made = std::fs::File::create(&image)
            .and_then(|file| file.set_len(megabytes * 1024 * 1024))
            .map_err(|error| error.to_string())
            .and_then(|()| {
                Command::new("mkfs.ext4")
                    .args(["-q", "-F"])
                    .arg(&image)
                    .status()
                    .map_err(|error| error.to_string())
            });
        if !matches!(&made, Ok(status) if status.success()) {
            eprintln!("skipped: cannot make an ext4 image: {made:?}");
            return None;
        }
        let mount_point = tempfile::tempdir().expect("cannot create a temp dir");
        let mut mount = Command::new("mount");
        mount.args(["-o", "loop"]).arg(&image);
        TinyDisk::mounted(mount, mount_point, Some(image_dir))
    }

    fn mounted(
        mut mount: Command,
        mount_point: tempfile::TempDir,
        image: Option<tempfile::TempDir>,
    ) -> Option<TinyDisk> {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: mounting a file system needs root");
            return None;
        }
        match mount.arg(mount_point.path()).status() {
            Ok(status) if status.success() => Some(TinyDisk {
                mount_point,
                _image: image,
            }),
            outcome => {
                eprintln!("skipped: cannot mount {mount:?}: {outcome:?}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.mount_point.path()
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.mount_point.path()).status();
    }
}

#[test]
fn a_full_disk_is_reported_once_and_the_run_ends_errored_with_exit_3() {
    if let Some(disk) = TinyDisk::mount("4m") {
        full_disk_is_reported_once(&disk);
    }
}

/// The space kept for the reports is an unsynced file of zeros: ext4 must count it against
/// the free space as it is written, not when it would be written back.
#[test]
fn a_full_ext4_disk_still_takes_the_reports() {
    if let Some(disk) = TinyDisk::mount_ext4(8) {
        full_disk_is_reported_once(&disk);
    }
}

fn full_disk_is_reported_once(disk: &TinyDisk) {
    // Two jobs fill the disk at once; the one after them must still run.
    let pipeline = r#"
services:
  fill_a:
    command: head -c 8000000 /dev/zero | tr '\0' a | fold -w 100; echo filled
  fill_b:
    command: head -c 8000000 /dev/zero | tr '\0' b | fold -w 100; echo filled
  after:
    depends_on: [fill_a.ExitCode(0), fill_b.ExitCode(0)]
    command: echo after
"#;
    std::fs::write(disk.path().join("pipekit.yml"), pipeline).expect("write the pipeline");
    let finished = Command::new(binary())
        .args(["run", "--no-progress"])
        .current_dir(disk.path())
        .stdin(Stdio::null())
        .output()
        .expect("cannot run pipekit-ci");
    let stderr = String::from_utf8_lossy(&finished.stderr);
    let shown: String = stderr
        .lines()
        .filter(|line| !line.ends_with("aaaa") && !line.ends_with("bbbb"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(finished.status.code(), Some(3), "stderr:\n{shown}");

    let told = shown
        .lines()
        .filter(|line| line.contains("| [pipekit-ci: cannot write"))
        .collect::<Vec<_>>();
    assert_eq!(
        told.len(),
        1,
        "the full disk is told once while it happens:\n{shown}"
    );
    assert!(
        told[0].contains("No space left on device") && told[0].contains("/logs/fill_"),
        "{}",
        told[0]
    );
    let last = shown.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: cannot write") && last.contains("No space left on device"),
        "the run ends naming the failure: {last}"
    );

    let run_dir = single_run_dir(disk.path());
    let run = RunJson::read(&run_dir);
    assert_eq!(run.status, RunStatus::Errored);
    // The jobs were not held up by the disk; their status is their own.
    run.assert_states(&[
        ("fill_a", JobState::Passed),
        ("fill_b", JobState::Passed),
        ("after", JobState::Passed),
    ]);
    parse_junit(&run_dir.join("junit.xml"));
    assert!(
        !run_dir.join(".space-reserve").exists(),
        "the space reserved for the reports is given back"
    );
}

fn single_run_dir(base: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(base.join(".pipekit/runs"))
        .expect("the runs folder")
        .flatten()
        .map(|entry| entry.path())
        .collect();
    assert_eq!(dirs.len(), 1, "one run folder: {dirs:?}");
    dirs.into_iter().next().expect("checked above")
}

#[test]
fn reports_written_after_an_interrupt_are_whole_and_leave_no_temporary_file() {
    let project = Project::new(
        r#"
services:
  busy:
    command: echo started; sleep 60
  after:
    depends_on: [busy.ExitCode(0)]
    command: echo after
"#,
    );
    let started = project.spawn(&["run", "--no-progress", "--junit", "out/report.xml"]);
    let running = eventually(Duration::from_secs(15), || {
        project.run_dirs().iter().any(|dir| {
            std::fs::read_to_string(dir.join("logs/busy.log"))
                .is_ok_and(|log| log.contains("started"))
        })
    });
    kill(started.pid(), Signal::SIGINT).expect("cannot signal pipekit-ci");
    let finished = started.wait(Duration::from_secs(30));
    assert!(running, "the job never started:\n{}", finished.stderr);
    finished.assert_code(130);

    let run_dir = project.run_dir();
    assert_eq!(RunJson::read(&run_dir).status, RunStatus::Interrupted);
    for junit in [
        run_dir.join("junit.xml"),
        project.path().join("out/report.xml"),
    ] {
        let report = parse_junit(&junit);
        assert_eq!(pipeline_suite(&report, "pipekit").test_cases.len(), 2);
    }
    assert_eq!(
        names_in(&run_dir),
        [
            "artifacts",
            "events.jsonl",
            "junit.xml",
            "logs",
            "run.json",
            "shared"
        ]
    );
    assert_eq!(names_in(&project.path().join("out")), ["report.xml"]);
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

const FAILING_PIPELINE: &str = r#"
services:
  talk:
    command: for i in 1 2 3 4 5; do echo line $i; done; exit 1
  after:
    depends_on: [talk.ExitCode(0)]
    command: echo after
"#;

/// `pipekit-ci run 2>&1 | head -1`: stderr is a pipe whose reader is gone. Printing used to
/// panic (exit 101) before the reports were written.
#[test]
fn a_console_whose_reader_went_away_does_not_crash_the_run() {
    let project = Project::new(FAILING_PIPELINE);
    let mut child = Command::new(binary())
        .args(["run", "--no-progress"])
        .current_dir(project.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start pipekit-ci");
    // Closing the read ends: every write to them now fails with EPIPE.
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().expect("cannot wait for pipekit-ci");
    assert_eq!(status.code(), Some(1), "the run's own exit code");
    let run = project.run_json();
    assert_eq!(run.status, RunStatus::Failed);
    run.assert_states(&[("talk", JobState::Failed), ("after", JobState::Skipped)]);
    parse_junit(&project.run_dir().join("junit.xml"));
}

/// `pipekit-ci run 2>&-` and `pipekit-ci graph >&-`: the descriptors are closed outright.
#[test]
fn closed_stdout_and_stderr_do_not_crash_any_command() {
    let project = Project::new(FAILING_PIPELINE);
    let shell = |command: &str| {
        Command::new("sh")
            .args(["-c", command, "sh"])
            .arg(binary())
            .current_dir(project.path())
            .stdin(Stdio::null())
            .status()
            .expect("cannot run sh")
            .code()
    };
    assert_eq!(shell(r#"exec "$1" run --no-progress 2>&- >&-"#), Some(1));
    assert_eq!(project.run_json().status, RunStatus::Failed);
    assert_eq!(shell(r#"exec "$1" validate >&- 2>&-"#), Some(0));
    assert_eq!(shell(r#"exec "$1" graph >&- 2>&-"#), Some(0));
    // Broken pipes on stdout, the readers gone before the first line.
    for command in ["validate", "graph"] {
        let mut child = Command::new(binary())
            .arg(command)
            .current_dir(project.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start pipekit-ci");
        drop(child.stdout.take());
        drop(child.stderr.take());
        let status = child.wait().expect("cannot wait for pipekit-ci");
        assert_eq!(
            status.code(),
            Some(0),
            "`pipekit-ci {command}` into a broken pipe"
        );
    }
}

/// A report that cannot be written is an environment error, and `run.json` must not say
/// the run passed.
#[test]
fn a_junit_copy_that_cannot_be_written_ends_the_run_errored() {
    let project = Project::new(
        r#"
services:
  fine:
    command: echo fine
"#,
    );
    // Nothing can create folders in /proc, not even root.
    let finished = project.run_pipeline(&["--junit", "/proc/pipekit-nowhere/report.xml"]);
    finished.assert_code(3);
    assert!(
        finished.stderr.contains("/proc/pipekit-nowhere"),
        "the error names the path:\n{}",
        finished.stderr
    );
    let run = project.run_json();
    assert_eq!(run.status, RunStatus::Errored);
    run.assert_states(&[("fine", JobState::Passed)]);
    parse_junit(&project.run_dir().join("junit.xml"));
}

/// The run folder too full for an artifact archive is the machine's problem, not the job's:
/// the run ends errored with exit 3, and says why.
#[test]
fn an_archive_the_full_run_folder_cannot_take_ends_the_run_errored() {
    let Some(disk) = TinyDisk::mount("4m") else {
        return;
    };
    // The repository (and so the run folder) is on the tiny disk; the job's checkout is in
    // the temporary folder, which has room for the 6 MB the archive cannot get.
    let pipeline = r#"
services:
  producer:
    command: head -c 6000000 /dev/urandom > blob
    artifacts: [blob]
"#;
    std::fs::write(disk.path().join("pipekit.yml"), pipeline).expect("write the pipeline");
    std::fs::write(disk.path().join(".gitignore"), ".pipekit/\n").expect("write");
    crate::common::init_and_commit(disk.path(), "a producer");
    let finished = Command::new(binary())
        .args(["run", "--no-progress", "--commit", "HEAD"])
        .current_dir(disk.path())
        .stdin(Stdio::null())
        .output()
        .expect("cannot run pipekit-ci");
    let stderr = String::from_utf8_lossy(&finished.stderr);

    assert_eq!(finished.status.code(), Some(3), "stderr:\n{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: cannot write") && last.contains("No space left on device"),
        "the run ends naming the failure: {last}"
    );
    let run = RunJson::read(&single_run_dir(disk.path()));
    assert_eq!(run.status, RunStatus::Errored);
}
