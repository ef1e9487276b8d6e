//! A repository's `branches:` (spec 8): which branches' pushes are tested at all, before
//! any pipeline's `on:` is read. The patterns are those of `on.push.branches` (`main`,
//! `release/*`, `!release/old`), read the same way: in order, the last match decides.

use pipekit_schema::{FilterPattern, FilterPatternError};

/// The branches a repository tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchFilter {
    patterns: Vec<FilterPattern>,
}

/// Why a `branches:` list cannot be used: which entry (from 0), and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BranchFilterError {
    #[error("`branches` is empty, so no push would be tested; leave it out to test every branch")]
    Empty,
    #[error("`{pattern}` is not a branch pattern: {source}")]
    Pattern {
        index: usize,
        pattern: String,
        #[source]
        source: FilterPatternError,
    },
    #[error(
        "`branches` has only `!` patterns, which select no branch; start it with `**` to \
         test every branch but those"
    )]
    OnlyExclusions,
}

impl BranchFilter {
    /// The filter of `patterns`, as written in the config file.
    pub fn new<'a>(
        patterns: impl IntoIterator<Item = &'a str>,
    ) -> Result<BranchFilter, BranchFilterError> {
        let patterns = patterns
            .into_iter()
            .enumerate()
            .map(|(index, text)| {
                FilterPattern::new(text).map_err(|source| BranchFilterError::Pattern {
                    index,
                    pattern: text.to_owned(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if patterns.is_empty() {
            return Err(BranchFilterError::Empty);
        }
        if patterns.iter().all(FilterPattern::is_negated) {
            return Err(BranchFilterError::OnlyExclusions);
        }
        Ok(BranchFilter { patterns })
    }

    /// Whether pushes to `branch` (`main`, not `refs/heads/main`) are tested.
    pub fn selects(&self, branch: &str) -> bool {
        self.patterns
            .iter()
            .rev()
            .find(|pattern| pattern.matches(branch))
            .is_some_and(|pattern| !pattern.is_negated())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_globs_select_branches_and_the_last_match_decides() {
        let filter = BranchFilter::new(["main", "release/*", "!release/old"]).expect("valid");
        let cases = [
            ("main", true),
            ("release/1.0", true),
            // `*` stops at `/`, as in `on.push.branches`.
            ("release/1.0/hotfix", false),
            ("release/old", false),
            ("feature", false),
            ("mainline", false),
        ];
        for (branch, expected) in cases {
            assert_eq!(filter.selects(branch), expected, "{branch}");
        }
        let every_but = BranchFilter::new(["**", "!wip/**"]).expect("valid");
        assert!(every_but.selects("feature/x") && !every_but.selects("wip/a/b"));
    }

    #[test]
    fn lists_that_would_test_nothing_or_do_not_parse_are_refused() {
        assert_eq!(BranchFilter::new([]), Err(BranchFilterError::Empty));
        assert_eq!(
            BranchFilter::new(["!main"]),
            Err(BranchFilterError::OnlyExclusions)
        );
        let error = BranchFilter::new(["main", "release/[0-9"]).expect_err("unclosed");
        assert!(
            matches!(&error, BranchFilterError::Pattern { index: 1, .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("`release/[0-9` is not a branch pattern: ")
        );
    }
}
