//! The ref a push updated, sorted the way `on.push` filters look at it.

use std::fmt;

/// A pushed ref: a branch or a tag by its short name, anything else by its full name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushRef {
    /// `refs/heads/<name>`.
    Branch(String),
    /// `refs/tags/<name>`.
    Tag(String),
    /// Any other ref (`refs/notes/commits`, or a name that is not a full ref at all).
    Other(String),
}

/// Sorts a full ref name: `refs/heads/main` is the branch `main`, `refs/tags/v1` the tag `v1`.
pub fn parse_ref(full: &str) -> PushRef {
    let short = |prefix: &str| full.strip_prefix(prefix).filter(|name| !name.is_empty());
    if let Some(name) = short("refs/heads/") {
        PushRef::Branch(name.to_owned())
    } else if let Some(name) = short("refs/tags/") {
        PushRef::Tag(name.to_owned())
    } else {
        PushRef::Other(full.to_owned())
    }
}

impl fmt::Display for PushRef {
    /// "branch `main`", "tag `v1.0`", "ref `refs/notes/commits`".
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushRef::Branch(name) => write!(formatter, "branch `{name}`"),
            PushRef::Tag(name) => write!(formatter, "tag `{name}`"),
            PushRef::Other(name) => write!(formatter, "ref `{name}`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_refs_by_their_prefix() {
        let cases = [
            ("refs/heads/main", PushRef::Branch("main".into())),
            ("refs/heads/feature/x", PushRef::Branch("feature/x".into())),
            ("refs/tags/v1.0", PushRef::Tag("v1.0".into())),
            ("refs/tags/release/2", PushRef::Tag("release/2".into())),
            (
                "refs/notes/commits",
                PushRef::Other("refs/notes/commits".into()),
            ),
            ("refs/heads/", PushRef::Other("refs/heads/".into())),
            ("main", PushRef::Other("main".into())),
            ("", PushRef::Other(String::new())),
        ];
        for (full, expected) in cases {
            assert_eq!(parse_ref(full), expected, "{full}");
        }
    }

    #[test]
    fn names_itself_for_messages() {
        assert_eq!(parse_ref("refs/heads/main").to_string(), "branch `main`");
        assert_eq!(parse_ref("refs/tags/v1").to_string(), "tag `v1`");
        assert_eq!(parse_ref("HEAD").to_string(), "ref `HEAD`");
    }
}
