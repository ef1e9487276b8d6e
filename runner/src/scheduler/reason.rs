//! What the reason types share: their JSON form with the prose beside the data, and the
//! helpers that serialise durations and mask quoted texts.

use serde::{Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// A reason as spec section 7 writes it: its typed fields (`kind`, `job`, …) and `text`,
/// the prose the console and `run.json` show, so a UI can link the data and still print.
#[derive(Debug, Serialize)]
pub struct ReasonWithText<'a, T: Serialize> {
    #[serde(flatten)]
    reason: &'a T,
    text: String,
}

impl<'a, T: Serialize + fmt::Display> ReasonWithText<'a, T> {
    /// Pairs `reason` with its prose.
    pub fn new(reason: &'a T) -> Self {
        Self {
            reason,
            text: reason.to_string(),
        }
    }
}

/// A duration as seconds with a fraction, the unit every `*_seconds` field of the spec uses.
pub(super) fn seconds<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

/// [`seconds`] for a duration that may be absent.
pub(super) fn optional_seconds<S: Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => serializer.serialize_some(&duration.as_secs_f64()),
        None => serializer.serialize_none(),
    }
}

/// `mask` applied to an owned text (masking takes a borrowed one).
pub(super) fn map_string(text: String, mask: &dyn Fn(&str) -> String) -> String {
    mask(&text)
}
