//! How much output a job's log keeps (`--log-limit`): sizes such as `64M`, or `none`.

const UNITS: [(&str, u64); 4] = [
    ("", 1),
    ("K", 1024),
    ("M", 1024 * 1024),
    ("G", 1024 * 1024 * 1024),
];

/// Parses `0`, `none` or `unlimited` (no limit, `None`), or a number of bytes with an
/// optional binary unit: `512`, `64K`, `64M`, `1G`, also written `64MiB` or `64MB`.
pub fn parse_log_limit(text: &str) -> Result<Option<u64>, String> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    if lower == "none" || lower == "unlimited" {
        return Ok(None);
    }
    let unit_start = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(unit_start);
    let unit = unit.trim_start();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(unit);
    let multiplier = UNITS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(unit))
        .map(|(_, multiplier)| *multiplier);
    let bytes = match (digits.parse::<u64>(), multiplier) {
        (Ok(number), Some(multiplier)) => number.checked_mul(multiplier),
        _ => None,
    };
    match bytes {
        Some(0) => Ok(None),
        Some(bytes) => Ok(Some(bytes)),
        None => Err(format!(
            "`{trimmed}` is not a size: give bytes with an optional K, M or G (binary units), \
             such as `64M`, or `none` for no limit"
        )),
    }
}

/// A size as the user would write it: `64 MiB` when it is a whole number of a unit, else bytes.
pub fn format_size(bytes: u64) -> String {
    let unit = UNITS
        .iter()
        .rev()
        .find(|(_, multiplier)| bytes >= *multiplier && bytes.is_multiple_of(*multiplier));
    match unit {
        Some((name, multiplier)) if !name.is_empty() => {
            format!("{} {name}iB", bytes / multiplier)
        }
        _ => format!("{bytes} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes_and_the_words_for_no_limit() {
        let cases: [(&str, Option<u64>); 10] = [
            ("0", None),
            ("none", None),
            ("Unlimited", None),
            ("512", Some(512)),
            ("64K", Some(64 * 1024)),
            ("64k", Some(64 * 1024)),
            ("1M", Some(1024 * 1024)),
            ("64MiB", Some(64 * 1024 * 1024)),
            ("2 GB", Some(2 * 1024 * 1024 * 1024)),
            ("10b", Some(10)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_log_limit(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_size() {
        for text in [
            "",
            "M",
            "-1",
            "1.5M",
            "64X",
            "99999999999999999999",
            "16777216T",
        ] {
            let error = parse_log_limit(text).expect_err(text);
            assert!(error.contains("not a size"), "{error}");
        }
    }

    #[test]
    fn formats_sizes_in_the_largest_whole_unit() {
        assert_eq!(format_size(64 * 1024 * 1024), "64 MiB");
        assert_eq!(format_size(1024 * 1024), "1 MiB");
        assert_eq!(format_size(1536), "1536 bytes");
        assert_eq!(format_size(3 * 1024), "3 KiB");
        assert_eq!(format_size(25), "25 bytes");
    }
}
