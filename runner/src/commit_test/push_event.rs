//! What was pushed, as a hook, a webhook or `--event push` tells it.

use crate::triggers::{Decision, decide, parse_ref};
use pipekit_schema::Pipeline;

/// A push of `reference` (`refs/heads/main`), from `before` when the ref existed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    pub reference: String,
    pub before: Option<String>,
}

impl PushEvent {
    /// A push; a `before` of all zeros (git's "the ref is new") is no `before`.
    pub fn new(reference: String, before: Option<String>) -> PushEvent {
        PushEvent {
            reference,
            before: before.filter(|before| !before.chars().all(|c| c == '0')),
        }
    }

    /// Why the push does not concern `pipeline` (its `on:`), if it does not. `changed`:
    /// the paths the push changed, when known.
    pub fn skip_reason(&self, pipeline: &Pipeline, changed: Option<&[String]>) -> Option<String> {
        match decide(
            pipeline.triggers.as_ref(),
            &parse_ref(&self.reference),
            changed,
        ) {
            Decision::Run => None,
            Decision::Skip(why) => Some(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_all_zero_before_is_a_new_ref() {
        let new = PushEvent::new("refs/heads/main".into(), Some("0".repeat(40)));
        assert_eq!(new.before, None);
        let moved = PushEvent::new("refs/heads/main".into(), Some("a1b2".into()));
        assert_eq!(moved.before.as_deref(), Some("a1b2"));
    }
}
