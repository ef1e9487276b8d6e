//! Watchers that turn what a job does into signal events: lines (`Grep`), files
//! (`Exists`), ports (`Port`) and healthchecks.

mod grep;
mod watchers;

pub use grep::GrepMatcher;
pub use watchers::{watch_exists, watch_health, watch_port};
