//! Signals to a whole process group, so a job's children go with it.

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// The process group a job runs in (its leader's pid).
#[derive(Debug, Clone, Copy)]
pub struct ProcessGroup(pub i32);

impl ProcessGroup {
    /// Sends `signal` to every process of the group; false once the group is gone.
    pub fn signal(self, signal: Signal) -> bool {
        match killpg(Pid::from_raw(self.0), signal) {
            Ok(()) => true,
            // ESRCH: nobody is left in the group; EPERM can only mean a recycled id.
            Err(Errno::ESRCH | Errno::EPERM) => false,
            Err(_) => false,
        }
    }

    /// Whether any process of the group is still alive.
    pub fn is_alive(self) -> bool {
        matches!(killpg(Pid::from_raw(self.0), None), Ok(()))
    }
}
