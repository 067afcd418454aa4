//! Connecting a gRPC client: a channel to `http://HOST:PORT`, connected now, with an
//! error that names the address. (Servers are built by `hcp-runtime`'s `grpc` module.)

/// Why a client could not connect.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Not a URI.
    #[error("bad address {0:?}")]
    BadAddress(String),
    /// Nothing answered there.
    #[error("cannot reach {url}: {source}")]
    Unreachable {
        /// Where.
        url: String,
        /// Why.
        source: tonic::transport::Error,
    },
}

/// A channel to a gRPC server at `url` (e.g. `http://127.0.0.1:50051`), connected now.
pub async fn connect(url: &str) -> Result<tonic::transport::Channel, ConnectError> {
    tonic::transport::Channel::from_shared(url.to_owned())
        .map_err(|_| ConnectError::BadAddress(url.to_owned()))?
        .connect()
        .await
        .map_err(|source| ConnectError::Unreachable { url: url.to_owned(), source })
}
