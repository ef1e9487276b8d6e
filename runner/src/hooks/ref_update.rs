//! The ref lines git writes on the stdin of `pre-push` and `post-receive`.

use super::{HookError, HookKind};

/// One ref a push moves: from `before` to `after` (all zeros for "did not exist").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    /// The ref on the receiving side (`refs/heads/main`).
    pub reference: String,
    pub before: String,
    pub after: String,
}

impl RefUpdate {
    /// `pre-push`: `<local ref> <local sha> <remote ref> <remote sha>` per line.
    pub fn parse_pre_push(input: &str) -> Result<Vec<RefUpdate>, HookError> {
        parse(
            input,
            HookKind::PrePush,
            "`<local ref> <local sha> <remote ref> <remote sha>`",
            |fields| match fields {
                [_local_ref, after, reference, before] => Some((reference, before, after)),
                _ => None,
            },
        )
    }

    /// `post-receive`: `<old sha> <new sha> <ref>` per line.
    pub fn parse_post_receive(input: &str) -> Result<Vec<RefUpdate>, HookError> {
        parse(
            input,
            HookKind::PostReceive,
            "`<old sha> <new sha> <ref>`",
            |fields| match fields {
                [before, after, reference] => Some((reference, before, after)),
                _ => None,
            },
        )
    }

    /// The push removes the ref: nothing to test.
    pub fn is_deletion(&self) -> bool {
        is_zero(&self.after)
    }

    /// The push creates the ref: there is no "before".
    pub fn is_creation(&self) -> bool {
        is_zero(&self.before)
    }
}

fn parse(
    input: &str,
    kind: HookKind,
    expected: &'static str,
    pick: impl for<'a> Fn(&[&'a str]) -> Option<(&'a str, &'a str, &'a str)>,
) -> Result<Vec<RefUpdate>, HookError> {
    input
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            pick(&fields)
                .filter(|(_, before, after)| is_sha(before) && is_sha(after))
                .map(|(reference, before, after)| RefUpdate {
                    reference: reference.to_string(),
                    before: before.to_ascii_lowercase(),
                    after: after.to_ascii_lowercase(),
                })
                .ok_or_else(|| HookError::MalformedLine {
                    kind: kind.file_name(),
                    line: line.to_string(),
                    expected,
                })
        })
        .collect()
}

/// SHA-1 (40) or SHA-256 (64) hex.
fn is_sha(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

fn is_zero(sha: &str) -> bool {
    sha.bytes().all(|byte| byte == b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const ZERO: &str = "0000000000000000000000000000000000000000";

    fn update(reference: &str, before: &str, after: &str) -> RefUpdate {
        RefUpdate {
            reference: reference.into(),
            before: before.into(),
            after: after.into(),
        }
    }

    #[test]
    fn pre_push_lines_name_the_remote_ref_and_both_commits() {
        let input = format!(
            "refs/heads/main {B} refs/heads/main {A}\n\
             HEAD {B} refs/heads/feature {ZERO}\n\
             \n\
             (delete) {ZERO} refs/heads/old {A}\n"
        );
        let updates = RefUpdate::parse_pre_push(&input).expect("parses");
        assert_eq!(
            updates,
            vec![
                update("refs/heads/main", A, B),
                update("refs/heads/feature", ZERO, B),
                update("refs/heads/old", A, ZERO),
            ]
        );
        let flags: Vec<(bool, bool)> = updates
            .iter()
            .map(|update| (update.is_creation(), update.is_deletion()))
            .collect();
        assert_eq!(flags, [(false, false), (true, false), (false, true)]);
    }

    #[test]
    fn post_receive_lines_are_old_new_ref() {
        let input = format!("{A} {B} refs/heads/main\n{ZERO} {A} refs/tags/v1\n");
        assert_eq!(
            RefUpdate::parse_post_receive(&input).expect("parses"),
            vec![
                update("refs/heads/main", A, B),
                update("refs/tags/v1", ZERO, A)
            ]
        );
    }

    #[test]
    fn malformed_lines_are_refused_with_the_line() {
        let cases: [(HookKind, String); 4] = [
            (
                HookKind::PrePush,
                format!("refs/heads/main {A} refs/heads/main"),
            ),
            (
                HookKind::PrePush,
                format!("refs/heads/main xyz refs/heads/main {A}"),
            ),
            (HookKind::PostReceive, format!("{A} refs/heads/main")),
            (
                HookKind::PostReceive,
                format!("{A} {B} refs/heads/main extra"),
            ),
        ];
        for (kind, line) in cases {
            let parsed = match kind {
                HookKind::PostReceive => RefUpdate::parse_post_receive(&line),
                _ => RefUpdate::parse_pre_push(&line),
            };
            match parsed {
                Err(HookError::MalformedLine { line: shown, .. }) => assert_eq!(shown, line),
                other => panic!("{line:?} gave {other:?}"),
            }
        }
    }
}
