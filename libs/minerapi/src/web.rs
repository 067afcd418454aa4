//! The stock Antminer's web interface, the one way to put stock firmware to sleep:
//! `/cgi-bin/<name>.cgi` over HTTP/1.1 with digest authentication (RFC 7616, MD5, as the
//! firmware asks), JSON in and out. One call: a request without credentials, the
//! firmware's challenge, the same request answered to it.

use md5::{Digest, Md5};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The port stock Antminers serve their web interface on.
pub const WEB_PORT: u16 = 80;
/// The largest response read.
const MAX_RESPONSE: usize = 256 * 1024;

/// Who logs in (stock firmware ships as root / root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user.
    pub user: String,
    /// The password.
    pub password: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials { user: "root".into(), password: "root".into() }
    }
}

/// Why a web call failed.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Nothing answered, or not in time.
    #[error("{addr}: {why}")]
    Io {
        /// Where.
        addr: SocketAddr,
        /// What happened.
        why: String,
    },
    /// It answered, but not with what a call expects.
    #[error("{addr} {path}: {why}")]
    Answer {
        /// Where.
        addr: SocketAddr,
        /// The page.
        path: String,
        /// What was wrong.
        why: String,
    },
}

/// One response.
struct Response {
    status: u16,
    challenge: Option<String>,
    body: Vec<u8>,
}

/// Calls `/cgi-bin/<name>.cgi` at `addr`: a GET, or a POST of `body`; the JSON answer.
pub async fn cgi(
    addr: SocketAddr,
    name: &str,
    body: Option<&Value>,
    credentials: &Credentials,
    timeout: Duration,
) -> Result<Value, WebError> {
    let path = format!("/cgi-bin/{name}.cgi");
    let io = |why: String| WebError::Io { addr, why };
    let answer = |why: String| WebError::Answer { addr, path: path.clone(), why };
    let work = async {
        let mut stream = TcpStream::connect(addr).await.map_err(|e| io(e.to_string()))?;
        let method = if body.is_some() { "POST" } else { "GET" };
        let payload = body.map(Value::to_string).unwrap_or_default();
        let first = exchange(&mut stream, method, &path, &payload, None).await.map_err(|e| io(e.to_string()))?;
        let response = match (first.status, first.challenge) {
            (401, Some(challenge)) => {
                let authorization = authorize(&challenge, method, &path, credentials).map_err(answer)?;
                exchange(&mut stream, method, &path, &payload, Some(&authorization))
                    .await
                    .map_err(|e| io(e.to_string()))?
            }
            (status, _) => Response { status, challenge: None, body: first.body },
        };
        match response.status {
            200 => serde_json::from_slice(&response.body).map_err(|e| answer(format!("not JSON: {e}"))),
            401 => Err(answer("the credentials were refused".into())),
            status => Err(answer(format!("HTTP {status}"))),
        }
    };
    tokio::time::timeout(timeout, work).await.map_err(|_| io(format!("no answer within {timeout:?}")))?
}

/// Writes one request and reads its response on a kept-alive connection.
async fn exchange(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    body: &str,
    authorization: Option<&str>,
) -> std::io::Result<Response> {
    let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: keep-alive\r\n", stream.peer_addr()?.ip());
    if let Some(a) = authorization {
        head.push_str(&format!("Authorization: {a}\r\n"));
    }
    if method == "POST" {
        head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if buffer.len() > MAX_RESPONSE {
            return Err(invalid("response head too long"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(invalid("closed before a response"));
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok());
    let status = status.ok_or_else(|| invalid("no status line"))?;
    let (mut length, mut challenge, mut close) = (None, None, false);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse::<usize>().ok(),
            "www-authenticate" => challenge = Some(value.trim().to_owned()),
            "connection" => close = value.trim().eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let mut body = buffer[end + 4..].to_vec();
    match length {
        Some(length) if length <= MAX_RESPONSE => {
            while body.len() < length {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(invalid("closed mid-body"));
                }
                body.extend_from_slice(&chunk[..n]);
            }
            body.truncate(length);
        }
        Some(_) => return Err(invalid("response body too long")),
        // No length: the body runs to the end of the connection.
        None if close || status == 200 => {
            while body.len() <= MAX_RESPONSE {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        None => {}
    }
    Ok(Response { status, challenge, body })
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The `Authorization` header answering a digest `challenge` (MD5, `qop=auth` when offered).
fn authorize(challenge: &str, method: &str, uri: &str, credentials: &Credentials) -> Result<String, String> {
    let params = challenge
        .strip_prefix("Digest ")
        .or_else(|| challenge.strip_prefix("digest "))
        .ok_or_else(|| format!("not a digest challenge: {challenge}"))?;
    let field = |name: &str| {
        params.split(',').find_map(|p| {
            let (k, v) = p.split_once('=')?;
            (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().trim_matches('"').to_owned())
        })
    };
    let realm = field("realm").ok_or("the challenge names no realm")?;
    let nonce = field("nonce").ok_or("the challenge gives no nonce")?;
    let ha1 = md5_hex(&format!("{}:{realm}:{}", credentials.user, credentials.password));
    let ha2 = md5_hex(&format!("{method}:{uri}"));
    let user = &credentials.user;
    if field("qop").is_some_and(|q| q.split(',').any(|q| q.trim() == "auth")) {
        let (nc, cnonce) =
            ("00000001", md5_hex(&format!("{nonce}:{uri}:{:?}", std::time::SystemTime::now()))[..16].to_owned());
        let response = md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
        Ok(format!(
            "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", \
             algorithm=MD5, qop=auth, nc={nc}, cnonce=\"{cnonce}\""
        ))
    } else {
        let response = md5_hex(&format!("{ha1}:{nonce}:{ha2}"));
        Ok(format!(
            "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_a_challenge_without_qop_as_rfc_2617() {
        // The response for root/root in the Antminer realm, checked against httpx's.
        let challenge = "Digest realm=\"antMiner Configuration\", nonce=\"b1b1652793d3109e9b29f0c3a111ffe5\"";
        let header = authorize(challenge, "GET", "/cgi-bin/stats.cgi", &Credentials::default()).expect("answers");
        assert!(header.contains("response=\"47aff9be3a6a125ab9e1a2b089364d4b\""), "{header}");
        assert!(authorize("Basic realm=\"x\"", "GET", "/", &Credentials::default()).is_err());
        assert!(authorize("Digest nonce=\"n\"", "GET", "/", &Credentials::default()).is_err(), "no realm");
    }
}
