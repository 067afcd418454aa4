//! One HTTP exchange, over `http://` or `https://` (rustls with the system's roots), with
//! a deadline: what services fetch from the outside (a price feed, an issuer's JWKS) and
//! what they post to it (a webhook). Connections are kept alive and reused per host and
//! port (at most [`IDLE_PER_HOST`] idle ones each), so a busy endpoint is not paid a
//! handshake a request.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// Why a GET failed; each names the URL.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an `http(s)://host[:port]/...` URL.
    #[error("bad URL {url:?}: {reason}")]
    BadUrl {
        /// It.
        url: String,
        /// Why.
        reason: String,
    },
    /// No answer, a broken one, or none in time.
    #[error("GET {url}: {reason}")]
    Failed {
        /// It.
        url: String,
        /// Why.
        reason: String,
    },
}

/// What an endpoint answered.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// Its `Retry-After` header, if any.
    pub retry_after: Option<String>,
    /// The whole body.
    pub body: Bytes,
}

/// GETs `url`; answers the status and the whole body, all within `timeout`.
pub async fn get(url: &str, timeout: Duration) -> Result<(u16, Bytes), FetchError> {
    send("GET", url, &[], Bytes::new(), timeout).await.map(|r| (r.status, r.body))
}

/// POSTs `body` to `url` with `headers`; answers what came back, all within `timeout`.
pub async fn post(url: &str, headers: &[(&str, String)], body: Bytes, timeout: Duration) -> Result<Reply, FetchError> {
    send("POST", url, headers, body, timeout).await
}

async fn send(
    method: &'static str,
    url: &str,
    headers: &[(&str, String)],
    body: Bytes,
    timeout: Duration,
) -> Result<Reply, FetchError> {
    let bad = |reason: &str| FetchError::BadUrl { url: url.to_owned(), reason: reason.to_owned() };
    let uri: hyper::Uri = url.parse().map_err(|e: hyper::http::uri::InvalidUri| bad(&e.to_string()))?;
    let tls = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err(bad("only http:// and https:// are supported")),
    };
    let host = uri.host().ok_or_else(|| bad("no host"))?.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let authority = uri.authority().map(ToString::to_string).unwrap_or_else(|| host.clone());
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let failed = |reason: String| FetchError::Failed { url: url.to_owned(), reason };
    let key = (tls, host.clone(), port);
    let exchange = async {
        let sender = match idle(&key).await {
            Some(sender) => sender,
            None => connect(tls, &host, port).await.map_err(failed)?,
        };
        request(sender, &key, method, &authority, &path, headers, body).await.map_err(failed)
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| failed(format!("no answer within {timeout:?}")))?
}

/// The TLS client configuration: the system's roots, ring's algorithms.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, FetchError> {
    let failed = |reason: String| FetchError::Failed { url: String::new(), reason };
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| failed(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Idle connections kept per host and port.
pub const IDLE_PER_HOST: usize = 32;

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;
type PoolKey = (bool, String, u16);

fn pool() -> std::sync::MutexGuard<'static, HashMap<PoolKey, Vec<Sender>>> {
    static POOL: OnceLock<Mutex<HashMap<PoolKey, Vec<Sender>>>> = OnceLock::new();
    POOL.get_or_init(Mutex::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An idle connection to `key` that is still open, if there is one.
async fn idle(key: &PoolKey) -> Option<Sender> {
    loop {
        let mut sender = pool().get_mut(key)?.pop()?;
        if !sender.is_closed() && sender.ready().await.is_ok() {
            return Some(sender);
        }
    }
}

/// A new connection (TLS for `https`); its driver runs until it closes.
async fn connect(tls: bool, host: &str, port: u16) -> Result<Sender, String> {
    let tcp = tokio::net::TcpStream::connect((host, port)).await.map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    if tls {
        let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
        let config = tls_config().map_err(|e| e.to_string())?;
        let stream =
            tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.map_err(|e| format!("TLS: {e}"))?;
        handshake(stream).await
    } else {
        handshake(tcp).await
    }
}

async fn handshake<T>(io: T) -> Result<Sender, String>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(io)).await.map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

async fn request(
    mut sender: Sender,
    key: &PoolKey,
    method: &'static str,
    authority: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Bytes,
) -> Result<Reply, String> {
    let mut request = hyper::Request::builder().method(method).uri(path).header(hyper::header::HOST, authority);
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let retry_after =
        response.headers().get(hyper::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(ToOwned::to_owned);
    let closing =
        response.headers().get(hyper::header::CONNECTION).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    if !closing {
        let mut pool = pool();
        let idle = pool.entry(key.clone()).or_default();
        if idle.len() < IDLE_PER_HOST {
            idle.push(sender);
        }
    }
    Ok(Reply { status, retry_after, body })
}
