//! `pipekit-ci serve --config FILE` (spec 8): where to listen, how many runs at once, and
//! the API tokens and whether reads are public, the server's public URL, and the
//! repositories, each by path or `file://` URL, with their webhook secrets and the forge
//! their commit statuses go to. Keys of spec 8 that are not built yet are
//! refused by name rather than ignored: a setting that silently did nothing would leave a
//! server other than its owner thinks.

use crate::access::Role;
use crate::status::{ApiBase, ForgeKind, ForgeRepository};
use pipekit_runner::lexical_path::normalized;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A config file, read.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    /// The file, as named to the server, for errors found after reading it.
    pub file: String,
    pub listen: Option<String>,
    pub max_runs: Option<usize>,
    /// The server's base URL as its users reach it, for the links in commit statuses
    /// (`None`: `http://` and the address it listens on).
    pub url: Option<ApiBase>,
    /// Reads without a token (`None`: the server decides by where it listens).
    pub public: Option<bool>,
    pub tokens: Vec<TokenConfig>,
    /// By name: the folder on this machine, and its options.
    pub repositories: BTreeMap<String, RepositoryConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryConfig {
    /// A work tree or a bare repository, absolute (relative paths start at the config
    /// file's folder).
    pub path: PathBuf,
    /// Seconds between two reads of its branches (`None`: the server's default; 0: never).
    pub poll: Option<f64>,
    /// Where the secret its forge signs webhooks with comes from.
    pub webhook_secret: Option<SecretSource>,
    /// Where its commit statuses go.
    pub status: Option<StatusConfig>,
}

/// `status: {kind, api, repository, token}`: a repository's forge for commit statuses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawStatus")]
pub struct StatusConfig {
    pub kind: ForgeKind,
    /// The API's base URL: `https://api.github.com`, `https://HOST/api/v1` (Gitea),
    /// `https://HOST/api/v4` (GitLab).
    pub api: ApiBase,
    pub repository: ForgeRepository,
    pub token: SecretSource,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatus {
    kind: ForgeKind,
    api: ApiBase,
    repository: String,
    token: SecretSource,
}

/// Checked as it is read, so that a repository wrong for its forge is reported where it
/// is written.
impl TryFrom<RawStatus> for StatusConfig {
    type Error = String;

    fn try_from(raw: RawStatus) -> Result<StatusConfig, String> {
        Ok(StatusConfig {
            kind: raw.kind,
            repository: ForgeRepository::parse(raw.kind, &raw.repository)?,
            api: raw.api,
            token: raw.token,
        })
    }
}

/// An API token: a name for people, a role, and where its value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub name: String,
    pub role: Role,
    pub value: SecretSource,
}

/// Where a secret comes from: secrets are not written in the config file itself, so that
/// the file can be shared and committed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSource {
    /// The server's environment variable that holds it.
    pub environment: String,
}

/// Why a config file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error(
        "{file}: {what}: the environment variable `{variable}` is not set (or is empty or not \
         UTF-8); the server needs the secret it names"
    )]
    UnsetSecret {
        file: String,
        what: String,
        variable: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<String>,
    url: Option<ApiBase>,
    max_runs: Option<usize>,
    #[serde(default)]
    repositories: BTreeMap<String, RawRepository>,
    keep: Option<IgnoredAny>,
    public: Option<bool>,
    #[serde(default)]
    tokens: Vec<TokenConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepository {
    url: String,
    poll: Option<f64>,
    branches: Option<IgnoredAny>,
    cancel_superseded: Option<IgnoredAny>,
    webhook_secret: Option<SecretSource>,
    status: Option<StatusConfig>,
}

impl ServeConfig {
    /// Reads and checks `path`.
    pub fn read(path: &Path) -> Result<ServeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let base = std::path::absolute(base).unwrap_or_else(|_| base.to_owned());
        ServeConfig::parse(&text, &path.display().to_string(), &base)
    }

    /// `text` of the config file `file`, its relative paths starting at `base`.
    pub fn parse(text: &str, file: &str, base: &Path) -> Result<ServeConfig, ConfigError> {
        let raw: RawConfig = serde_saphyr::from_str(text).map_err(|error| {
            let (line, column) = error.location().map_or((1, 1), |at| {
                (at.line().max(1) as usize, at.column().max(1) as usize)
            });
            ConfigError::Syntax {
                file: file.to_owned(),
                line,
                column,
                message: error.without_snippet().to_string(),
            }
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            file: file.to_owned(),
            message,
        };
        if raw.keep.is_some() {
            return Err(invalid("`keep` is not supported yet (issue 11)".to_owned()));
        }
        for (index, token) in raw.tokens.iter().enumerate() {
            if token.name.trim().is_empty() {
                return Err(invalid(format!("token {}: `name` is empty", index + 1)));
            }
            if raw.tokens[..index]
                .iter()
                .any(|other| other.name == token.name)
            {
                return Err(invalid(format!(
                    "two tokens are called `{}`; each needs a name of its own",
                    token.name
                )));
            }
        }
        if raw.max_runs == Some(0) {
            return Err(invalid("`max_runs` must be at least 1".to_owned()));
        }
        let mut repositories = BTreeMap::new();
        for (name, repository) in raw.repositories {
            if !crate::service::is_repository_name(&name) {
                return Err(invalid(format!(
                    "`{name}` is not a repository name: letters, digits, `-`, `_` and `.`, \
                     not starting with a dot"
                )));
            }
            let not_yet = [
                ("branches", repository.branches.is_some()),
                ("cancel_superseded", repository.cancel_superseded.is_some()),
            ];
            if let Some((key, _)) = not_yet.iter().find(|(_, given)| *given) {
                return Err(invalid(format!(
                    "repository `{name}`: `{key}` is not supported yet (issue 11)"
                )));
            }
            if repository
                .poll
                .is_some_and(|poll| !(poll >= 0.0 && poll.is_finite()))
            {
                return Err(invalid(format!(
                    "repository `{name}`: `poll` takes a number of seconds, 0 for never"
                )));
            }
            let path = local_path(&repository.url, base).ok_or_else(|| {
                invalid(format!(
                    "repository `{name}`: `{}` is not a path or a file:// URL (https \
                     repositories are not supported yet)",
                    repository.url
                ))
            })?;
            repositories.insert(
                name,
                RepositoryConfig {
                    path,
                    poll: repository.poll,
                    webhook_secret: repository.webhook_secret,
                    status: repository.status,
                },
            );
        }
        if repositories.is_empty() {
            return Err(invalid("no `repositories` to serve".to_owned()));
        }
        Ok(ServeConfig {
            file: file.to_owned(),
            listen: raw.listen,
            url: raw.url,
            max_runs: raw.max_runs,
            public: raw.public,
            tokens: raw.tokens,
            repositories,
        })
    }
}

impl ServeConfig {
    /// The secret `source` names, read from `environment` (the server's); `what` says
    /// whose it is in the error. An empty one counts as unset: a blank secret is no
    /// secret.
    pub fn secret(
        &self,
        source: &SecretSource,
        what: &str,
        environment: &BTreeMap<String, String>,
    ) -> Result<String, ConfigError> {
        match environment.get(&source.environment) {
            Some(value) if !value.is_empty() => Ok(value.clone()),
            _ => Err(ConfigError::UnsetSecret {
                file: self.file.clone(),
                what: what.to_owned(),
                variable: source.environment.clone(),
            }),
        }
    }
}

/// A path, or a `file://` URL, as an absolute path.
fn local_path(url: &str, base: &Path) -> Option<PathBuf> {
    let path = match url.strip_prefix("file://") {
        Some(path) if path.starts_with('/') => PathBuf::from(path),
        Some(_) => return None,
        None if url.contains("://") || url.is_empty() => return None,
        None => base.join(url),
    };
    Some(normalized(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<ServeConfig, String> {
        ServeConfig::parse(text, "serve.yml", Path::new("/etc/pipekit")).map_err(|e| e.to_string())
    }

    #[test]
    fn repositories_by_path_or_file_url_with_their_poll() {
        let config = parsed(
            "listen: 127.0.0.1:9000\nmax_runs: 3\nrepositories:\n  app:\n    url: ../git/app.git\n    poll: 5\n  lib:\n    url: file:///srv/lib\n",
        );
        let config = config.expect("valid");
        assert_eq!(config.listen.as_deref(), Some("127.0.0.1:9000"));
        assert_eq!(config.max_runs, Some(3));
        assert_eq!(
            config.repositories["app"].path,
            Path::new("/etc/git/app.git")
        );
        assert_eq!(config.repositories["app"].poll, Some(5.0));
        assert_eq!(config.repositories["lib"].path, Path::new("/srv/lib"));
        assert_eq!(config.repositories["lib"].poll, None);
    }

    #[test]
    fn what_cannot_be_served_is_refused_by_name() {
        let cases = [
            (
                "repositories:\n  app:\n    url: https://x/app.git\n",
                "https repositories are not supported yet",
            ),
            (
                // A secret is never written into the file itself.
                "repositories:\n  app:\n    url: /a\n    webhook_secret: S\n",
                "serve.yml:4:21: expected mapping",
            ),
            (
                "keep: {runs: 5}\nrepositories:\n  app:\n    url: /a\n",
                "`keep` is not supported yet",
            ),
            (
                "tokens:\n  - {name: a, role: boss, value: {environment: A}}\nrepositories:\n  app:\n    url: /a\n",
                "serve.yml:2:",
            ),
            (
                "tokens:\n  - {name: a, role: viewer, value: {environment: A}}\n  - {name: a, role: admin, value: {environment: B}}\nrepositories:\n  app:\n    url: /a\n",
                "two tokens are called `a`",
            ),
            (
                "tokens:\n  - {name: a, role: viewer, value: s3cret}\nrepositories:\n  app:\n    url: /a\n",
                "serve.yml:2:",
            ),
            (
                "repositories:\n  .x:\n    url: /a\n",
                "is not a repository name",
            ),
            (
                "repositories:\n  app:\n    url: /a\n    poll: -1\n",
                "`poll` takes a number of seconds",
            ),
            (
                "max_runs: 0\nrepositories:\n  app:\n    url: /a\n",
                "at least 1",
            ),
            ("listen: 1\n", "no `repositories`"),
        ];
        for (text, expected) in cases {
            let error = parsed(text).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
            assert!(error.starts_with("serve.yml"), "{error}");
        }
    }

    #[test]
    fn tokens_with_their_roles_and_public() {
        let config = parsed(
            "public: false\ntokens:\n  - {name: ci-bot, role: operator, value: {environment: BOT}}\n  - {name: wall, role: viewer, value: {environment: WALL}}\nrepositories:\n  app:\n    url: /a\n",
        )
        .expect("valid");
        assert_eq!(config.public, Some(false));
        let tokens: Vec<_> = config
            .tokens
            .iter()
            .map(|token| {
                (
                    token.name.as_str(),
                    token.role,
                    token.value.environment.as_str(),
                )
            })
            .collect();
        assert_eq!(
            tokens,
            [
                ("ci-bot", Role::Operator, "BOT"),
                ("wall", Role::Viewer, "WALL")
            ]
        );
        let none = parsed("repositories:\n  app:\n    url: /a\n").expect("valid");
        assert_eq!((none.public, none.tokens.len()), (None, 0));
    }

    #[test]
    fn a_webhook_secret_comes_from_the_environment_variable_it_names() {
        let config = parsed(
            "repositories:\n  app:\n    url: /a\n    webhook_secret: {environment: APP_HOOKS}\n",
        )
        .expect("valid");
        let source = config.repositories["app"]
            .webhook_secret
            .clone()
            .expect("a secret");
        assert_eq!(source.environment, "APP_HOOKS");
        let set = BTreeMap::from([("APP_HOOKS".to_owned(), "s3cret".to_owned())]);
        let what = "repository `app`: webhook_secret";
        assert_eq!(config.secret(&source, what, &set).expect("set"), "s3cret");
        for environment in [
            BTreeMap::new(),
            BTreeMap::from([("APP_HOOKS".to_owned(), String::new())]),
        ] {
            let error = config
                .secret(&source, what, &environment)
                .expect_err("unset")
                .to_string();
            assert!(
                error.starts_with("serve.yml: repository `app`: webhook_secret: the environment variable `APP_HOOKS` is not set"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_status_names_its_forge_its_api_its_repository_and_its_token() {
        let config = parsed(
            "url: https://ci.example.com/\nrepositories:\n  app:\n    url: /a\n    status: {kind: gitlab, api: \"https://gitlab.example/api/v4\", repository: group/app,\n             token: {environment: GITLAB_TOKEN}}\n",
        )
        .expect("valid");
        assert_eq!(
            config.url.map(|url| url.to_string()).as_deref(),
            Some("https://ci.example.com")
        );
        let status = config.repositories["app"].status.clone().expect("a status");
        assert_eq!(status.kind, ForgeKind::GitLab);
        assert_eq!(status.api.to_string(), "https://gitlab.example/api/v4");
        assert_eq!(status.repository.as_str(), "group/app");
        assert_eq!(status.token.environment, "GITLAB_TOKEN");
        let none = parsed("repositories:\n  app:\n    url: /a\n").expect("valid");
        assert_eq!(
            (none.url, none.repositories["app"].status.clone()),
            (None, None)
        );
    }

    #[test]
    fn a_wrong_status_is_an_error_where_it_is_written() {
        let status = |fields: &str| {
            format!("repositories:\n  app:\n    url: /a\n    status: {{{fields}}}\n")
        };
        let token = "token: {environment: T}";
        let cases = [
            (
                status(&format!(
                    "kind: bitbucket, api: \"https://x\", repository: o/a, {token}"
                )),
                "bitbucket",
            ),
            (
                status(&format!(
                    "kind: github, api: \"api.github.com\", repository: o/a, {token}"
                )),
                "not an http:// or https:// URL",
            ),
            (
                status(&format!(
                    "kind: github, api: \"https://x\", repository: app, {token}"
                )),
                "`app` is not a github repository: `owner/name`",
            ),
            (
                status("kind: gitea, api: \"https://x\", repository: o/a, token: s3cret"),
                "expected mapping",
            ),
            (
                status(&format!(
                    "kind: gitea, api: \"https://x\", repository: o/a, {token}, contex: x"
                )),
                "contex",
            ),
            (
                format!("url: ci.example\n{}", status("kind: gitea")),
                "not an http:// or https:// URL",
            ),
        ];
        for (text, expected) in cases {
            let error = parsed(&text).expect_err(&text);
            assert!(error.contains(expected), "{text}: {error}");
            let at: Vec<&str> = error.splitn(4, ':').collect();
            assert!(
                at.len() == 4 && at[1].parse::<usize>().is_ok() && at[2].parse::<usize>().is_ok(),
                "{text}: not at a line and column: {error}"
            );
        }
    }

    #[test]
    fn an_unknown_key_is_an_error_at_its_line() {
        let error = parsed("repositories:\n  app:\n    url: /a\n    pol: 5\n").expect_err("typo");
        assert!(error.starts_with("serve.yml:4:"), "{error}");
        assert!(error.contains("pol"), "{error}");
    }
}
