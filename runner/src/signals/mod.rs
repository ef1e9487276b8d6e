//! Watchers that turn what a job does into signal events: lines (`Grep`), files
//! (`Exists`), ports (`Port`) and healthchecks.

mod grep;
mod listening;
mod port;
mod watchers;

pub use grep::GrepMatcher;
pub use port::{PortReadiness, namespace_tables, watch_port};
pub use watchers::{watch_exists, watch_health};
