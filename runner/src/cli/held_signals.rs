//! Holds back the signals that end pipekit-ci while it does work that has no signal handling
//! of its own yet: exporting a commit before the run starts. Killed half-way, the export
//! would leave its temporary tree behind; held back, the signal is seen once the work is
//! done, and pipekit-ci cleans up and ends as interrupted.

use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// Signals blocked since [`HeldSignals::hold`]; dropping it unblocks them.
pub(super) struct HeldSignals {
    held: SigSet,
    previous: SigSet,
}

impl HeldSignals {
    /// Blocks SIGINT, SIGTERM, SIGHUP and SIGQUIT. Call it before any thread is started: threads
    /// inherit the mask. None if the mask cannot be changed (the work then runs unprotected).
    pub(super) fn hold() -> Option<Self> {
        let mut held = SigSet::empty();
        for signal in [
            Signal::SIGINT,
            Signal::SIGTERM,
            Signal::SIGHUP,
            Signal::SIGQUIT,
        ] {
            held.add(signal);
        }
        let mut previous = SigSet::empty();
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&held), Some(&mut previous)).ok()?;
        Some(Self { held, previous })
    }

    /// Unblocks the signals; returns the one that arrived meanwhile (taken, so it does not
    /// kill the process on unblocking), if any.
    pub(super) fn release(self) -> Option<Signal> {
        // A signalfd reads pending blocked signals without waiting; nix offers no sigpending.
        let mut arrived = None;
        if let Ok(signals) = SignalFd::with_flags(&self.held, SfdFlags::SFD_NONBLOCK) {
            // Take every pending one: any left would end the process as the mask comes off.
            while let Ok(Some(info)) = signals.read_signal() {
                let signal = i32::try_from(info.ssi_signo)
                    .ok()
                    .and_then(|number| Signal::try_from(number).ok());
                arrived = arrived.or(signal);
            }
        }
        drop(self);
        arrived
    }
}

impl Drop for HeldSignals {
    fn drop(&mut self) {
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.previous), None);
    }
}
