//! One request over one connection, as every firmware expects, with one deadline
//! covering connect, write and read.

use crate::reply::{Reply, ReplyError};
use crate::request::Request;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest reply read (real `stats` replies are a few KiB).
pub const MAX_REPLY_BYTES: usize = 256 * 1024;

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens there (connection refused or reset before a reply).
    #[error("{addr}: {source}")]
    Io {
        /// Where.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// No whole reply before the deadline (a hung or very slow miner).
    #[error("{addr}: no reply within {timeout:?}")]
    Timeout {
        /// Where.
        addr: SocketAddr,
        /// The deadline.
        timeout: Duration,
    },
    /// The reply exceeded [`MAX_REPLY_BYTES`].
    #[error("{addr}: reply longer than {MAX_REPLY_BYTES} bytes")]
    TooLong {
        /// Where.
        addr: SocketAddr,
    },
    /// It answered, but not usably.
    #[error("{addr}: {source}")]
    Reply {
        /// Where.
        addr: SocketAddr,
        /// What was wrong.
        source: ReplyError,
    },
}

impl ClientError {
    /// Whether the device answered at all (a refusal or garbage, not silence).
    pub fn answered(&self) -> bool {
        matches!(self, ClientError::Reply { .. })
    }
}

/// Sends `request` and returns the raw reply bytes (the miner closes when done).
pub async fn exchange(addr: SocketAddr, request: &Request, timeout: Duration) -> Result<Vec<u8>, ClientError> {
    let io = |source| ClientError::Io { addr, source };
    let work = async {
        let mut stream = TcpStream::connect(addr).await.map_err(io)?;
        stream.set_nodelay(true).map_err(io)?;
        stream.write_all(&request.to_bytes()).await.map_err(io)?;
        let mut buf = Vec::with_capacity(4096);
        let mut chunk = [0u8; 8192];
        loop {
            let n = stream.read(&mut chunk).await.map_err(io)?;
            if n == 0 {
                return Ok(buf);
            }
            if buf.len() + n > MAX_REPLY_BYTES {
                return Err(ClientError::TooLong { addr });
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(timeout, work).await.map_err(|_| ClientError::Timeout { addr, timeout })?
}

/// Sends `request` and reads its replies, one per joined command.
pub async fn query(addr: SocketAddr, request: &Request, timeout: Duration) -> Result<Vec<Reply>, ClientError> {
    let bytes = exchange(addr, request, timeout).await?;
    Reply::parse_joined(&bytes, &request.commands).map_err(|source| ClientError::Reply { addr, source })
}
