//! Looking at the machine's processes and ports from outside pipekit-ci.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A number no other test (or other test run) uses, to recognise our own processes.
pub fn unique_marker() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.subsec_nanos())
        .unwrap_or_default();
    // `sleep <marker>` must stay a valid, long duration: 3000-3999 s and a fraction.
    format!("{}.{:09}", 3000 + std::process::id() % 1000, nanos)
}

/// Processes whose command line contains `marker`, as (pid, command line).
pub fn processes_with(marker: &str) -> Vec<(i32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let own = std::process::id() as i32;
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != own)
        .filter_map(|pid| {
            // Gone in the meantime, or a zombie (empty command line): not a leftover.
            let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let command_line = String::from_utf8_lossy(&bytes).replace('\0', " ");
            command_line.contains(marker).then_some((pid, command_line))
        })
        .collect()
}

/// Polls `condition` every 20 ms for up to `limit`; whether it ever held.
pub fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills processes a failed test left behind (found by its own marker), by pid.
pub fn kill_processes(processes: &[(i32, String)]) {
    for (pid, _) in processes {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("cannot bind a free port");
    listener
        .local_addr()
        .expect("bound listener has an address")
        .port()
}

/// Whether `python3` runs on this machine (within 10 s).
pub fn python3_available() -> bool {
    let Ok(mut child) = Command::new("python3")
        .args(["-c", "pass"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}
