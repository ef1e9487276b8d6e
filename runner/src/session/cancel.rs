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

    /// Resolves once a cancel was made (at once if one already was).
    pub async fn cancelled(&mut self) {
        let _ = self.0.wait_for(|count| *count > 0).await;
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
