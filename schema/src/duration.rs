//! Compose's duration strings (`1m30s`, `500ms`) and plain numbers of seconds.

use std::time::Duration;

/// Parses a Compose duration: one or more `<number><unit>` with units `us`, `ms`, `s`, `m`, `h`.
pub(crate) fn parse_compose_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("a duration cannot be empty".to_owned());
    }
    if is_plain_number(text) {
        return seconds(text.parse::<f64>().map_err(|error| error.to_string())?);
    }
    let mut rest = text;
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|character: char| !(character.is_ascii_digit() || character == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let unit_len = after
            .find(|character: char| character.is_ascii_digit() || character == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        if !is_plain_number(number) {
            return Err(format!("`{text}` is not a duration"));
        }
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("`{text}` is missing a unit after `{number}`")),
            _ => return Err(format!("`{unit}` is not a duration unit")),
        };
        let value = number
            .parse::<f64>()
            .map_err(|_| format!("`{text}` is not a duration"))?;
        total += value * scale;
        rest = after;
    }
    seconds(total)
}

/// A positive or zero number of seconds as a [`Duration`].
pub(crate) fn seconds(value: f64) -> Result<Duration, String> {
    if value.is_nan() || value < 0.0 {
        return Err("a duration cannot be negative".to_owned());
    }
    Duration::try_from_secs_f64(value).map_err(|_| "the duration is too long".to_owned())
}

/// Digits with at most one decimal point: what `:30` and `:0.5` timeouts accept.
pub(crate) fn is_plain_number(text: &str) -> bool {
    let mut digits = 0;
    let mut points = 0;
    for character in text.chars() {
        match character {
            '0'..='9' => digits += 1,
            '.' => points += 1,
            _ => return false,
        }
    }
    digits > 0 && points <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compose_durations() {
        let cases = [
            ("1s", Duration::from_secs(1)),
            ("1m30s", Duration::from_secs(90)),
            ("500ms", Duration::from_millis(500)),
            ("1h", Duration::from_secs(3600)),
            ("1.5s", Duration::from_millis(1500)),
            ("2m3s", Duration::from_secs(123)),
            ("10", Duration::from_secs(10)),
            ("0", Duration::ZERO),
            ("250us", Duration::from_micros(250)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_compose_duration(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for text in ["", "s", "1x", "1 minute", "-1s", "1..2s", "abc", "1s2"] {
            assert!(parse_compose_duration(text).is_err(), "{text}");
        }
    }

    #[test]
    fn rejects_durations_that_overflow() {
        assert!(seconds(1e300).is_err());
        assert!(seconds(f64::NAN).is_err());
        assert!(seconds(-1.0).is_err());
    }

    #[test]
    fn recognises_plain_numbers() {
        assert!(is_plain_number("30"));
        assert!(is_plain_number("0.5"));
        assert!(!is_plain_number("1e3"));
        assert!(!is_plain_number("."));
        assert!(!is_plain_number("1.2.3"));
        assert!(!is_plain_number("-1"));
    }
}
