//! The signals that stop a run, turned into cancels of the run's [`CancelHandle`](crate::session::CancelHandle): SIGINT,
//! SIGTERM, SIGHUP (a closed terminal) and SIGQUIT each count once, the first stopping
//! gracefully, the next forcing. Jobs run in their own process groups, so without this a
//! hang-up would orphan them. Installed once per process, before anything that must be
//! cleaned up (an export, a run folder) is made.

use super::error::CliError;
use crate::session::{CancelSignal, cancel_channel};
use tokio::signal::unix::{SignalKind, signal};

/// Installs the handlers on the current runtime; the signal every run of this process
/// listens to.
pub(super) fn listen_for_interrupts() -> Result<CancelSignal, CliError> {
    let (handle, cancel) = cancel_channel();
    let install = |kind| {
        signal(kind).map_err(|e| CliError::Environment(format!("cannot handle signals: {e}")))
    };
    let mut interrupt = install(SignalKind::interrupt())?;
    let mut terminate = install(SignalKind::terminate())?;
    let mut hangup = install(SignalKind::hangup())?;
    let mut quit = install(SignalKind::quit())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(()) = interrupt.recv() => {}
                Some(()) = terminate.recv() => {}
                Some(()) = hangup.recv() => {}
                Some(()) = quit.recv() => {}
                else => break,
            }
            handle.cancel();
        }
    });
    Ok(cancel)
}
