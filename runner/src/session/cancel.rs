//! Asking a run to stop from outside: the CLI on a signal, the service on a button.

use tokio::sync::{mpsc, watch};

/// Stops the runs listening to it: the first call gracefully, the next ones forcefully.
/// Cheap to clone; every clone counts towards the same escalation.
#[derive(Debug, Clone)]
pub struct CancelHandle(watch::Sender<u32>);

/// What a run listens to; one signal may serve several runs one after the other (the
/// pipelines of one commit), each seeing every cancel made before or during it.
#[derive(Debug, Clone)]
pub struct CancelSignal(watch::Receiver<u32>);

/// A handle and the signal it drives.
pub fn cancel_channel() -> (CancelHandle, CancelSignal) {
    let (sender, receiver) = watch::channel(0);
    (CancelHandle(sender), CancelSignal(receiver))
}

impl CancelHandle {
    /// One more cancel: the first stops the run's jobs gracefully, a second kills them.
    pub fn cancel(&self) {
        self.0.send_modify(|count| *count = count.saturating_add(1));
    }
}

impl CancelSignal {
    /// A signal no one ever cancels.
    pub fn never() -> CancelSignal {
        cancel_channel().1
    }

    /// Whether any cancel was made yet.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow() > 0
    }

    /// Resolves once a cancel was made (at once if one already was); never, once every
    /// handle is gone without one (as for [`CancelSignal::never`]).
    pub async fn cancelled(&mut self) {
        if self.0.wait_for(|count| *count > 0).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// The cancels as one message each, for the driver: those already made come first.
    /// The forwarding task ends with the run (when the receiver is dropped).
    pub(crate) fn into_messages(mut self) -> mpsc::UnboundedReceiver<()> {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut sent = 0u32;
            loop {
                let count = *self.0.borrow_and_update();
                while sent < count {
                    if sender.send(()).is_err() {
                        return;
                    }
                    sent += 1;
                }
                tokio::select! {
                    changed = self.0.changed() => if changed.is_err() { return },
                    () = sender.closed() => return,
                }
            }
        });
        receiver
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Regression: with every handle gone, `cancelled()` used to resolve at once, so an
    /// export under `CancelSignal::never()` stopped itself.
    #[tokio::test(start_paused = true)]
    async fn a_signal_without_handles_is_never_cancelled() {
        let mut never = CancelSignal::never();
        let waited = tokio::time::timeout(Duration::from_secs(3600), never.cancelled()).await;
        assert!(waited.is_err(), "resolved without a cancel");
        assert!(!never.is_cancelled());

        let (handle, mut signal) = cancel_channel();
        handle.cancel();
        drop(handle);
        let waited = tokio::time::timeout(Duration::from_secs(1), signal.cancelled()).await;
        assert!(
            waited.is_ok(),
            "a cancel made before the handle went is seen"
        );
    }
}
