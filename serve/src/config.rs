//! `pipekit-ci serve --config FILE` (spec 8): where to listen, how many runs at once, and
//! the API tokens and whether reads are public, the server's public URL, and the
//! repositories, each by path or by URL (mirrored; see [`RepositoryUrl`]), with their webhook secrets, the branches
//! they test and the forge their commit statuses go to, and how much history is kept. Keys
//! of spec 8 that are not built yet are
//! refused by name rather than ignored: a setting that silently did nothing would leave a
//! server other than its owner thinks.

use crate::access::Role;
use crate::branch_filter::{BranchFilter, BranchFilterError};
use crate::repository_url::RepositoryUrl;
use crate::retention::Retention;
use crate::status::{ApiBase, ForgeKind, ForgeRepository};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A config file, read.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    /// The file, as named to the server, for errors found after reading it.
    pub file: String,
    pub listen: Option<String>,
    pub max_runs: Option<usize>,
    /// How much history each repository keeps (`None`: all of it).
    pub keep: Option<Retention>,
    /// The server's base URL as its users reach it, for the links in commit statuses
    /// (`None`: `http://` and the address it listens on).
    pub url: Option<ApiBase>,
    /// Reads without a token (`None`: the server decides by where it listens).
    pub public: Option<bool>,
    pub tokens: Vec<TokenConfig>,
    /// Whether a run the server's stop (or death) interrupted is queued again (`None`: yes).
    pub requeue_interrupted: Option<bool>,
    /// By name: the folder on this machine, and its options.
    pub repositories: BTreeMap<String, RepositoryConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryConfig {
    /// A work tree or a bare repository on this machine, absolute (relative paths start
    /// at the config file's folder), or the URL of one to mirror.
    pub url: RepositoryUrl,
    /// Seconds between two reads of its branches (`None`: the server's default; 0: never).
    pub poll: Option<f64>,
    /// Where the secret its forge signs webhooks with comes from.
    pub webhook_secret: Option<SecretSource>,
    /// The branches whose pushes are tested (`None`: every branch).
    pub branches: Option<BranchFilter>,
    /// A push to a branch cancels the branch's older runs still waiting or going on.
    pub cancel_superseded: bool,
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
    /// A value that reads but cannot be used, at the place it is written.
    #[error("{file}:{line}:{column}: {message}")]
    Value {
        file: String,
        line: u64,
        column: u64,
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
    keep: Option<Spanned<RawKeep>>,
    public: Option<bool>,
    #[serde(default)]
    tokens: Vec<TokenConfig>,
    requeue_interrupted: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeep {
    runs: Option<Spanned<u32>>,
    days: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepository {
    url: Spanned<String>,
    poll: Option<f64>,
    branches: Option<Spanned<Vec<Spanned<String>>>>,
    cancel_superseded: Option<bool>,
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
        let keep = raw.keep.map(|keep| retention(file, keep)).transpose()?;
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
            if repository
                .poll
                .is_some_and(|poll| !(poll >= 0.0 && poll.is_finite()))
            {
                return Err(invalid(format!(
                    "repository `{name}`: `poll` takes a number of seconds, 0 for never"
                )));
            }
            let url = RepositoryUrl::parse(&repository.url.value, base).map_err(|error| {
                value_error(
                    file,
                    repository.url.referenced,
                    format!("repository `{name}`: {error}"),
                )
            })?;
            let branches = repository
                .branches
                .map(|branches| branch_filter(file, &name, branches))
                .transpose()?;
            repositories.insert(
                name,
                RepositoryConfig {
                    url,
                    poll: repository.poll,
                    webhook_secret: repository.webhook_secret,
                    branches,
                    cancel_superseded: repository.cancel_superseded.unwrap_or(false),
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
            keep,
            public: raw.public,
            tokens: raw.tokens,
            requeue_interrupted: raw.requeue_interrupted,
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

/// The `branches:` of repository `name`; a pattern that is wrong is pointed at.
fn branch_filter(
    file: &str,
    name: &str,
    branches: Spanned<Vec<Spanned<String>>>,
) -> Result<BranchFilter, ConfigError> {
    BranchFilter::new(branches.value.iter().map(|entry| entry.value.as_str())).map_err(|error| {
        let at = match &error {
            BranchFilterError::Pattern { index, .. } => branches.value[*index].referenced,
            BranchFilterError::Empty | BranchFilterError::OnlyExclusions => branches.referenced,
        };
        value_error(file, at, format!("repository `{name}`: {error}"))
    })
}

/// `keep:`, each bound checked where it is written.
fn retention(file: &str, keep: Spanned<RawKeep>) -> Result<Retention, ConfigError> {
    let RawKeep { runs, days } = keep.value;
    if runs.is_none() && days.is_none() {
        return Err(value_error(
            file,
            keep.referenced,
            "`keep` takes `runs`, `days` or both; leave it out to keep every run".to_owned(),
        ));
    }
    if let Some(runs) = &runs
        && runs.value == 0
    {
        return Err(value_error(
            file,
            runs.referenced,
            "`keep.runs` must be at least 1".to_owned(),
        ));
    }
    let max_age = match &days {
        None => None,
        Some(days) => Some(
            (days.value > 0.0)
                .then(|| Duration::try_from_secs_f64(days.value * SECONDS_A_DAY).ok())
                .flatten()
                .ok_or_else(|| {
                    value_error(
                        file,
                        days.referenced,
                        format!(
                            "`keep.days` takes a number of days above 0, not `{}`",
                            days.value
                        ),
                    )
                })?,
        ),
    };
    Ok(Retention {
        runs: runs.map(|runs| runs.value),
        max_age,
    })
}

const SECONDS_A_DAY: f64 = 86_400.0;

/// A [`ConfigError::Value`] at `at`.
fn value_error(file: &str, at: Location, message: String) -> ConfigError {
    ConfigError::Value {
        file: file.to_owned(),
        line: at.line().max(1),
        column: at.column().max(1),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<ServeConfig, String> {
        ServeConfig::parse(text, "serve.yml", Path::new("/etc/pipekit")).map_err(|e| e.to_string())
    }

    #[test]
    fn repositories_by_path_or_url_with_their_poll() {
        let config = parsed(
            "listen: 127.0.0.1:9000\nmax_runs: 3\nrepositories:\n  app:\n    url: ../git/app.git\n    poll: 5\n  lib:\n    url: file:///srv/lib\n",
        );
        let config = config.expect("valid");
        assert_eq!(config.listen.as_deref(), Some("127.0.0.1:9000"));
        assert_eq!(config.max_runs, Some(3));
        assert_eq!(
            config.repositories["app"].url,
            RepositoryUrl::Path("/etc/git/app.git".into())
        );
        assert_eq!(config.repositories["app"].poll, Some(5.0));
        assert_eq!(
            config.repositories["lib"].url,
            RepositoryUrl::Remote("file:///srv/lib".into())
        );
        assert_eq!(config.repositories["lib"].poll, None);
    }

    #[test]
    fn what_cannot_be_served_is_refused_by_name() {
        let cases = [
            (
                "repositories:\n  app:\n    url: ssh://x/app.git\n",
                "serve.yml:3:10: repository `app`: `ssh://x/app.git`: ssh is not supported",
            ),
            (
                "repositories:\n  lib:\n    url: /l\n  app:\n    poll: 1\n    url: \"git@h:o/app\"\n",
                "serve.yml:6:10: repository `app`: `git@h:o/app`: ssh is not supported",
            ),
            (
                "repositories:\n  app:\n    url: \"\"\n",
                "serve.yml:3:10: repository `app`: `url` is empty",
            ),
            (
                // A secret is never written into the file itself.
                "repositories:\n  app:\n    url: /a\n    webhook_secret: S\n",
                "serve.yml:4:21: expected mapping",
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
    fn branches_are_names_and_globs_and_a_bad_one_is_pointed_at() {
        let config = parsed(
            "repositories:\n  app:\n    url: /a\n    branches: [main, \"release/*\"]\n  lib:\n    url: /b\n",
        )
        .expect("valid");
        let branches = config.repositories["app"]
            .branches
            .as_ref()
            .expect("a filter");
        assert!(branches.selects("release/2") && !branches.selects("feature"));
        assert_eq!(config.repositories["lib"].branches, None, "every branch");
        assert!(!config.repositories["app"].cancel_superseded);
        let cancels = parsed("repositories:\n  app:\n    url: /a\n    cancel_superseded: true\n");
        assert!(cancels.expect("valid").repositories["app"].cancel_superseded);
        let error = parsed("repositories:\n  app:\n    url: /a\n    cancel_superseded: 2\n")
            .expect_err("no bool");
        assert!(error.starts_with("serve.yml:4:"), "{error}");
        let cases = [
            (
                "repositories:\n  app:\n    url: /a\n    branches:\n      - main\n      - \"v[0-9\"\n",
                "serve.yml:6:9: repository `app`: `v[0-9` is not a branch pattern",
            ),
            (
                "repositories:\n  app:\n    url: /a\n    branches: []\n",
                "serve.yml:4:15: repository `app`: `branches` is empty",
            ),
            (
                "repositories:\n  app:\n    url: /a\n    branches: [\"!main\"]\n",
                "serve.yml:4:15: repository `app`: `branches` has only `!` patterns",
            ),
            (
                "repositories:\n  app:\n    url: /a\n    branches: main\n",
                "serve.yml:4:",
            ),
        ];
        for (text, expected) in cases {
            let error = parsed(text).expect_err(text);
            assert!(error.starts_with(expected), "{text}: {error}");
        }
    }

    #[test]
    fn keep_bounds_the_history_by_runs_days_or_both() {
        let repositories = "repositories:\n  app:\n    url: /a\n";
        let keep = |text: &str| parsed(&format!("{text}{repositories}")).map(|config| config.keep);
        assert_eq!(keep(""), Ok(None));
        assert_eq!(
            keep("keep: {runs: 200, days: 30}\n"),
            Ok(Some(Retention {
                runs: Some(200),
                max_age: Some(Duration::from_secs(30 * 86_400)),
            }))
        );
        assert_eq!(
            keep("keep:\n  days: 0.5\n"),
            Ok(Some(Retention {
                runs: None,
                max_age: Some(Duration::from_secs(43_200)),
            }))
        );
        let cases = [
            (
                "keep: {runs: 0}\n",
                "serve.yml:1:14: `keep.runs` must be at least 1",
            ),
            ("keep: {runs: -3}\n", "serve.yml:1:"),
            (
                "keep: {days: 0}\n",
                "serve.yml:1:14: `keep.days` takes a number of days above 0",
            ),
            ("keep: {days: .inf}\n", "serve.yml:1:14: `keep.days`"),
            (
                "keep: {}\n",
                "serve.yml:1:7: `keep` takes `runs`, `days` or both",
            ),
            ("keep: {runs: 5, weeks: 2}\n", "serve.yml:1:"),
        ];
        for (text, expected) in cases {
            let error = keep(text).expect_err(text);
            assert!(error.starts_with(expected), "{text}: {error}");
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
