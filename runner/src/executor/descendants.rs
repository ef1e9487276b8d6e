//! A host job's descendants, wherever they went: `sleep &` stays in the job's process group,
//! but `setsid sleep &` or a double fork leaves it. Every process of a job inherits its
//! `PIPEKIT_RUN_ID` and `PIPEKIT_JOB`, which `/proc/<pid>/environ` shows, so a scan finds
//! them all; and pipekit-ci is a child subreaper, so orphans re-parent to it rather than to
//! init, and it must reap them itself.
//!
//! Reaping needs care: tokio waits for the children it spawned by pid, and a `waitpid` that
//! took one of those would leave tokio without the job's exit status. So every child spawned
//! here is registered while it runs, and only other children (re-parented orphans) are reaped.

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The environment entries that mark the processes of one job (or of a whole run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobTag {
    run: Vec<u8>,
    job: Option<Vec<u8>>,
}

impl JobTag {
    /// Every process of `job` in run `run_id`.
    pub fn job(run_id: &str, job: &str) -> JobTag {
        JobTag {
            run: format!("PIPEKIT_RUN_ID={run_id}").into_bytes(),
            job: Some(format!("PIPEKIT_JOB={job}").into_bytes()),
        }
    }

    /// Every process of every job of run `run_id`.
    pub fn run(run_id: &str) -> JobTag {
        JobTag {
            run: format!("PIPEKIT_RUN_ID={run_id}").into_bytes(),
            job: None,
        }
    }

    /// From a job's environment; `None` when it lacks the run id.
    pub fn from_env(env: &[(String, String)]) -> Option<JobTag> {
        let value = |name: &str| {
            env.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        let run_id = value("PIPEKIT_RUN_ID")?;
        Some(match value("PIPEKIT_JOB") {
            Some(job) => JobTag::job(run_id, job),
            None => JobTag::run(run_id),
        })
    }

    /// Whether a NUL-separated environment block carries the tag.
    pub fn matches(&self, environ: &[u8]) -> bool {
        let mut run = false;
        let mut job = self.job.is_none();
        for entry in environ.split(|byte| *byte == 0) {
            run |= entry == self.run.as_slice();
            job |= self.job.as_deref() == Some(entry);
        }
        run && job
    }

    /// Live processes carrying the tag (zombies have no environment left), other than
    /// pipekit-ci itself. Processes of other users are unreadable and never found; so are
    /// those in another PID namespace: a container job's processes carry the run's
    /// variables too, and are the engine's to stop (`--keep-running` keeps some up).
    pub fn find(&self) -> Vec<i32> {
        let me = std::process::id() as i32;
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let namespace = pid_namespace("self");
        entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| *pid != me)
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|environ| self.matches(&environ))
            })
            .filter(|pid| namespace.is_some() && pid_namespace(&pid.to_string()) == namespace)
            .collect()
    }

    /// Sends `signal` to every process carrying the tag; how many there were.
    pub fn signal(&self, signal: Signal) -> usize {
        self.signal_outside(signal, None)
    }

    /// Sends `signal` to every process carrying the tag but those of process group
    /// `signalled`, which the caller already sent it to: a second SIGTERM is a separate
    /// delivery, and programs (pipekit-ci itself among them) read a second one as "now".
    fn signal_outside(&self, signal: Signal, signalled: Option<i32>) -> usize {
        let found = self.find();
        for pid in &found {
            let pid = Pid::from_raw(*pid);
            let in_signalled_group = signalled.is_some_and(|group| {
                nix::unistd::getpgid(Some(pid)).is_ok_and(|pgid| pgid.as_raw() == group)
            });
            if !in_signalled_group {
                let _ = kill(pid, signal);
            }
        }
        found.len()
    }

    /// SIGTERM to every tagged process, up to `grace` for them to go, then SIGKILL; reaps
    /// the orphans among them. `also_alive` says whether something else still needs the
    /// grace period (the job's own process group).
    ///
    /// `signalled`: a process group that was already sent SIGTERM.
    pub async fn terminate(
        &self,
        grace: Duration,
        also_alive: impl Fn() -> bool,
        signalled: Option<i32>,
    ) {
        if !also_alive() && !orphans_possible() {
            return;
        }
        if self.signal_outside(Signal::SIGTERM, signalled) > 0 || also_alive() {
            let started = tokio::time::Instant::now();
            // Reaped as they go: a zombie orphan would still count as alive in its group.
            while started.elapsed() < grace && (also_alive() || !self.find().is_empty()) {
                tokio::time::sleep(Duration::from_millis(20)).await;
                reap_orphans();
            }
        }
        self.kill_now().await;
    }

    /// SIGKILL to every tagged process, then reaps the orphans among them once they died.
    pub async fn kill_now(&self) {
        if self.signal(Signal::SIGKILL) > 0 {
            // SIGKILL is delivered at once but a process takes a moment to exit; the bound
            // only matters for one stuck in the kernel (D state), which nothing can end.
            let started = tokio::time::Instant::now();
            while !self.find().is_empty() && started.elapsed() < Duration::from_secs(2) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        reap_orphans();
    }
}

fn pid_namespace(process: &str) -> Option<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/{process}/ns/pid")).ok()
}

/// Makes orphaned descendants re-parent to this process; false where the OS refuses.
pub fn become_subreaper() -> bool {
    let became = nix::sys::prctl::set_child_subreaper(true).is_ok();
    IS_SUBREAPER.store(became, Ordering::SeqCst);
    became
}

/// Set by [`become_subreaper`]. Only a subreaper has orphans to reap; anywhere else (a
/// library user, the unit tests) every direct child belongs to someone's `wait`, and
/// reaping it would steal that exit status.
static IS_SUBREAPER: AtomicBool = AtomicBool::new(false);

/// Children this process spawned and waits for itself (by pid, through tokio).
static OWN_CHILDREN: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

fn own_children() -> MutexGuard<'static, BTreeSet<i32>> {
    OWN_CHILDREN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Keeps a spawned child out of `reap_orphans` until dropped (after it was waited for).
#[derive(Debug)]
pub struct OwnChild(Option<i32>);

impl Drop for OwnChild {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            own_children().remove(&pid);
        }
    }
}

/// Spawns `command` and registers the child, so `reap_orphans` leaves it to tokio.
///
/// Only the main thread's children are ever reaped (orphans are re-parented to it): a child
/// spawned from another thread is out of reach and is registered after the spawn, so the
/// runtime's threads spawn jobs in parallel. From the main thread the lock is held through
/// the spawn, so no reaping can come between.
pub fn spawn_own(
    command: &mut tokio::process::Command,
) -> std::io::Result<(tokio::process::Child, OwnChild)> {
    let on_main_thread = nix::unistd::gettid() == nix::unistd::getpid();
    let held = on_main_thread.then(own_children);
    let child = command.spawn()?;
    let pid = child.id().map(|pid| pid as i32);
    if let Some(pid) = pid {
        match held {
            Some(mut children) => children.insert(pid),
            None => own_children().insert(pid),
        };
    }
    Ok((child, OwnChild(pid)))
}

/// Reaps every child that exited and was not spawned here: orphans re-parented to this
/// subreaper. Never `waitpid(-1)`, which could take tokio's own children.
pub fn reap_orphans() {
    if !IS_SUBREAPER.load(Ordering::SeqCst) {
        return;
    }
    let children = own_children();
    for pid in direct_children() {
        if !children.contains(&pid) {
            let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        }
    }
}

/// SIGKILL to every child that is not this process's own, until none is left: with
/// pipekit-ci a subreaper, those are descendants of the run's jobs that shed their tag (a
/// daemon that rewrote its environment for its process title, `env -i`, the jobs of a nested
/// pipekit-ci). Each one killed hands its own children to us, hence the rounds.
pub async fn kill_orphans() {
    if !IS_SUBREAPER.load(Ordering::SeqCst) {
        return;
    }
    for _ in 0..20 {
        {
            // Held through the kills: an unreaped child's pid cannot be reused, and the
            // SIGCHLD reaper, which could reap one meanwhile, waits for this lock.
            let own = own_children();
            let strays: Vec<i32> = direct_children()
                .into_iter()
                .filter(|pid| !own.contains(pid))
                .collect();
            if strays.is_empty() {
                return;
            }
            for pid in strays {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        reap_orphans();
    }
}

/// Reaps orphans whenever a child exits, for as long as the run lasts: an orphan that ends
/// on its own while its job runs on (`(sleep 1 &)`) would otherwise stay a zombie until
/// the job ends. Returns at once where SIGCHLD cannot be watched.
pub async fn reap_orphans_as_they_exit() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut children) = signal(SignalKind::child()) else {
        return;
    };
    while children.recv().await.is_some() {
        reap_orphans();
        // SIGCHLD comes once per exit of every job too; a zombie orphan can wait a moment,
        // and the signals that arrive meanwhile are served by one scan.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn direct_children() -> Vec<i32> {
    read_direct_children().unwrap_or_default()
}

/// The children of this process's main thread; `None` where the kernel does not list
/// children (`CONFIG_PROC_CHILDREN` off). The kernel hands orphans to the first live thread
/// of the subreaper, its main thread, so every orphan is listed here; children this process
/// spawned from other threads are listed under those and are its own anyway. One file, not
/// one per thread: this is read at every job's end.
fn read_direct_children() -> Option<Vec<i32>> {
    let path = format!("/proc/self/task/{}/children", std::process::id());
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.split_whitespace()
            .filter_map(|pid| pid.parse::<i32>().ok())
            .collect(),
    )
}

/// Whether a job whose own process is gone can have left anything behind, answered without
/// scanning `/proc`. pipekit-ci is the subreaper: when a process exits, its children are
/// re-parented to it, so the topmost survivor of every surviving branch of the job is a
/// child of pipekit-ci that it did not spawn itself. No such child, nothing left (short of a
/// subreaper inside the job, which the scan in `terminate` would not see either after it
/// exits). The scan costs about 1.5 ms, this a few µs: it decides what 500 jobs cost.
fn orphans_possible() -> bool {
    if !IS_SUBREAPER.load(Ordering::SeqCst) {
        return true;
    }
    let Some(children) = read_direct_children() else {
        return true;
    };
    // Any orphan, even one that already exited, means a scan: its own children may have
    // been handed to us after the list was read. Jobs are spawned from the runtime's worker
    // threads, so the main thread's list is empty unless an orphan arrived.
    let own = own_children();
    children.iter().any(|pid| !own.contains(pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_matches_whole_entries_only() {
        let tag = JobTag::job("r1", "web");
        let cases: [(&[u8], bool); 6] = [
            (b"A=1\0PIPEKIT_RUN_ID=r1\0PIPEKIT_JOB=web\0", true),
            (b"PIPEKIT_JOB=web\0PIPEKIT_RUN_ID=r1", true),
            (b"PIPEKIT_RUN_ID=r1\0PIPEKIT_JOB=web2\0", false),
            (b"PIPEKIT_RUN_ID=r12\0PIPEKIT_JOB=web\0", false),
            (b"XPIPEKIT_RUN_ID=r1\0PIPEKIT_JOB=web\0", false),
            (b"", false),
        ];
        for (environ, expected) in cases {
            assert_eq!(
                tag.matches(environ),
                expected,
                "{}",
                String::from_utf8_lossy(environ)
            );
        }
        assert!(JobTag::run("r1").matches(b"PIPEKIT_RUN_ID=r1\0PIPEKIT_JOB=any\0"));
    }

    #[test]
    fn the_tag_comes_from_the_job_environment() {
        let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            JobTag::from_env(&env(&[("PIPEKIT_RUN_ID", "r"), ("PIPEKIT_JOB", "j")])),
            Some(JobTag::job("r", "j"))
        );
        assert_eq!(JobTag::from_env(&env(&[("PIPEKIT_JOB", "j")])), None);
    }

    #[tokio::test]
    async fn a_tagged_process_that_left_its_session_is_found_and_killed()
    -> Result<(), Box<dyn std::error::Error>> {
        let run_id = format!("unit-{}", std::process::id());
        let mut command = tokio::process::Command::new("setsid");
        command
            .args(["sleep", "1000"])
            .env("PIPEKIT_RUN_ID", &run_id)
            .env("PIPEKIT_JOB", "sleeper");
        let (mut child, _own) = spawn_own(&mut command)?;
        let tag = JobTag::job(&run_id, "sleeper");
        let mut found = Vec::new();
        for _ in 0..200 {
            found = tag.find();
            if !found.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            found,
            child
                .id()
                .map(|pid| pid as i32)
                .into_iter()
                .collect::<Vec<_>>()
        );
        assert!(JobTag::job(&run_id, "other").find().is_empty());
        tag.terminate(Duration::from_secs(5), || false, None).await;
        let status = child.wait().await?;
        assert!(!status.success());
        assert!(tag.find().is_empty());
        Ok(())
    }
}
