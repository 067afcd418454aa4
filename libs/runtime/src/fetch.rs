//! One HTTP exchange, over `http://` or `https://` (rustls with the system's roots), with
//! a deadline: what services fetch from the outside (a price feed, an issuer's JWKS) and
//! what they post to it (a webhook).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
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
    let exchange = async {
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| failed(e.to_string()))?;
        if tls {
            let name = rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| failed(e.to_string()))?;
            let stream = tokio_rustls::TlsConnector::from(tls_config()?)
                .connect(name, tcp)
                .await
                .map_err(|e| failed(format!("TLS: {e}")))?;
            request(stream, method, &authority, &path, headers, body).await.map_err(failed)
        } else {
            request(tcp, method, &authority, &path, headers, body).await.map_err(failed)
        }
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

async fn request<T>(
    io: T,
    method: &'static str,
    authority: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Bytes,
) -> Result<Reply, String>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(io)).await.map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let mut request = hyper::Request::builder().method(method).uri(path).header(hyper::header::HOST, authority);
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let retry_after =
        response.headers().get(hyper::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(ToOwned::to_owned);
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    driver.abort();
    Ok(Reply { status, retry_after, body })
}
