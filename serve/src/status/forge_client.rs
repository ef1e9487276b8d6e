//! A plain HTTP/1.1 POST to a forge: one connection per status (statuses are few and far
//! between, so a pool would buy nothing), TLS by rustls for `https://`, with a deadline
//! so that a forge that never answers cannot hold the outbox up.

use super::api_base::ApiBase;
use super::forge_request::ForgeRequest;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// From connecting to the last byte of the answer.
const DEADLINE: Duration = Duration::from_secs(30);

/// Of an answer's body, what is kept to say why a forge refused a status.
const KEPT_BODY_BYTES: usize = 64 * 1024;

/// Posts statuses; cheap to clone.
#[derive(Clone)]
pub struct ForgeClient {
    tls: TlsConnector,
}

/// What the forge answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeAnswer {
    pub status: u16,
    /// The start of its body, for the record when it refuses.
    pub body: String,
}

/// Why no answer came.
#[derive(Debug, thiserror::Error)]
pub enum ForgeClientError {
    #[error("cannot connect to {address}")]
    Connect {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set up TLS")]
    TlsSetup(#[source] rustls::Error),
    #[error("`{0}` is no host name for TLS")]
    ServerName(String),
    #[error("TLS with {address} failed")]
    Tls {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP exchange with {address} failed")]
    Http {
        address: String,
        #[source]
        source: hyper::Error,
    },
    #[error("the request for {address} could not be built")]
    Request {
        address: String,
        #[source]
        source: hyper::http::Error,
    },
    #[error("{address} sent an answer body that could not be read")]
    Body { address: String },
    #[error("{address} did not answer within {seconds} s", seconds = DEADLINE.as_secs())]
    Timeout { address: String },
}

impl ForgeClient {
    /// Trusts Mozilla's root certificates, compiled in: a server's forge is reached the
    /// same way whatever CA bundle its machine has (or has not).
    pub fn new() -> Result<ForgeClient, ForgeClientError> {
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(ForgeClientError::TlsSetup)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ForgeClient {
            tls: TlsConnector::from(Arc::new(config)),
        })
    }

    /// Sends `request` to `api`'s host; the forge's answer, whatever its status.
    pub async fn post(
        &self,
        api: &ApiBase,
        request: &ForgeRequest,
    ) -> Result<ForgeAnswer, ForgeClientError> {
        let address = format!("{}:{}", api.host, api.port);
        tokio::time::timeout(DEADLINE, self.exchange(api, request, &address))
            .await
            .unwrap_or(Err(ForgeClientError::Timeout { address }))
    }

    async fn exchange(
        &self,
        api: &ApiBase,
        request: &ForgeRequest,
        address: &str,
    ) -> Result<ForgeAnswer, ForgeClientError> {
        let tcp = TcpStream::connect((api.host.as_str(), api.port))
            .await
            .map_err(|source| ForgeClientError::Connect {
                address: address.to_owned(),
                source,
            })?;
        let _ = tcp.set_nodelay(true);
        if !api.tls {
            return send(tcp, api, request, address).await;
        }
        let name = ServerName::try_from(api.host.clone())
            .map_err(|_| ForgeClientError::ServerName(api.host.clone()))?;
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(|source| ForgeClientError::Tls {
                address: address.to_owned(),
                source,
            })?;
        send(tls, api, request, address).await
    }
}

/// One request and its answer over `stream`, which is closed after.
async fn send<S>(
    stream: S,
    api: &ApiBase,
    request: &ForgeRequest,
    address: &str,
) -> Result<ForgeAnswer, ForgeClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let http = |source| ForgeClientError::Http {
        address: address.to_owned(),
        source,
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(http)?;
    let mut builder = hyper::Request::post(&request.path)
        .header("host", api.host_header())
        .header("content-type", "application/json")
        .header("connection", "close");
    for (name, value) in &request.headers {
        builder = builder.header(*name, value);
    }
    let outgoing = builder
        .body(Full::new(Bytes::from(request.body.clone())))
        .map_err(|source| ForgeClientError::Request {
            address: address.to_owned(),
            source,
        })?;
    let exchange = async move {
        let response = sender.send_request(outgoing).await.map_err(http)?;
        let status = response.status().as_u16();
        // A body too long or cut short still leaves the status to decide by.
        let body = match Limited::new(response.into_body(), KEPT_BODY_BYTES)
            .collect()
            .await
        {
            Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
            Err(_) if (200..300).contains(&status) => String::new(),
            Err(_) => {
                return Err(ForgeClientError::Body {
                    address: address.to_owned(),
                });
            }
        };
        Ok(ForgeAnswer { status, body })
    };
    // The connection is driven beside the exchange, here rather than on a task of its
    // own, so that nothing outlives the call; it ends once the sender is dropped.
    let (answer, _) = tokio::join!(exchange, connection);
    answer
}
