//! One HTTP GET, over `http://` or `https://` (rustls with the system's roots), with a
//! deadline: what services fetch from the outside (a price feed, an issuer's JWKS).

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
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

/// GETs `url`; answers the status and the whole body, all within `timeout`.
pub async fn get(url: &str, timeout: Duration) -> Result<(u16, Bytes), FetchError> {
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
            request(stream, &authority, &path).await.map_err(failed)
        } else {
            request(tcp, &authority, &path).await.map_err(failed)
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

async fn request<T>(io: T, authority: &str, path: &str) -> Result<(u16, Bytes), String>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(io)).await.map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, authority)
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    driver.abort();
    Ok((status, body))
}
