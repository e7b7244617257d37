//! TCP and TLS plumbing for IMAP: connect with a time limit, rustls (ring provider, the
//! one reqwest already uses in this workspace) with the Mozilla roots from webpki-roots,
//! or without verification for self-signed test servers.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::error::{MailError, Server};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls client configuration: verifying against webpki-roots, or accepting any
/// certificate (`accept_invalid_certs`, for self-signed test servers only). Built once.
pub(crate) fn client_config(accept_invalid_certs: bool) -> Result<Arc<ClientConfig>, String> {
    static VERIFYING: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    static ACCEPTING: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    let cell = if accept_invalid_certs { &ACCEPTING } else { &VERIFYING };
    cell.get_or_init(|| {
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let config = if accept_invalid_certs {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth()
        } else {
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        Ok(Arc::new(config))
    })
    .clone()
}

/// Accepts any server certificate but still checks the handshake signatures, so the
/// connection is encrypted, just not authenticated. Only with `accept_invalid_certs`.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A connection to an IMAP server, plain or TLS.
#[derive(Debug)]
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Connects to `pinned` (addresses the caller resolved and checked) or, when
/// it is empty, resolves the host; each step within `limit`. DNS failures and
/// refusals are [`MailError::Connection`] with a message that says which.
/// Returns the stream and the address it is connected to.
pub(crate) async fn connect_tcp(
    server: &Server,
    pinned: &[SocketAddr],
    limit: Duration,
) -> Result<(TcpStream, SocketAddr), MailError> {
    let timeout =
        |during: &str| MailError::Timeout { server: server.clone(), secs: limit.as_secs(), during: during.to_owned() };
    let addrs: Vec<SocketAddr> = if pinned.is_empty() {
        tokio::time::timeout(limit, tokio::net::lookup_host((server.host.as_str(), server.port)))
            .await
            .map_err(|_| timeout("DNS lookup"))?
            .map_err(|e| MailError::Connection {
                server: server.clone(),
                message: format!("DNS lookup of {:?} failed: {e}", server.host),
            })?
            .collect()
    } else {
        pinned.to_vec()
    };
    if addrs.is_empty() {
        return Err(MailError::Connection {
            server: server.clone(),
            message: format!("DNS lookup of {:?} returned no address", server.host),
        });
    }
    let mut last_error = None;
    for addr in addrs {
        match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok((stream, addr));
            }
            Ok(Err(e)) => last_error = Some(format!("connecting to {addr}: {e}")),
            Err(_) => last_error = Some(format!("connecting to {addr}: timed out")),
        }
    }
    let message = last_error.unwrap_or_default();
    if message.ends_with("timed out") {
        return Err(timeout("connect"));
    }
    Err(MailError::Connection { server: server.clone(), message })
}

/// TLS handshake over an established TCP connection (implicit TLS or after STARTTLS).
pub(crate) async fn start_tls(
    server: &Server,
    tcp: TcpStream,
    accept_invalid_certs: bool,
    limit: Duration,
) -> Result<Stream, MailError> {
    let tls_error = |message: String| MailError::Tls { server: server.clone(), message };
    let config = client_config(accept_invalid_certs).map_err(&tls_error)?;
    let name = ServerName::try_from(server.host.clone())
        .map_err(|e| MailError::InvalidInput(format!("{:?} is not a valid TLS server name: {e}", server.host)))?;
    let connector = TlsConnector::from(config);
    match tokio::time::timeout(limit, connector.connect(name, tcp)).await {
        Ok(Ok(tls)) => Ok(Stream::Tls(Box::new(tls))),
        // rustls reports its own failures (certificate, handshake, a non-TLS answer) as
        // InvalidData; anything else is the connection dropping underneath (transient).
        Ok(Err(e)) if e.kind() == io::ErrorKind::InvalidData => Err(tls_error(describe_tls_error(&e))),
        Ok(Err(e)) => Err(MailError::Connection {
            server: server.clone(),
            message: format!("connection lost during the TLS handshake: {e}"),
        }),
        Err(_) => {
            Err(MailError::Timeout { server: server.clone(), secs: limit.as_secs(), during: "TLS handshake".into() })
        }
    }
}

fn describe_tls_error(e: &io::Error) -> String {
    let text = e.to_string();
    if text.contains("UnknownIssuer") || text.contains("invalid peer certificate") {
        format!("{text} (a self-signed or privately issued certificate is not trusted; accept_invalid_certs allows it on test servers)")
    } else {
        text
    }
}
