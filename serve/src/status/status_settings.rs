//! Where each repository's commit statuses go, decided as the server starts.

use super::api_base::ApiBase;
use super::forge_kind::ForgeKind;
use super::forge_request::ForgeRepository;
use std::collections::BTreeMap;
use std::fmt;

/// The service's commit status settings.
#[derive(Debug, Clone, Default)]
pub struct StatusSettings {
    /// The server's public base URL, without a trailing slash: the statuses link to
    /// `{public_url}/runs/{id}/jobs/{job}`.
    pub public_url: String,
    /// The forge of each repository that has `status:`, by repository name.
    pub forges: BTreeMap<String, ForgeTarget>,
}

/// One repository's forge and how to reach its status API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeTarget {
    pub kind: ForgeKind,
    pub api: ApiBase,
    /// The repository as the forge names it (`owner/app`, or a GitLab project).
    pub repository: ForgeRepository,
    pub token: ForgeToken,
}

/// A forge API token; never printed, so that no log or `Debug` shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ForgeToken(String);

impl ForgeToken {
    pub fn new(value: String) -> ForgeToken {
        ForgeToken(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ForgeToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ForgeToken(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_never_printed() {
        let token = ForgeToken::new("ghp_s3cret".to_owned());
        assert!(!format!("{token:?}").contains("s3cret"));
        assert_eq!(token.expose(), "ghp_s3cret");
    }
}
