//! The connection to a Docker engine at the address the caller read (`DOCKER_HOST`; the
//! local socket by default).

use bollard::Docker;
use std::time::Duration;

/// Longer than any job: waiting for a container, following its output, stopping it.
const LONG_REQUEST: Duration = Duration::from_secs(7 * 24 * 3600);
/// Everything else answers quickly or the engine is in trouble.
const SHORT_REQUEST: Duration = Duration::from_secs(120);

/// Why the engine cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error(
        "cannot reach the Docker engine at {host}: {reason}\n\
         hint: start it (`sudo systemctl start docker`, or run `dockerd` as root), point \
         DOCKER_HOST at a running engine, or run every job on this host with `--executor local`"
    )]
    Unreachable { host: String, reason: String },
    #[error("the Docker engine at {host} refused to {what}: {reason}")]
    Refused {
        host: String,
        what: &'static str,
        reason: String,
    },
}

const LOCAL_SOCKET: &str = "unix:///var/run/docker.sock";

/// A client for `host`, without reading the process's environment.
fn connect_to(host: &str) -> Result<Docker, bollard::errors::Error> {
    let timeout = SHORT_REQUEST.as_secs();
    match host.strip_prefix("unix://") {
        Some(path) => Docker::connect_with_unix(path, timeout, bollard::API_DEFAULT_VERSION),
        None => Docker::connect_with_http(host, timeout, bollard::API_DEFAULT_VERSION),
    }
}

/// Two handles on one engine: one for quick calls, bounded so a hung engine cannot hang
/// the run, and one for calls that last as long as a job.
#[derive(Debug, Clone)]
pub struct Engine {
    pub quick: Docker,
    pub long: Docker,
    pub host: String,
}

impl Engine {
    /// Connects to `host` (`unix:///path`, `tcp://host:port`, `http://…`; `None` or empty:
    /// the local socket) and agrees on an API version (Debian's engine speaks 1.41,
    /// bollard's default is newer).
    pub async fn connect(host: Option<&str>) -> Result<Engine, DockerError> {
        let host = host
            .filter(|host| !host.is_empty())
            .unwrap_or(LOCAL_SOCKET)
            .to_string();
        let unreachable = |reason: String| DockerError::Unreachable {
            host: host.clone(),
            reason,
        };
        let docker = connect_to(&host).map_err(|e| unreachable(e.to_string()))?;
        let docker = tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version())
            .await
            .map_err(|_| unreachable("no answer within 10 s".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        let quick = docker.with_timeout(SHORT_REQUEST);
        let long = quick.clone().with_timeout(LONG_REQUEST);
        Ok(Engine { quick, long, host })
    }
}
