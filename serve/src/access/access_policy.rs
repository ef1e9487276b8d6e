//! The server's API tokens, kept as digests, and whether reads need one.

use super::role::Role;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// An API token: its name and role, and the SHA-256 of its value (the value itself is not
/// kept, so that no dump of the server's memory or debug output shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub name: String,
    pub role: Role,
    digest: [u8; 32],
}

impl ApiToken {
    pub fn new(name: impl Into<String>, role: Role, value: &str) -> ApiToken {
        ApiToken {
            name: name.into(),
            role,
            digest: digest(value),
        }
    }
}

/// Who may do what on this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    pub tokens: Vec<ApiToken>,
    /// Reads without a token.
    pub public: bool,
}

impl Default for AccessPolicy {
    /// No tokens, reads public: what a server on loopback without a config has.
    fn default() -> AccessPolicy {
        AccessPolicy {
            tokens: Vec::new(),
            public: true,
        }
    }
}

impl AccessPolicy {
    /// The token whose value `presented` is. Every token is compared, each in constant
    /// time over digests of equal length, so that timing tells neither which one nor how
    /// much of a guess was right.
    pub fn token(&self, presented: &str) -> Option<&ApiToken> {
        let presented = digest(presented);
        let mut found = None;
        for token in &self.tokens {
            if bool::from(token.digest.ct_eq(&presented)) {
                found = Some(token);
            }
        }
        found
    }
}

fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_found_by_its_value_only() {
        let policy = AccessPolicy {
            tokens: vec![
                ApiToken::new("dashboard", Role::Viewer, "view-123"),
                ApiToken::new("ci-bot", Role::Operator, "bot-456"),
            ],
            public: false,
        };
        let found = |value: &str| policy.token(value).map(|token| token.name.as_str());
        assert_eq!(found("view-123"), Some("dashboard"));
        assert_eq!(found("bot-456"), Some("ci-bot"));
        for wrong in ["bot-45", "bot-4567", "", "BOT-456"] {
            assert_eq!(found(wrong), None, "{wrong:?}");
        }
    }

    #[test]
    fn the_value_is_not_kept_or_shown() {
        let token = ApiToken::new("ci-bot", Role::Operator, "bot-456");
        assert!(!format!("{token:?}").contains("bot-456"));
    }
}
