//! pipekit-serve: the self-hosted service behind `pipekit-ci serve` (spec section 8).
//!
//! [`store`] is its memory: the queue and the history of runs in one SQLite database, the
//! only state besides the run folders, so that a restart loses nothing.

pub mod store;
