//! How long a status waits before it is sent again after a failed attempt.

use std::time::Duration;

/// The wait after the first failure; each further one doubles it.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// The longest wait: a forge back after an outage hears from us within five minutes,
/// and one that stays down gets a request per status every five minutes, no more.
const LONGEST_RETRY: Duration = Duration::from_secs(300);

/// The wait before attempt `failed + 1`, after `failed` failed attempts (at least 1):
/// 1 s, 2 s, 4 s, … up to `LONGEST_RETRY` (5 minutes).
pub fn retry_delay(failed: u32) -> Duration {
    let doublings = failed.saturating_sub(1).min(31);
    FIRST_RETRY
        .checked_mul(1 << doublings)
        .map_or(LONGEST_RETRY, |delay| delay.min(LONGEST_RETRY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_a_second_up_to_five_minutes() {
        let table = [
            (0, 1),
            (1, 1),
            (2, 2),
            (3, 4),
            (4, 8),
            (8, 128),
            (9, 256),
            (10, 300),
            (40, 300),
            (u32::MAX, 300),
        ];
        for (failed, seconds) in table {
            assert_eq!(
                retry_delay(failed),
                Duration::from_secs(seconds),
                "after {failed}"
            );
        }
    }
}
