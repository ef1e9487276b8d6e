//! A repository's `url:` (spec 8), told apart: a path on this machine is read where it is;
//! a URL (`file://`, `git://`, `http://`, `https://`) names an origin the server mirrors
//! under its data folder and fetches before each read.

use pipekit_runner::lexical_path::normalized;
use std::path::{Path, PathBuf};

/// Where a served repository's commits come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepositoryUrl {
    /// A work tree or a bare repository on this machine, absolute.
    Path(PathBuf),
    /// An origin reached through a git transport, mirrored with git2.
    Remote(String),
}

/// Why a `url:` cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepositoryUrlError {
    #[error("`url` is empty")]
    Empty,
    #[error("`{0}` is not a file:// URL of an absolute path (`file:///srv/app.git`)")]
    RelativeFileUrl(String),
    #[error(
        "`{0}`: ssh is not supported (the server holds no keys); use https://, \
         git://, http://, file:// or a path on this machine"
    )]
    Ssh(String),
    #[error(
        "`{0}` has a password in it, which the API and the pages would show; credentials \
         are not supported yet: use an origin that anyone may read"
    )]
    Password(String),
    #[error(
        "`{url}`: `{scheme}://` is not a transport the server fetches with: file://, git://, http://, https://"
    )]
    UnknownScheme { url: String, scheme: String },
}

impl RepositoryUrl {
    /// `url` as written in the config file whose folder is `base` (where relative paths
    /// start).
    pub fn parse(url: &str, base: &Path) -> Result<RepositoryUrl, RepositoryUrlError> {
        if url.trim().is_empty() {
            return Err(RepositoryUrlError::Empty);
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            if is_scp_like(url) {
                return Err(RepositoryUrlError::Ssh(url.to_owned()));
            }
            return Ok(RepositoryUrl::Path(normalized(&base.join(url))));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "file" if rest.starts_with('/') => Ok(RepositoryUrl::Remote(url.to_owned())),
            "file" => Err(RepositoryUrlError::RelativeFileUrl(url.to_owned())),
            "git" | "http" | "https" if has_password(rest) => {
                Err(RepositoryUrlError::Password(url.to_owned()))
            }
            "git" | "http" | "https" => Ok(RepositoryUrl::Remote(url.to_owned())),
            "ssh" | "git+ssh" | "ssh+git" => Err(RepositoryUrlError::Ssh(url.to_owned())),
            _ => Err(RepositoryUrlError::UnknownScheme {
                url: url.to_owned(),
                scheme: scheme.to_owned(),
            }),
        }
    }

    /// What people call it: the path or the URL.
    pub fn display(&self) -> String {
        match self {
            RepositoryUrl::Path(path) => path.display().to_string(),
            RepositoryUrl::Remote(url) => url.clone(),
        }
    }
}

/// Whether the authority of `rest` (what follows `scheme://`) is `user:password@host`.
fn has_password(rest: &str) -> bool {
    let authority = rest.split('/').next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .is_some_and(|(user, _)| user.contains(':'))
}

/// git's short form of an ssh URL, `git@host:owner/app.git`: a user and a host before the
/// first colon, which comes before any slash. Taken as a path it would only fail later, at
/// the open, with a puzzling "not a repository".
fn is_scp_like(url: &str) -> bool {
    match url.split_once(':') {
        Some((before, _)) => before.contains('@') && !before.contains('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_where_they_are_and_urls_are_mirrored() {
        let base = Path::new("/etc/pipekit");
        let cases = [
            (
                "../git/app.git",
                RepositoryUrl::Path("/etc/git/app.git".into()),
            ),
            ("/srv/app", RepositoryUrl::Path("/srv/app".into())),
            ("app", RepositoryUrl::Path("/etc/pipekit/app".into())),
            // A colon in a folder's name is no URL.
            (
                "work:tree",
                RepositoryUrl::Path("/etc/pipekit/work:tree".into()),
            ),
            (
                "file:///srv/app.git",
                RepositoryUrl::Remote("file:///srv/app.git".into()),
            ),
            (
                "git://git.example/app.git",
                RepositoryUrl::Remote("git://git.example/app.git".into()),
            ),
            (
                "http://127.0.0.1:3000/app.git",
                RepositoryUrl::Remote("http://127.0.0.1:3000/app.git".into()),
            ),
            (
                "https://github.com/o/app.git",
                RepositoryUrl::Remote("https://github.com/o/app.git".into()),
            ),
            ("GIT://h/app", RepositoryUrl::Remote("GIT://h/app".into())),
            // A user alone is no secret.
            (
                "http://me@h/app.git",
                RepositoryUrl::Remote("http://me@h/app.git".into()),
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(RepositoryUrl::parse(url, base), Ok(expected), "{url}");
        }
    }

    #[test]
    fn what_cannot_be_fetched_is_refused_with_why() {
        let base = Path::new("/etc/pipekit");
        let cases = [
            ("", "`url` is empty"),
            (" ", "`url` is empty"),
            ("file://srv/app", "not a file:// URL of an absolute path"),
            ("ssh://git@h/app.git", "ssh is not supported"),
            ("git@github.com:o/app.git", "ssh is not supported"),
            ("ftp://h/app", "`ftp://` is not a transport"),
            ("http://me:s3cret@h/app.git", "has a password in it"),
            ("https://me:s3cret@h/app.git", "has a password in it"),
        ];
        for (url, expected) in cases {
            let error = RepositoryUrl::parse(url, base).expect_err(url).to_string();
            assert!(error.contains(expected), "{url}: {error}");
        }
    }
}
