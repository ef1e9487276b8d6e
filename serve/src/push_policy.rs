//! What a repository's config says about its pushes (spec 8): which branches are tested,
//! and whether a newer push to a branch cancels its older runs.

use crate::branch_filter::BranchFilter;

/// How the pushes of one repository are taken. The default tests every branch and
/// cancels nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushPolicy {
    /// `None`: every branch.
    pub branches: Option<BranchFilter>,
    /// A run queued for a push to a branch cancels the branch's older runs of the same
    /// pipeline file that still wait or go on: their commit is no longer the branch's.
    pub cancel_superseded: bool,
}

impl PushPolicy {
    /// The policy of a repository the config says nothing about.
    pub const DEFAULT: PushPolicy = PushPolicy {
        branches: None,
        cancel_superseded: false,
    };

    /// Whether a push of `reference` is tested at all. Only branches are filtered: tags
    /// (and anything else) go on to the pipelines' own `on:`.
    pub fn tests_ref(&self, reference: &str) -> bool {
        match (reference.strip_prefix("refs/heads/"), &self.branches) {
            (Some(branch), Some(filter)) => filter.selects(branch),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_branches_are_filtered_and_tags_go_on() {
        let policy = PushPolicy {
            branches: Some(BranchFilter::new(["main"]).expect("valid")),
            cancel_superseded: false,
        };
        assert!(policy.tests_ref("refs/heads/main"));
        assert!(!policy.tests_ref("refs/heads/feature"));
        assert!(policy.tests_ref("refs/tags/feature"));
        assert!(PushPolicy::DEFAULT.tests_ref("refs/heads/feature"));
    }
}
