//! One signed POST over one TCP (and TLS) connection, as OpenSRS is used: the client
//! connects, sends, reads the reply to its end and closes; nothing is pooled, proxied or
//! redirected. Owning the connection lets the client say exactly whether the request
//! left: a failure before its first byte was handed to the connection is `Connect`
//! (nothing sent, safe to try again), any later one is not.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::rustls::{self, pki_types};

use super::client::{ClientError, ConnectionSettings};
use super::codec;
use super::reply::TransportError;

/// How a client reaches OpenSRS: TLS settings made once, used for every call.
#[derive(Clone)]
pub(super) struct Transport {
    /// `None` for plain HTTP (a sandbox on loopback).
    tls: Option<tokio_rustls::TlsConnector>,
}

/// A reply as it came: the HTTP status and the body, read whole up to the codec's limit.
pub(super) struct RawReply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Transport {
    pub(super) fn new(settings: &ConnectionSettings) -> Result<Self, ClientError> {
        if settings.plain_http {
            return Ok(Transport { tls: None });
        }
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = &settings.extra_root_pem {
            use pki_types::pem::PemObject;
            let mut added = 0;
            for cert in pki_types::CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| ClientError::Certificate(e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| ClientError::Certificate(e.to_string()))?;
                added += 1;
            }
            if added == 0 {
                return Err(ClientError::Certificate(
                    "no PEM certificate found in the extra root".into(),
                ));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientError::Build(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Transport {
            tls: Some(tokio_rustls::TlsConnector::from(Arc::new(config))),
        })
    }

    /// Posts `body` with its signature headers and reads the reply, within the settings'
    /// connect and whole-call limits.
    pub(super) async fn post(
        &self,
        settings: &ConnectionSettings,
        body: &[u8],
        signature: String,
    ) -> Result<RawReply, TransportError> {
        let sent = AtomicBool::new(false);
        let call = self.exchange(settings, body, signature, &sent);
        match tokio::time::timeout(settings.timeout, call).await {
            Ok(result) => result,
            Err(_) if !sent.load(Ordering::SeqCst) => Err(TransportError::Connect(format!(
                "no connection to {} within {:?}",
                authority(settings),
                settings.timeout
            ))),
            Err(_) => Err(TransportError::Timeout(format!(
                "no complete reply from {} within {:?}",
                authority(settings),
                settings.timeout
            ))),
        }
    }

    async fn exchange(
        &self,
        settings: &ConnectionSettings,
        body: &[u8],
        signature: String,
        sent: &AtomicBool,
    ) -> Result<RawReply, TransportError> {
        let tcp = before_sending(settings, "no connection to", connect(settings)).await??;
        match &self.tls {
            None => send(settings, tcp, body, signature, sent).await,
            Some(tls) => {
                let name = pki_types::ServerName::try_from(host(settings).to_string())
                    .map_err(|e| TransportError::Connect(format!("{}: {e}", settings.server)))?;
                let stream =
                    before_sending(settings, "no TLS handshake with", tls.connect(name, tcp))
                        .await?
                        .map_err(|e| {
                            TransportError::Connect(format!(
                                "TLS with {}: {e}",
                                authority(settings)
                            ))
                        })?;
                send(settings, stream, body, signature, sent).await
            }
        }
    }
}

/// `step` (a part of the call before the request goes out) within the connect limit; past
/// it, nothing was sent.
async fn before_sending<T>(
    settings: &ConnectionSettings,
    what: &str,
    step: impl std::future::Future<Output = T>,
) -> Result<T, TransportError> {
    tokio::time::timeout(settings.connect_timeout, step)
        .await
        .map_err(|_| {
            TransportError::Connect(format!(
                "{what} {} within {:?}",
                authority(settings),
                settings.connect_timeout
            ))
        })
}

/// The server name without IPv6 brackets.
fn host(settings: &ConnectionSettings) -> &str {
    settings.server.trim_matches(|c| c == '[' || c == ']')
}

/// `host:port`, IPv6 in brackets, as the `Host` header and messages write it.
fn authority(settings: &ConnectionSettings) -> String {
    let host = host(settings);
    if host.contains(':') {
        format!("[{host}]:{}", settings.port)
    } else {
        format!("{host}:{}", settings.port)
    }
}

/// A TCP connection to the first of the server's addresses that answers, from the
/// configured source address when there is one.
async fn connect(settings: &ConnectionSettings) -> Result<TcpStream, TransportError> {
    let host = host(settings);
    let addresses: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, settings.port)],
        Err(_) => tokio::net::lookup_host((host, settings.port))
            .await
            .map_err(|e| TransportError::Connect(format!("cannot resolve {host}: {e}")))?
            .collect(),
    };
    let mut last = format!("{host} has no address");
    for address in addresses {
        if let Some(source) = settings.source_ip {
            if source.is_ipv4() != address.is_ipv4() {
                last = format!("{address} is not reachable from the source address {source}");
                continue;
            }
        }
        match connect_one(address, settings.source_ip).await {
            Ok(tcp) => {
                // Requests go out in one write; no reason to hold the last segment.
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = format!("{address}: {e}"),
        }
    }
    Err(TransportError::Connect(last))
}

async fn connect_one(address: SocketAddr, source: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let Some(source) = source else {
        return TcpStream::connect(address).await;
    };
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(address).await
}

/// HTTP/1.1 on an open connection: one request with `Connection: close`, the reply read
/// in frames and refused once it passes the codec's limit (not buffered whole).
async fn send<S>(
    settings: &ConnectionSettings,
    stream: S,
    body: &[u8],
    signature: String,
    sent: &AtomicBool,
) -> Result<RawReply, TransportError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let broken = |e: hyper::Error| TransportError::Broken(e.to_string());
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| TransportError::Connect(e.to_string()))?;
    let request = hyper::Request::post("/")
        .header(hyper::header::HOST, authority(settings))
        .header(hyper::header::CONTENT_TYPE, "text/xml")
        .header(
            hyper::header::USER_AGENT,
            concat!("domreg/", env!("CARGO_PKG_VERSION")),
        )
        .header("X-Username", &settings.login)
        .header("X-Signature", signature)
        .header(hyper::header::CONNECTION, "close")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .map_err(|e| TransportError::Connect(format!("the request could not be formed: {e}")))?;
    let exchange = async {
        sent.store(true, Ordering::SeqCst);
        let response = sender.send_request(request).await.map_err(broken)?;
        let status = response.status().as_u16();
        let mut reply = response.into_body();
        let mut bytes = Vec::new();
        while let Some(frame) = reply.frame().await {
            let Ok(data) = frame.map_err(broken)?.into_data() else {
                continue;
            };
            if bytes.len() + data.len() > codec::MAX_MESSAGE_BYTES {
                return Err(TransportError::Unparseable(format!(
                    "reply larger than {} bytes; not read further",
                    codec::MAX_MESSAGE_BYTES
                )));
            }
            bytes.extend_from_slice(&data);
        }
        Ok(RawReply {
            status,
            body: bytes,
        })
    };
    // The connection's future does the reading and writing; the exchange ends the call
    // (dropping the connection closes it), whichever of the two finishes first.
    tokio::pin!(exchange);
    tokio::select! {
        result = &mut exchange => result,
        ended = connection => match ended {
            Ok(()) => exchange.await,
            Err(e) => match exchange.await {
                Ok(reply) => Ok(reply),
                Err(_) => Err(broken(e)),
            },
        },
    }
}
