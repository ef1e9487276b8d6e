//! The `pipekit-ci run` a hook starts for one pushed ref or for the staged changes.

/// The arguments of one `pipekit-ci run`, and what it tests, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRun {
    pub arguments: Vec<String>,
    /// "refs/heads/main at 1a2b3c4d", "the staged changes".
    pub subject: String,
}

impl PlannedRun {
    /// Tests `commit` as pushed to `reference`; `before` is what the ref held, when the
    /// ref existed and the repository has that commit.
    pub fn push(reference: &str, commit: &str, before: Option<&str>) -> Self {
        let mut arguments = vec![
            "run".to_string(),
            "--event".into(),
            "push".into(),
            "--ref".into(),
            reference.into(),
        ];
        if let Some(before) = before {
            arguments.extend(["--before".into(), before.into()]);
        }
        arguments.extend(["--commit".into(), commit.into()]);
        Self {
            arguments,
            subject: format!("{reference} at {}", short(commit)),
        }
    }

    /// Tests the index; `branch` (`refs/heads/<name>`) is where the commit will land,
    /// unknown when HEAD is detached or unborn.
    pub fn staged(branch: Option<&str>) -> Self {
        let mut arguments = vec!["run".to_string(), "--staged".into()];
        if let Some(branch) = branch {
            arguments.extend([
                "--event".into(),
                "push".into(),
                "--ref".into(),
                branch.into(),
            ]);
        }
        Self {
            arguments,
            subject: "the staged changes".into(),
        }
    }
}

/// The first 10 hex digits, as people quote commits.
fn short(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn arguments_follow_the_run_contract() {
        let cases: [(PlannedRun, &[&str]); 4] = [
            (
                PlannedRun::push("refs/heads/main", SHA, Some("f".repeat(40).as_str())),
                &[
                    "run",
                    "--event",
                    "push",
                    "--ref",
                    "refs/heads/main",
                    "--before",
                    "ffffffffffffffffffffffffffffffffffffffff",
                    "--commit",
                    SHA,
                ],
            ),
            (
                PlannedRun::push("refs/heads/new", SHA, None),
                &[
                    "run",
                    "--event",
                    "push",
                    "--ref",
                    "refs/heads/new",
                    "--commit",
                    SHA,
                ],
            ),
            (
                PlannedRun::staged(Some("refs/heads/main")),
                &[
                    "run",
                    "--staged",
                    "--event",
                    "push",
                    "--ref",
                    "refs/heads/main",
                ],
            ),
            (PlannedRun::staged(None), &["run", "--staged"]),
        ];
        for (planned, expected) in cases {
            assert_eq!(planned.arguments, expected);
        }
        assert_eq!(
            PlannedRun::push("refs/heads/main", SHA, None).subject,
            "refs/heads/main at 0123456789"
        );
    }
}
