//! Who listens on a TCP port, read from the kernel's socket tables instead of knocking: a
//! connect is a client to the job's server (it takes the one connection a server accepts,
//! makes PostgreSQL log "incomplete startup packet"), and a port held by someone else would
//! answer for a job that never listened.
//!
//! `<net>/tcp` and `<net>/tcp6` list every socket of one network namespace with its state
//! and inode; `/proc/<pid>/fd/*` links to `socket:[inode]` for each socket a process holds.

use std::collections::BTreeSet;
use std::io;
use std::path::Path;

/// `TCP_LISTEN` in the kernel's `tcp_states.h`, as the tables print it.
const LISTEN: &str = "0A";

/// Inodes of the sockets in LISTEN state on `port` (any address) in the namespace whose
/// tables are in `net` (`/proc/net`, `/proc/<pid>/net`). An error only when neither table
/// can be read: a kernel without IPv6 has no `tcp6`.
pub fn listening_inodes(net: &Path, port: u16) -> io::Result<BTreeSet<u64>> {
    let mut inodes = BTreeSet::new();
    let mut read_any = None;
    for table in ["tcp", "tcp6"] {
        match std::fs::read_to_string(net.join(table)) {
            Ok(text) => {
                inodes.extend(parse_table(&text, port));
                read_any = Some(Ok(()));
            }
            Err(error) => {
                read_any.get_or_insert(Err(error));
            }
        }
    }
    read_any.unwrap_or_else(|| Err(io::Error::other("no socket table")))?;
    Ok(inodes)
}

/// The LISTEN sockets on `port` in one table's text.
fn parse_table(text: &str, port: u16) -> impl Iterator<Item = u64> + '_ {
    // `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...`, the
    // local address as `HEX_IP:HEX_PORT`; the first line is the header.
    text.lines().skip(1).filter_map(move |line| {
        let mut fields = line.split_whitespace();
        let local = fields.nth(1)?;
        let state = fields.nth(1)?;
        let inode = fields.nth(5)?;
        let (_, local_port) = local.rsplit_once(':')?;
        (state == LISTEN && u16::from_str_radix(local_port, 16).ok()? == port)
            .then(|| inode.parse().ok())
            .flatten()
            .filter(|inode| *inode != 0)
    })
}

/// Whether process `pid` holds one of `inodes` among its descriptors. A process that is
/// gone or not ours to read holds nothing.
pub fn holds_any(pid: i32, inodes: &BTreeSet<u64>) -> bool {
    let Ok(descriptors) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    descriptors.filter_map(Result::ok).any(|descriptor| {
        std::fs::read_link(descriptor.path()).is_ok_and(|target| {
            socket_inode(&target.to_string_lossy()).is_some_and(|inode| inodes.contains(&inode))
        })
    })
}

/// `socket:[12345]` -> 12345.
fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// `leader` and every process below it in the process tree (through each thread's
/// `children`), so a job's server forked under `sh -c` is found without scanning `/proc`.
/// Processes that left the tree (a double fork re-parents to the subreaper) are not: the
/// job's tag finds those.
pub fn process_tree(leader: i32) -> Vec<i32> {
    let mut found = vec![leader];
    let mut next = 0;
    while let Some(&pid) = found.get(next) {
        next += 1;
        let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for thread in threads.filter_map(Result::ok) {
            let Ok(children) = std::fs::read_to_string(thread.path().join("children")) else {
                continue;
            };
            found.extend(
                children
                    .split_whitespace()
                    .filter_map(|child| child.parse::<i32>().ok()),
            );
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    const NET: &str = "/proc/net";
    const ME: fn() -> i32 = || std::process::id() as i32;

    #[test]
    fn a_table_line_is_read_by_state_and_port() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
            \x20  0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0 100 0 0 10 0\n\
            \x20  1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 222 1 0 20 4 30 10 -1\n\
            \x20  2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 333 1 0 100 0 0 10 0\n";
        assert_eq!(parse_table(table, 8080).collect::<Vec<_>>(), [111]);
        assert_eq!(parse_table(table, 8081).collect::<Vec<_>>(), [333]);
        assert!(parse_table(table, 80).next().is_none());
    }

    #[test]
    fn an_ipv4_listener_of_this_process_is_found() -> io::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let inodes = listening_inodes(Path::new(NET), port)?;
        assert_eq!(inodes.len(), 1);
        assert!(holds_any(ME(), &inodes));
        Ok(())
    }

    #[test]
    fn an_ipv6_listener_of_this_process_is_found() -> io::Result<()> {
        let Ok(listener) = TcpListener::bind("[::]:0") else {
            eprintln!("skipped: no IPv6 on this machine");
            return Ok(());
        };
        let port = listener.local_addr()?.port();
        let inodes = listening_inodes(Path::new(NET), port)?;
        assert_eq!(inodes.len(), 1);
        assert!(holds_any(ME(), &inodes));
        Ok(())
    }

    #[tokio::test]
    async fn a_bound_socket_that_does_not_listen_does_not_count() -> io::Result<()> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind("127.0.0.1:0".parse().map_err(io::Error::other)?)?;
        let port = socket.local_addr()?.port();
        assert!(listening_inodes(Path::new(NET), port)?.is_empty());
        Ok(())
    }

    #[test]
    fn a_listener_of_another_process_is_not_held_by_this_one() -> io::Result<()> {
        let Ok(mut server) = std::process::Command::new("python3")
            .args([
                "-c",
                "import socket,sys;s=socket.socket();s.bind(('127.0.0.1',0));s.listen();\
                 print(s.getsockname()[1],flush=True);sys.stdin.read()",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
        else {
            eprintln!("skipped: python3 is not available on this machine");
            return Ok(());
        };
        let mut line = String::new();
        if let Some(stdout) = server.stdout.take() {
            io::BufRead::read_line(&mut io::BufReader::new(stdout), &mut line)?;
        }
        let port: u16 = line.trim().parse().map_err(io::Error::other)?;
        let inodes = listening_inodes(Path::new(NET), port)?;
        let server_pid = server.id() as i32;
        let (theirs, mine) = (holds_any(server_pid, &inodes), holds_any(ME(), &inodes));
        drop(server.stdin.take());
        server.wait()?;
        assert_eq!(inodes.len(), 1);
        assert!(theirs, "the server holds its listener");
        assert!(!mine, "this process does not");
        Ok(())
    }

    #[test]
    fn the_tree_holds_the_leader_and_its_children() -> io::Result<()> {
        let mut child = std::process::Command::new("sleep").arg("30").spawn()?;
        let tree = process_tree(ME());
        let pid = child.id() as i32;
        child.kill()?;
        child.wait()?;
        assert_eq!(tree.first(), Some(&ME()));
        assert!(tree.contains(&pid), "{tree:?} lacks {pid}");
        Ok(())
    }
}
