//! The repository a run tests, through git2 (never the `git` command): which commit, what
//! changed, and clean per-job checkouts of it.

mod checkout;
mod commit;
mod error;
mod repository;
mod repository_name;

pub use checkout::Checkouts;
pub use commit::CommitInfo;
pub use error::GitError;
pub use repository::{Revision, SourceRepo};
pub use repository_name::{is_repository_name, repository_name};
