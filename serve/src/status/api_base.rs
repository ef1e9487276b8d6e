//! The base URL of a forge's API (`api:` in `status:`), taken apart once so that each
//! delivery only joins a path to it.

use serde::{Deserialize, Deserializer};
use std::fmt;

/// `http://` or `https://`, a host, maybe a port, maybe a path the API lives under
/// (`/api/v1` for Gitea, `/api/v4` for GitLab).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiBase {
    pub tls: bool,
    /// As written, without brackets for an IPv6 address.
    pub host: String,
    pub port: u16,
    /// Without a trailing slash: empty, or starting with `/`.
    pub path: String,
}

impl ApiBase {
    /// Reads `url`; `Err` says what is wrong with it.
    pub fn parse(url: &str) -> Result<ApiBase, String> {
        let (tls, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(format!("`{url}` is not an http:// or https:// URL"));
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.contains('@') {
            // A token in the URL would show in logs and errors: it belongs in `token`.
            return Err(format!(
                "`{url}` has a user in it; the token goes in `token`"
            ));
        }
        if path.contains(['?', '#']) {
            return Err(format!(
                "`{url}` has a query or fragment; the API base has none"
            ));
        }
        let (host, port) = split_port(authority)
            .ok_or_else(|| format!("`{url}` has no host, or a port that is not a number"))?;
        let port = port.unwrap_or(if tls { 443 } else { 80 });
        Ok(ApiBase {
            tls,
            host: host.to_owned(),
            port,
            path: path.trim_end_matches('/').to_owned(),
        })
    }

    /// The `Host` header's value.
    pub fn host_header(&self) -> String {
        let host = match self.host.contains(':') {
            true => format!("[{}]", self.host),
            false => self.host.clone(),
        };
        match (self.tls, self.port) {
            (true, 443) | (false, 80) => host,
            _ => format!("{host}:{}", self.port),
        }
    }
}

/// `host[:port]` or `[v6][:port]`: the host and the port, if there is one.
fn split_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest.split_once(']')?;
            match after {
                "" => (host, None),
                _ => (host, Some(after.strip_prefix(':')?)),
            }
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(port) => Some(port.parse().ok()?),
        None => None,
    };
    Some((host, port))
}

impl fmt::Display for ApiBase {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(formatter, "{scheme}://{}{}", self.host_header(), self.path)
    }
}

impl fmt::Debug for ApiBase {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "ApiBase({self})")
    }
}

/// Read from the config as a string, checked where it is written so that a mistake is
/// reported at its line and column.
impl<'de> Deserialize<'de> for ApiBase {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ApiBase, D::Error> {
        let url = String::deserialize(deserializer)?;
        ApiBase::parse(&url).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_host_port_and_path_are_taken_apart() {
        let cases = [
            ("https://api.github.com", true, "api.github.com", 443, ""),
            (
                "http://127.0.0.1:3000/api/v1/",
                false,
                "127.0.0.1",
                3000,
                "/api/v1",
            ),
            (
                "https://gitlab.example/api/v4",
                true,
                "gitlab.example",
                443,
                "/api/v4",
            ),
            ("http://[::1]:8080", false, "::1", 8080, ""),
            ("http://forge", false, "forge", 80, ""),
        ];
        for (url, tls, host, port, path) in cases {
            let base = ApiBase::parse(url).expect(url);
            assert_eq!(
                (base.tls, base.host.as_str(), base.port, base.path.as_str()),
                (tls, host, port, path),
                "{url}"
            );
        }
        let base = ApiBase::parse("http://[::1]:8080/x").expect("valid");
        assert_eq!(base.host_header(), "[::1]:8080");
        assert_eq!(base.to_string(), "http://[::1]:8080/x");
        let base = ApiBase::parse("https://api.github.com/").expect("valid");
        assert_eq!(base.host_header(), "api.github.com");
    }

    #[test]
    fn what_is_no_api_base_says_why() {
        let cases = [
            ("api.github.com", "not an http:// or https:// URL"),
            ("ftp://x", "not an http:// or https:// URL"),
            ("https://me:pw@api.github.com", "has a user in it"),
            ("https://", "has no host"),
            ("http://x:port", "not a number"),
            ("http://x:99999", "not a number"),
            ("http://x/api?a=1", "query or fragment"),
        ];
        for (url, expected) in cases {
            let error = ApiBase::parse(url).expect_err(url);
            assert!(error.contains(expected), "{url}: {error}");
        }
    }
}
