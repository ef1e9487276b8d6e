//! A filter's list of patterns, read as GitHub reads it: in order, the last match decides.

use pipekit_schema::FilterPattern;

/// Past this many patterns a message shows "…" instead of the rest.
const MAX_SHOWN: usize = 6;

/// The pattern that decides for `name`: the last one matching it, if any.
///
/// A negated pattern that decides excludes `name`, so a `!` pattern only takes back what
/// an earlier pattern matched, and a later positive pattern takes it back again.
pub(crate) fn deciding<'a>(patterns: &'a [FilterPattern], name: &str) -> Option<&'a FilterPattern> {
    patterns.iter().rev().find(|pattern| pattern.matches(name))
}

/// Whether the list selects `name`: its deciding pattern is a positive one.
pub(crate) fn selects(patterns: &[FilterPattern], name: &str) -> bool {
    deciding(patterns, name).is_some_and(|pattern| !pattern.is_negated())
}

/// The list for a message: "(main, release/**)".
pub(crate) fn describe(patterns: &[FilterPattern]) -> String {
    if patterns.is_empty() {
        return "(an empty list)".to_owned();
    }
    let mut shown: Vec<&str> = patterns
        .iter()
        .take(MAX_SHOWN)
        .map(FilterPattern::as_str)
        .collect();
    if patterns.len() > MAX_SHOWN {
        shown.push("…");
    }
    format!("({})", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(texts: &[&str]) -> Vec<FilterPattern> {
        texts
            .iter()
            .map(|text| FilterPattern::new(text).expect("valid pattern"))
            .collect()
    }

    #[test]
    fn the_last_matching_pattern_decides() {
        let patterns = list(&["docs/**", "!docs/internal/**", "docs/internal/public.md"]);
        let cases = [
            ("docs/a.md", true),
            ("docs/internal/secret.md", false),
            ("docs/internal/public.md", true),
            ("src/main.rs", false),
        ];
        for (path, expected) in cases {
            assert_eq!(selects(&patterns, path), expected, "{path}");
        }
        assert_eq!(
            deciding(&patterns, "docs/internal/x").map(FilterPattern::as_str),
            Some("!docs/internal/**")
        );
    }

    #[test]
    fn a_negated_pattern_alone_selects_nothing() {
        let patterns = list(&["!main"]);
        assert!(!selects(&patterns, "main"));
        assert!(!selects(&patterns, "develop"));
        assert!(!selects(&[], "main"));
    }

    #[test]
    fn describes_short_and_long_lists() {
        assert_eq!(
            describe(&list(&["main", "release/**"])),
            "(main, release/**)"
        );
        assert_eq!(describe(&[]), "(an empty list)");
        let many: Vec<String> = (0..8).map(|index| format!("b{index}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(describe(&list(&many)), "(b0, b1, b2, b3, b4, b5, …)");
    }
}
