//! `post-receive --server URL`: the hook tells a `pipekit-ci serve` about the push, over
//! plain HTTP/1.1 (the server is on this machine, where it can read the repository), and
//! the server queues the runs.

use super::RefUpdate;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long the hook waits for the server: a push should not hang on a server that is down.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A server's `http://host:port[/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// `host:port`, as connected to and sent as `Host`.
    pub authority: String,
    /// The path the server is under, without a trailing `/` (`""` at the root).
    pub prefix: String,
}

/// Why the server could not be told.
#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    #[error("`{0}` is not an http:// URL of a pipekit-ci server (https is not supported yet)")]
    Url(String),
    #[error("cannot reach the server at {url}")]
    Connect {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the server at {url} answered {status}: {body}")]
    Refused {
        url: String,
        status: String,
        body: String,
    },
}

impl ServerUrl {
    pub fn parse(url: &str) -> Result<ServerUrl, NoticeError> {
        let invalid = || NoticeError::Url(url.to_owned());
        let rest = url.strip_prefix("http://").ok_or_else(invalid)?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, ""),
        };
        let plain = |c: char| c.is_ascii_alphanumeric() || "-._:[]".contains(c);
        if authority.is_empty() || !authority.chars().all(plain) || path.contains(['?', '#']) {
            return Err(invalid());
        }
        let authority = match authority.rsplit_once(':') {
            Some((_, port)) if port.parse::<u16>().is_ok() => authority.to_owned(),
            Some(_) if !authority.ends_with(']') => return Err(invalid()),
            _ => format!("{authority}:80"),
        };
        Ok(ServerUrl {
            authority,
            prefix: path.trim_end_matches('/').to_owned(),
        })
    }

    fn shown(&self) -> String {
        format!("http://{}{}", self.authority, self.prefix)
    }
}

/// Tells the server the pushed `updates` of `repository`; the server's JSON answer.
pub fn tell_server(
    server: &ServerUrl,
    repository: &str,
    updates: &[RefUpdate],
) -> Result<String, NoticeError> {
    let updates: Vec<serde_json::Value> = updates
        .iter()
        .map(|update| {
            serde_json::json!({
                "ref": update.reference,
                "before": update.before,
                "after": update.after,
            })
        })
        .collect();
    let body = serde_json::json!({ "updates": updates }).to_string();
    let request = format!(
        "POST {}/hooks/{repository} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         X-Pipekit-Event: push\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.prefix,
        server.authority,
        body.len()
    );
    let connect = |source| NoticeError::Connect {
        url: server.shown(),
        source,
    };
    let address = std::net::ToSocketAddrs::to_socket_addrs(&server.authority)
        .map_err(connect)?
        .next()
        .ok_or_else(|| connect(std::io::Error::other("the host has no address")))?;
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT).map_err(connect)?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(connect)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(connect)?;
    stream.write_all(request.as_bytes()).map_err(connect)?;
    let mut answer = Vec::new();
    // At most 64 KiB of answer: a notice's reply is a line of JSON.
    stream
        .take(64 * 1024)
        .read_to_end(&mut answer)
        .map_err(connect)?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.lines().next().unwrap_or_default();
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    match code.starts_with('2') {
        true => Ok(body.trim().to_owned()),
        false => Err(NoticeError::Refused {
            url: server.shown(),
            status: status.to_owned(),
            body: body.trim().to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_http_with_a_host_a_port_and_a_prefix() {
        let parsed = |url: &str| ServerUrl::parse(url).map(|u| (u.authority, u.prefix)).ok();
        let pair = |a: &str, p: &str| Some((a.to_owned(), p.to_owned()));
        assert_eq!(parsed("http://127.0.0.1:8080"), pair("127.0.0.1:8080", ""));
        assert_eq!(
            parsed("http://ci.local/pipekit/"),
            pair("ci.local:80", "/pipekit")
        );
        assert_eq!(parsed("http://[::1]:9000"), pair("[::1]:9000", ""));
        for bad in [
            "https://ci",
            "ci:8080",
            "http://",
            "http://a b",
            "http://h:x",
            "http://h/?q",
        ] {
            assert_eq!(parsed(bad), None, "{bad}");
        }
    }
}
