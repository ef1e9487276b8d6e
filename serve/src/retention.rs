//! `keep: {runs: N, days: D}` (spec 8): how much history each repository keeps. Either
//! bound may be left out; the newest passed run of each branch is kept whatever they say,
//! so a branch's badge and its last good artifacts survive a long red streak.

use std::time::{Duration, SystemTime};

/// How much of each repository's history is kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retention {
    /// The newest this many runs of a repository (waiting and going on ones included).
    pub runs: Option<u32>,
    /// Runs that ended longer ago than this go.
    pub max_age: Option<Duration>,
}

impl Retention {
    /// The moment before which runs that ended are too old, seen at `now`.
    pub fn too_old_before(&self, now: SystemTime) -> Option<SystemTime> {
        self.max_age.and_then(|age| now.checked_sub(age))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_age_bound_counts_back_from_now() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(10 * 86_400);
        let keep = Retention {
            runs: None,
            max_age: Some(Duration::from_secs(3 * 86_400)),
        };
        assert_eq!(
            keep.too_old_before(now),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(7 * 86_400))
        );
        let by_count = Retention {
            runs: Some(5),
            max_age: None,
        };
        assert_eq!(by_count.too_old_before(now), None);
    }
}
