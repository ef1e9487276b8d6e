//! A host job's descendants, wherever they went: `sleep &` stays in the job's process group,
//! but `setsid sleep &` or a double fork leaves it. Every process of a job inherits its
//! `PIPEKIT_RUN_ID` and `PIPEKIT_JOB`, which `/proc/<pid>/environ` shows, so a scan finds
//! them all; and pipekit-ci is a child subreaper, so orphans re-parent to it rather than to
//! init, and it must reap them itself.
//!
//! Reaping needs care: tokio waits for the children it spawned by pid, and a `waitpid` that
//! took one of those would leave tokio without the job's exit status. So every child spawned
//! here is registered while it runs, and only other children (re-parented orphans) are reaped.

use super::supervisor::HostSupervisor;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
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
        signal_pids(&found, signal, signalled);
        found.len()
    }

    /// SIGTERM to every tagged process, up to `grace` for them to go, then SIGKILL; reaps
    /// the orphans among them. `also_alive` says whether something else still needs the
    /// grace period (the job's own process group).
    ///
    /// `signalled`: a process group that was already sent SIGTERM.
    pub async fn terminate(
        &self,
        supervisor: &HostSupervisor,
        grace: Duration,
        also_alive: impl Fn() -> bool,
        signalled: Option<i32>,
    ) {
        if !also_alive() && !supervisor.orphans_possible() {
            return;
        }
        let mut told: Vec<i32> = self.find();
        signal_pids(&told, Signal::SIGTERM, signalled);
        if !told.is_empty() || also_alive() {
            let started = tokio::time::Instant::now();
            // Reaped as they go: a zombie orphan would still count as alive in its group.
            while started.elapsed() < grace && (also_alive() || !told.is_empty()) {
                tokio::time::sleep(Duration::from_millis(20)).await;
                supervisor.reap_orphans();
                // A process caught mid-`exec` shows no environment to the first scan: each
                // one found later is told too, rather than waiting out the grace.
                let found = self.find();
                let new: Vec<i32> = found
                    .iter()
                    .copied()
                    .filter(|pid| !told.contains(pid))
                    .collect();
                signal_pids(&new, Signal::SIGTERM, signalled);
                told = found;
            }
        }
        self.kill_now(supervisor).await;
    }

    /// SIGKILL to every tagged process, then reaps the orphans among them once they died.
    pub async fn kill_now(&self, supervisor: &HostSupervisor) {
        if self.signal(Signal::SIGKILL) > 0 {
            // SIGKILL is delivered at once but a process takes a moment to exit; the bound
            // only matters for one stuck in the kernel (D state), which nothing can end.
            let started = tokio::time::Instant::now();
            while !self.find().is_empty() && started.elapsed() < Duration::from_secs(2) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        supervisor.reap_orphans();
    }
}

/// Sends `signal` to each of `pids` but those of process group `signalled`, which the
/// caller already sent it to: a second SIGTERM is a separate delivery, and programs
/// (pipekit-ci itself among them) read a second one as "now".
fn signal_pids(pids: &[i32], signal: Signal, signalled: Option<i32>) {
    for pid in pids {
        let pid = Pid::from_raw(*pid);
        let in_signalled_group = signalled.is_some_and(|group| {
            nix::unistd::getpgid(Some(pid)).is_ok_and(|pgid| pgid.as_raw() == group)
        });
        if !in_signalled_group {
            let _ = kill(pid, signal);
        }
    }
}

fn pid_namespace(process: &str) -> Option<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/{process}/ns/pid")).ok()
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
        let supervisor = HostSupervisor::unsupervised();
        let (mut child, _own) = supervisor.spawn_own(&mut command)?;
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
        tag.terminate(&supervisor, Duration::from_secs(5), || false, None)
            .await;
        let status = child.wait().await?;
        assert!(!status.success());
        assert!(tag.find().is_empty());
        Ok(())
    }
}
