//! Running the hook's children (the replaced hook, `pipekit-ci run`) to their end.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io;
use std::process::{Command, ExitStatus, Stdio};
use tokio::io::AsyncWriteExt;
use tokio::signal::unix::{self, SignalKind};

/// Runs child processes one at a time while the hook itself outlives the terminal's
/// signals. Ctrl-C reaches the whole foreground process group, so the child (a run,
/// which stops its jobs gracefully) has it already; the hook waits for it to finish and
/// reports, rather than dying first and leaving it behind. A SIGTERM is usually meant for
/// the hook alone and is passed on.
pub struct ChildSupervisor {
    runtime: tokio::runtime::Runtime,
    interrupt: unix::Signal,
    terminate: unix::Signal,
    hangup: unix::Signal,
    quit: unix::Signal,
}

impl ChildSupervisor {
    pub fn new() -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (interrupt, terminate, hangup, quit) = {
            let _context = runtime.enter();
            (
                unix::signal(SignalKind::interrupt())?,
                unix::signal(SignalKind::terminate())?,
                unix::signal(SignalKind::hangup())?,
                unix::signal(SignalKind::quit())?,
            )
        };
        Ok(Self {
            runtime,
            interrupt,
            terminate,
            hangup,
            quit,
        })
    }

    /// Starts `command`, feeds it `input` on stdin when given, and waits for its end.
    pub fn run(&mut self, command: Command, input: Option<&[u8]>) -> io::Result<ExitStatus> {
        let mut command = tokio::process::Command::from(command);
        if input.is_some() {
            command.stdin(Stdio::piped());
        }
        let Self {
            runtime,
            interrupt,
            terminate,
            hangup,
            quit,
        } = self;
        runtime.block_on(async {
            let mut child = command.spawn()?;
            if let (Some(mut pipe), Some(input)) = (child.stdin.take(), input) {
                let input = input.to_vec();
                // A child that exits without reading all of it is not an error (git
                // ignores that too); dropping the pipe afterwards gives it end-of-file.
                tokio::spawn(async move {
                    let _ = pipe.write_all(&input).await;
                });
            }
            loop {
                tokio::select! {
                    status = child.wait() => return status,
                    Some(()) = terminate.recv() => {
                        if let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) {
                            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
                        }
                    }
                    Some(()) = interrupt.recv() => {}
                    Some(()) = hangup.recv() => {}
                    Some(()) = quit.recv() => {}
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_stdin_and_reports_the_exit_status() {
        let mut supervisor = ChildSupervisor::new().expect("supervisor");
        let dir = tempfile::tempdir().expect("tempdir");
        let copy = dir.path().join("copy");
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg("cat > \"$1\"; exit 3")
            .arg("sh")
            .arg(&copy);

        let status = supervisor
            .run(command, Some(b"refs/heads/main\n"))
            .expect("runs");

        assert_eq!(status.code(), Some(3));
        assert_eq!(
            std::fs::read_to_string(&copy).expect("read"),
            "refs/heads/main\n"
        );
    }

    #[test]
    fn a_child_that_ignores_its_input_is_no_error() {
        let mut supervisor = ChildSupervisor::new().expect("supervisor");
        let mut command = Command::new("true");
        command.stdout(Stdio::null());
        let input = vec![b'x'; 1 << 20];
        let status = supervisor.run(command, Some(&input)).expect("runs");
        assert!(status.success());
    }
}
