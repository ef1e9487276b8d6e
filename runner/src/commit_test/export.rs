//! The commit's tree written out for its jobs' checkouts.

use crate::git::{Checkouts, GitError, SourceRepo};
use crate::session::CancelSignal;
use git2::Oid;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exports `tree` under `into`, stopping on a cancel (what was written is removed). Call it
/// within the runtime. On the caller's thread, since the repository cannot move to another
/// one; on the multi-threaded runtime its other threads keep listening for the cancel
/// meanwhile (on a current-thread runtime a cancel is only seen once the export is done).
/// Not async, so that no future holds the repository, which is not `Sync`.
pub fn export(
    repo: &SourceRepo,
    tree: Oid,
    into: &Path,
    cancel: &CancelSignal,
) -> Result<Checkouts, GitError> {
    let stop = Arc::new(AtomicBool::new(cancel.is_cancelled()));
    let mut cancel = cancel.clone();
    let stopper = {
        let stop = stop.clone();
        tokio::spawn(async move {
            cancel.cancelled().await;
            stop.store(true, Ordering::Relaxed);
        })
    };
    let export = || Checkouts::export(repo, tree, into, &stop);
    let exported = match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(export),
        _ => export(),
    };
    stopper.abort();
    exported
}
