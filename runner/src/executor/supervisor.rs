//! The host supervisor: one per process, it owns what is process-wide about running host
//! jobs. pipekit-ci is a child subreaper, so orphans of jobs (`setsid sleep &`, a double
//! fork) re-parent to it rather than to init, and it must reap them itself; and tokio waits
//! for the children it spawned by pid, so a `waitpid` that took one of those would leave
//! tokio without the job's exit status. The supervisor therefore keeps the registry of the
//! children spawned through it, and reaps only the others, from one SIGCHLD reaper.
//!
//! Orphans belong to their run by the tag they inherited (see `descendants.rs`): the end of
//! one run kills what carries its tag and nothing else, so several runs can share a process.
//! Strays that shed their tag cannot be attributed; [`HostSupervisor::kill_strays`] ends them
//! when no run needs them (the CLI after each run, any host process as it shuts down).

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// Owns the subreaper, the SIGCHLD reaper and the registry of the process's own children.
#[derive(Debug)]
pub struct HostSupervisor {
    /// Only a subreaper has orphans to reap; anywhere else every direct child belongs to
    /// someone's `wait`, and reaping it would steal that exit status.
    subreaper: bool,
    /// Children spawned here and waited for by pid, through tokio.
    own: Mutex<BTreeSet<i32>>,
}

/// The one supervisor of this process, made by the first [`HostSupervisor::for_process`].
static PROCESS: OnceLock<Arc<HostSupervisor>> = OnceLock::new();

impl HostSupervisor {
    /// The supervisor of this process. The first call makes the process a child subreaper
    /// and starts the reaper; every later call (another run, another runtime) shares them.
    /// Where the OS refuses to make it a subreaper, orphans go to init as usual.
    pub fn for_process() -> Arc<HostSupervisor> {
        PROCESS
            .get_or_init(|| {
                let subreaper = nix::sys::prctl::set_child_subreaper(true).is_ok();
                let supervisor = Arc::new(HostSupervisor {
                    subreaper,
                    own: Mutex::default(),
                });
                if subreaper {
                    start_reaper(supervisor.clone());
                }
                supervisor
            })
            .clone()
    }

    /// A supervisor that reaps nothing: for a library user that did not make its process a
    /// subreaper (and the unit tests). Its jobs' orphans go to init.
    pub fn unsupervised() -> Arc<HostSupervisor> {
        Arc::new(HostSupervisor {
            subreaper: false,
            own: Mutex::default(),
        })
    }

    /// Whether orphans of jobs come back to this process.
    pub fn is_subreaper(&self) -> bool {
        self.subreaper
    }

    fn own_children(&self) -> MutexGuard<'_, BTreeSet<i32>> {
        self.own
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Spawns `command` and registers the child, so the reaper leaves it to tokio.
    ///
    /// Only the main thread's children are ever reaped (orphans are re-parented to it): a
    /// child spawned from another thread is out of reach and is registered after the spawn,
    /// so the runtime's threads spawn jobs in parallel. From the main thread the lock is
    /// held through the spawn, so no reaping can come between.
    pub fn spawn_own(
        self: &Arc<Self>,
        command: &mut tokio::process::Command,
    ) -> std::io::Result<(tokio::process::Child, OwnChild)> {
        let on_main_thread = nix::unistd::gettid() == nix::unistd::getpid();
        let held = on_main_thread.then(|| self.own_children());
        let child = command.spawn()?;
        let pid = child.id().map(|pid| pid as i32);
        if let Some(pid) = pid {
            match held {
                Some(mut children) => children.insert(pid),
                None => self.own_children().insert(pid),
            };
        }
        Ok((
            child,
            OwnChild {
                pid,
                supervisor: self.clone(),
            },
        ))
    }

    /// Reaps every child that exited and was not spawned here: orphans re-parented to this
    /// subreaper. Never `waitpid(-1)`, which could take tokio's own children.
    pub fn reap_orphans(&self) {
        if !self.subreaper {
            return;
        }
        let children = self.own_children();
        for pid in direct_children() {
            if !children.contains(&pid) {
                let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
            }
        }
    }

    /// SIGKILL to every child that is not this process's own, until none is left: those
    /// are descendants of jobs that shed their tag (a daemon that rewrote its environment
    /// for its process title, `env -i`, the jobs of a nested pipekit-ci). Each one killed
    /// hands its own children to us, hence the rounds. Only call it when no run of this
    /// process is going on: a stray cannot be told apart from another run's daemon.
    pub async fn kill_strays(&self) {
        if !self.subreaper {
            return;
        }
        for _ in 0..20 {
            {
                // Held through the kills: an unreaped child's pid cannot be reused, and the
                // SIGCHLD reaper, which could reap one meanwhile, waits for this lock.
                let own = self.own_children();
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
            self.reap_orphans();
        }
    }

    /// Whether a job whose own process is gone can have left anything behind, answered
    /// without scanning `/proc`. As the subreaper, the topmost survivor of every surviving
    /// branch of a job is a child of this process that it did not spawn itself. No such
    /// child, nothing left (short of a subreaper inside the job). The scan costs about
    /// 1.5 ms, this a few µs: it decides what 500 jobs cost. With several runs at once, one
    /// run's daemon makes every other run scan: correct, only slower.
    pub fn orphans_possible(&self) -> bool {
        if !self.subreaper {
            return true;
        }
        let Some(children) = read_direct_children() else {
            return true;
        };
        // Any orphan, even one that already exited, means a scan: its own children may have
        // been handed to us after the list was read. Jobs are spawned from the runtime's
        // worker threads, so the main thread's list is empty unless an orphan arrived.
        let own = self.own_children();
        children.iter().any(|pid| !own.contains(pid))
    }
}

/// Keeps a spawned child out of the reaper's way until dropped (after it was waited for).
#[derive(Debug)]
pub struct OwnChild {
    pid: Option<i32>,
    supervisor: Arc<HostSupervisor>,
}

impl Drop for OwnChild {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            self.supervisor.own_children().remove(&pid);
        }
    }
}

/// Reaps orphans whenever a child exits, for as long as the process lives: an orphan that
/// ends on its own while its job runs on (`(sleep 1 &)`) would otherwise stay a zombie until
/// the job ends. On a thread of its own, so it outlives any one run's runtime.
fn start_reaper(supervisor: Arc<HostSupervisor>) {
    let spawned = std::thread::Builder::new()
        .name("pipekit-reaper".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                use tokio::signal::unix::{SignalKind, signal};
                let Ok(mut children) = signal(SignalKind::child()) else {
                    return;
                };
                while children.recv().await.is_some() {
                    supervisor.reap_orphans();
                    // SIGCHLD comes once per exit of every job too; a zombie orphan can wait
                    // a moment, and the signals that arrive meanwhile are served by one scan.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            });
        });
    // Without the thread orphans are still reaped at each job's end, only later.
    drop(spawned);
}

fn direct_children() -> Vec<i32> {
    read_direct_children().unwrap_or_default()
}

/// The children of this process's main thread; `None` where the kernel does not list
/// children (`CONFIG_PROC_CHILDREN` off). The kernel hands orphans to the first live thread
/// of the subreaper, its main thread, so every orphan is listed here; children spawned from
/// other threads are listed under those and are the process's own anyway. One file, not
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
