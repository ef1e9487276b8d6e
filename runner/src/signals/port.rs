//! The `Port(n)` watcher: fires when a socket of the job listens on port n, seen in the
//! kernel's socket tables (see `listening.rs`); a connect probe only where those cannot be
//! read.

use super::listening::{holds_any, listening_inodes, process_tree};
use crate::executor::JobTag;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Each tick reads the tables once; at this pace a listener is seen within ~10 ms.
const POLL_INTERVAL: Duration = Duration::from_millis(10);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(200);
/// How often the tagged processes are looked for again while the same foreign listener
/// holds the port: that scan reads every process's environment.
const RESCAN_TAGGED: Duration = Duration::from_millis(500);

/// How a job's `Port` signals can tell that the job listens, as its executor knows it.
#[derive(Debug, Clone)]
pub enum PortReadiness {
    /// Host processes: the job's process group leader (and all below it) and the tag every
    /// other process of the job carries (a double-forked daemon).
    Processes { leader: i32, tag: Option<JobTag> },
    /// A network namespace of the job's own, a container's (`/proc/<pid>/net`): every
    /// listener in it is the job's. `address` is for when the tables cannot be read.
    Namespace { tables: PathBuf, address: IpAddr },
    /// No table to read (an engine on another machine): the port is knocked on at
    /// `address`, and a connect counts.
    Connect(IpAddr),
}

/// Resolves once the job listens on `port`.
pub async fn watch_port(readiness: PortReadiness, port: u16) {
    let net = match &readiness {
        PortReadiness::Processes { .. } => PathBuf::from("/proc/net"),
        PortReadiness::Namespace { tables, .. } => tables.clone(),
        PortReadiness::Connect(address) => return knock(*address, port).await,
    };
    // Readable at the start or never: a table that goes away later (the container ended)
    // means the job is ending, and this watcher with it.
    if listening_inodes(&net, port).is_err() {
        let address = match &readiness {
            PortReadiness::Namespace { address, .. } => *address,
            _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        return knock(address, port).await;
    }
    let mut owner = Owner::default();
    loop {
        if let Ok(inodes) = listening_inodes(&net, port)
            && !inodes.is_empty()
        {
            match &readiness {
                PortReadiness::Processes { leader, tag } => {
                    if owner.is_job(*leader, tag.as_ref(), inodes).await {
                        return;
                    }
                }
                _ => return,
            }
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Finds out whether the listeners on the port belong to a host job, remembering what the
/// costly part (the scan for tagged processes) already answered.
#[derive(Default)]
struct Owner {
    scanned: Option<(BTreeSet<u64>, Instant)>,
}

impl Owner {
    async fn is_job(&mut self, leader: i32, tag: Option<&JobTag>, inodes: BTreeSet<u64>) -> bool {
        let rescan = tag.is_some()
            && self
                .scanned
                .as_ref()
                .is_none_or(|(seen, at)| *seen != inodes || at.elapsed() >= RESCAN_TAGGED);
        let tag = tag.filter(|_| rescan).cloned();
        let checked = inodes.clone();
        // Reading descriptors (and, rarely, every process's environment) is file I/O.
        let found = tokio::task::spawn_blocking(move || {
            let held = |pid: i32| holds_any(pid, &checked);
            process_tree(leader).into_iter().any(held)
                || tag.is_some_and(|tag| tag.find().into_iter().any(held))
        })
        .await
        .unwrap_or(false);
        if rescan {
            self.scanned = Some((inodes, Instant::now()));
        }
        found
    }
}

/// The fallback: resolves once `address:port` accepts a TCP connection.
async fn knock(address: IpAddr, port: u16) {
    let target = SocketAddr::new(address, port);
    loop {
        if let Ok(Ok(_)) = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target)).await {
            return;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The tables of the network namespace of process `pid`, if this process can read them.
pub fn namespace_tables(pid: i64) -> Option<PathBuf> {
    let tables = Path::new("/proc").join(pid.to_string()).join("net");
    listening_inodes(&tables, 0).is_ok().then_some(tables)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    async fn fires(readiness: PortReadiness, port: u16) -> bool {
        tokio::time::timeout(Duration::from_millis(300), watch_port(readiness, port))
            .await
            .is_ok()
    }

    fn this_process() -> PortReadiness {
        PortReadiness::Processes {
            leader: std::process::id() as i32,
            tag: None,
        }
    }

    #[tokio::test]
    async fn a_listener_of_the_job_fires_and_none_does_not() -> std::io::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        assert!(fires(this_process(), port).await);
        drop(listener);
        assert!(!fires(this_process(), port).await);
        Ok(())
    }

    #[tokio::test]
    async fn a_listener_outside_the_job_does_not_fire() -> std::io::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let mut other = std::process::Command::new("sleep").arg("30").spawn()?;
        let someone_else = PortReadiness::Processes {
            leader: other.id() as i32,
            tag: None,
        };
        let fired = fires(someone_else, port).await;
        other.kill()?;
        other.wait()?;
        assert!(!fired);
        Ok(())
    }

    #[tokio::test]
    async fn a_namespace_fires_on_any_listener_in_it() -> std::io::Result<()> {
        let listener = TcpListener::bind("[::]:0").or_else(|_| TcpListener::bind("0.0.0.0:0"))?;
        let port = listener.local_addr()?.port();
        let tables = namespace_tables(std::process::id().into());
        assert!(tables.is_some());
        let readiness = PortReadiness::Namespace {
            tables: tables.unwrap_or_default(),
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        assert!(fires(readiness, port).await);
        Ok(())
    }
}
