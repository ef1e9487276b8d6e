//! "Did you mean …?" for misspelt keys, jobs, signals and constructors.

/// The candidate closest to `word`, if one is close enough to be a plausible typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // Longer inputs are not typos of short names, and distances cost O(n * m).
    if word.is_empty() || word.len() > 64 {
        return None;
    }
    let word = word.to_lowercase();
    let allowed = match word.chars().count() {
        0..=3 => 1,
        4..=6 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let distance = strsim::osa_distance(&word, &candidate.to_lowercase());
        if distance <= allowed && best.is_none_or(|(closest, _)| distance < closest) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// `"did you mean `x`?"`, for a diagnostic's hint.
pub(crate) fn hint<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    did_you_mean(word, candidates).map(|candidate| format!("did you mean `{candidate}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_candidates_only() {
        let fields = ["image", "timeout", "depends_on", "environment", "signals"];
        let cases = [
            ("timout", Some("timeout")),
            ("tiemout", Some("timeout")),
            ("imgae", Some("image")),
            ("Image", Some("image")),
            ("depends-on", Some("depends_on")),
            ("enviroment", Some("environment")),
            ("signal", Some("signals")),
            ("volumes", None),
            ("x", None),
            ("", None),
        ];
        for (word, expected) in cases {
            assert_eq!(did_you_mean(word, fields), expected, "{word}");
        }
    }

    #[test]
    fn prefers_the_closest_candidate() {
        assert_eq!(
            did_you_mean("dtabase", ["web", "database", "data"]),
            Some("database")
        );
        assert_eq!(did_you_mean("redy", ["ready", "Started"]), Some("ready"));
        assert_eq!(
            did_you_mean("Grepp", ["Grep", "Exists", "Port"]),
            Some("Grep")
        );
        assert_eq!(did_you_mean("stdot", ["stdout", "stderr"]), Some("stdout"));
    }

    #[test]
    fn ignores_very_long_words() {
        let long = "a".repeat(10_000);
        assert_eq!(did_you_mean(&long, ["a"]), None);
    }
}
