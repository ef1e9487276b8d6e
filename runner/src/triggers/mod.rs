//! Whether a push concerns the pipeline, from its `on:` block, as GitHub Actions decides
//! it. Pure: the caller reads the ref and the changed files from git.

mod decision;
mod pattern_list;
mod push_ref;

pub use decision::{Decision, decide};
pub use push_ref::{PushRef, parse_ref};
