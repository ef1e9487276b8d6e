//! The time of an event: milliseconds since the Unix epoch, written as RFC 3339 in UTC.

use crate::storage::rfc3339;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time to the millisecond, as events carry it (`2026-11-22T00:15:00.123Z`).
/// Whole milliseconds, so that what is read back from `events.jsonl` is exactly what was
/// written, and a record derived from either is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The time, cut to the millisecond; times before 1970 (a broken clock) are the epoch.
    pub fn from_system_time(time: SystemTime) -> Self {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        Self(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn millis_since_epoch(self) -> u64 {
        self.0
    }

    /// Seconds from `earlier` to this time (zero if `earlier` is later).
    pub fn seconds_since(self, earlier: Timestamp) -> f64 {
        self.0.saturating_sub(earlier.0) as f64 / 1000.0
    }

    /// Parses the form [`fmt::Display`] writes: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let shape_ok = bytes.len() == 24
            && [
                (4, b'-'),
                (7, b'-'),
                (10, b'T'),
                (13, b':'),
                (16, b':'),
                (19, b'.'),
                (23, b'Z'),
            ]
            .iter()
            .all(|(index, byte)| bytes[*index] == *byte);
        if !shape_ok {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u64> {
            let digits = text.get(range)?;
            digits
                .bytes()
                .all(|byte| byte.is_ascii_digit())
                .then(|| digits.parse().ok())
                .flatten()
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
        let millis = number(20..23)?;
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
            return None;
        }
        // Leap seconds (`:60`) are not written by `rfc3339`, so they are not read either.
        if second > 59 {
            return None;
        }
        let days = days_from_civil(year as i64, month as u32, day as u32);
        let seconds = u64::try_from(days).ok()? * 86_400 + hour * 3600 + minute * 60 + second;
        Some(Self(seconds * 1000 + millis))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&rfc3339(UNIX_EPOCH + Duration::from_millis(self.0)))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not an RFC 3339 UTC time with milliseconds"
            ))
        })
    }
}

/// Howard Hinnant's `days_from_civil`: (year, month, day) to days since 1970-01-01, the
/// inverse of the `civil_from_days` the run folder formats with.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_times_read_back_to_the_millisecond() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_005, "2000-02-29T00:00:00.005Z"),
            (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
            (1_795_306_500_123, "2026-11-22T00:15:00.123Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
        ];
        for (millis, text) in cases {
            let time = Timestamp(millis);
            assert_eq!(time.to_string(), text);
            assert_eq!(Timestamp::parse(text), Some(time), "{text}");
            assert_eq!(
                serde_json::to_string(&time).ok(),
                Some(format!("\"{text}\""))
            );
        }
    }

    #[test]
    fn other_shapes_are_refused() {
        for text in [
            "",
            "2026-11-22T00:15:00Z",
            "2026-11-22T00:15:00.123+01:00",
            "2026-13-22T00:15:00.123Z",
            "2026-11-22T24:15:00.123Z",
            "2026-11-22T00:15:60.123Z",
            "2026-11-22 00:15:00.123Z",
            "+026-11-22T00:15:00.123Z",
        ] {
            assert_eq!(Timestamp::parse(text), None, "{text}");
        }
    }

    #[test]
    fn seconds_between_times() {
        let start = Timestamp(1_000);
        assert_eq!(Timestamp(3_250).seconds_since(start), 2.25);
        assert_eq!(start.seconds_since(Timestamp(3_250)), 0.0);
    }
}
