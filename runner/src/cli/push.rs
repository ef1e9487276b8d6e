//! `--event push --ref REF [--before SHA]`: what was pushed, and whether a pipeline cares.

use super::args::{EventKind, RunArgs};
use super::error::CliError;
use crate::triggers::{Decision as TriggerDecision, decide, parse_ref};
use pipekit_schema::Pipeline;

/// What was pushed.
pub(super) struct PushEvent {
    pub(super) reference: String,
    pub(super) before: Option<String>,
}

pub(super) fn push_event(args: &RunArgs) -> Result<Option<PushEvent>, CliError> {
    match (&args.event, &args.reference) {
        (None, None) if args.before.is_none() => Ok(None),
        (Some(EventKind::Push), Some(reference)) => Ok(Some(PushEvent {
            reference: reference.clone(),
            // All zeros: the branch is new, there is nothing to compare with.
            before: args
                .before
                .clone()
                .filter(|before| !before.chars().all(|c| c == '0')),
        })),
        _ => Err(CliError::InvalidInput(
            "--event push needs --ref REF (and takes --before SHA); --ref and --before need \
             --event push"
                .into(),
        )),
    }
}

/// Why the push does not concern the pipeline, if it does not.
pub(super) fn skipped(
    pipeline: &Pipeline,
    push: &PushEvent,
    changed: Option<&[String]>,
) -> Option<String> {
    let pushed = parse_ref(&push.reference);
    match decide(pipeline.triggers.as_ref(), &pushed, changed) {
        TriggerDecision::Run => None,
        TriggerDecision::Skip(why) => Some(why),
    }
}
