//! The labels every container and network of a run carries: how pipekit-ci finds what a run
//! left behind, whoever started it.

use std::collections::HashMap;
use std::path::PathBuf;

/// The run id; every object of a run has it.
pub const RUN: &str = "pipekit.run";
pub const JOB: &str = "pipekit.job";
/// The pipeline file, absolute: what `pipekit-ci down -f FILE` looks for.
pub const PIPELINE_FILE: &str = "pipekit.pipeline-file";
/// The pipekit-ci process that owns the run, and when it started (a pid alone is reused).
pub const OWNER_PID: &str = "pipekit.owner-pid";
pub const OWNER_START: &str = "pipekit.owner-start";
pub const OWNER_HOST: &str = "pipekit.owner-host";
/// The owner's PID namespace: a pid means nothing in another one (a runner in a container).
pub const OWNER_PID_NS: &str = "pipekit.owner-pid-ns";
/// Set on containers that `--keep-running` leaves up.
pub const KEEP: &str = "pipekit.keep";

/// Which run the objects belong to and which process owns it.
#[derive(Debug, Clone)]
pub struct RunIdentity {
    pub run_id: String,
    pub pipeline_file: PathBuf,
    pub owner: Owner,
}

/// A process, named so that a later pipekit-ci can tell whether it still runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Owner {
    pub pid: u32,
    /// Field 22 of `/proc/<pid>/stat`: clock ticks after boot.
    pub start: String,
    pub host: String,
    pub pid_ns: String,
}

impl Owner {
    /// This pipekit-ci.
    pub fn current() -> Owner {
        let pid = std::process::id();
        Owner {
            pid,
            start: process_start(pid).unwrap_or_default(),
            host: host_name(),
            pid_ns: pid_namespace(),
        }
    }

    /// From an object's labels; `None` if they are not pipekit-ci's.
    pub fn from_labels(labels: &HashMap<String, String>) -> Option<Owner> {
        Some(Owner {
            pid: labels.get(OWNER_PID)?.parse().ok()?,
            start: labels.get(OWNER_START)?.clone(),
            host: labels.get(OWNER_HOST)?.clone(),
            pid_ns: labels.get(OWNER_PID_NS)?.clone(),
        })
    }

    /// Known dead: on this host and in this PID namespace, and no process with that pid,
    /// or one that started at another time (the pid was reused). Anywhere else nothing can
    /// be known, so it counts as alive; so does a process `/proc` hides from us.
    pub fn is_dead(&self) -> bool {
        if self.host != host_name() || self.pid_ns != pid_namespace() {
            return false;
        }
        match process_start(self.pid) {
            Some(start) => start != self.start,
            None => {
                let pid = nix::unistd::Pid::from_raw(self.pid as i32);
                nix::sys::signal::kill(pid, None) == Err(nix::errno::Errno::ESRCH)
            }
        }
    }
}

impl RunIdentity {
    pub fn labels(&self) -> HashMap<String, String> {
        HashMap::from([
            (RUN.to_string(), self.run_id.clone()),
            (
                PIPELINE_FILE.to_string(),
                self.pipeline_file.display().to_string(),
            ),
            (OWNER_PID.to_string(), self.owner.pid.to_string()),
            (OWNER_START.to_string(), self.owner.start.clone()),
            (OWNER_HOST.to_string(), self.owner.host.clone()),
            (OWNER_PID_NS.to_string(), self.owner.pid_ns.clone()),
        ])
    }
}

fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its end.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19).map(str::to_string)
}

fn pid_namespace() -> String {
    std::fs::read_link("/proc/self/ns/pid")
        .map(|link| link.display().to_string())
        .unwrap_or_default()
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_dead() {
        let me = Owner::current();
        assert!(!me.start.is_empty());
        assert!(!me.is_dead());
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        let start = process_start(pid).unwrap_or_default();
        child.wait().expect("wait");
        let gone = Owner {
            pid,
            start,
            host: me.host.clone(),
            pid_ns: me.pid_ns.clone(),
        };
        assert!(gone.is_dead());
        let elsewhere = Owner {
            host: format!("{}-elsewhere", me.host),
            ..gone
        };
        assert!(
            !elsewhere.is_dead(),
            "another host's process is never judged"
        );
        let other_namespace = Owner {
            pid_ns: "pid:[1]".into(),
            host: me.host.clone(),
            ..elsewhere
        };
        assert!(
            !other_namespace.is_dead(),
            "nor one in another PID namespace"
        );
    }

    #[test]
    fn owner_round_trips_through_labels() {
        let identity = RunIdentity {
            run_id: "r".into(),
            pipeline_file: "/p/pipekit.yml".into(),
            owner: Owner::current(),
        };
        let labels = identity.labels();
        assert_eq!(Owner::from_labels(&labels), Some(identity.owner));
        assert_eq!(labels[RUN], "r");
    }
}
