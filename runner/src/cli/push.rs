//! `--event push --ref REF [--before SHA]`: the push a run tests.

use super::args::{EventKind, RunArgs};
use super::error::CliError;
use crate::commit_test::PushEvent;

pub(super) fn push_event(args: &RunArgs) -> Result<Option<PushEvent>, CliError> {
    match (&args.event, &args.reference) {
        (None, None) if args.before.is_none() => Ok(None),
        (Some(EventKind::Push), Some(reference)) => {
            Ok(Some(PushEvent::new(reference.clone(), args.before.clone())))
        }
        _ => Err(CliError::InvalidInput(
            "--event push needs --ref REF (and takes --before SHA); --ref and --before need \
             --event push"
                .into(),
        )),
    }
}
