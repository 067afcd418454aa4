//! Serving one miner's API: accept, read one request, answer, close, as cgminer does.

use crate::miner::{Behaviour, SimMiner};
use hcp_minerapi::Request;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a hung miner holds a connection before dropping it.
const HANG_FOR: Duration = Duration::from_secs(60);
/// The largest request read.
const MAX_REQUEST: usize = 8 * 1024;

/// Binds the miner's address and serves it until stopped.
pub(crate) async fn start(miner: &Arc<SimMiner>) -> std::io::Result<()> {
    let listener = TcpListener::bind(miner.addr).await?;
    let m = Arc::clone(miner);
    let task = tokio::spawn(async move { accept_loop(listener, m).await });
    if let Some(old) = miner.listener.lock().unwrap_or_else(std::sync::PoisonError::into_inner).replace(task) {
        old.abort();
    }
    Ok(())
}

/// Stops listening: new connections are refused, as by a miner that is off.
pub(crate) fn stop(miner: &SimMiner) {
    if let Some(task) = miner.listener.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
        task.abort();
    }
}

async fn accept_loop(listener: TcpListener, miner: Arc<SimMiner>) {
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                let m = Arc::clone(&miner);
                tokio::spawn(async move {
                    if let Err(e) = serve(socket, &m).await {
                        tracing::trace!(miner = %m.addr, error = %e, "connection ended early");
                    }
                });
            }
            // Out of descriptors or a reset before accept: back off and go on.
            Err(e) => {
                tracing::debug!(miner = %miner.addr, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn serve(mut socket: TcpStream, miner: &SimMiner) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let request = tokio::time::timeout(REQUEST_TIMEOUT, read_request(&mut socket)).await.ok().transpose()?;
    let behaviour = miner.behaviour();
    match behaviour {
        Behaviour::Hang => {
            tokio::time::sleep(HANG_FOR).await;
            return Ok(());
        }
        Behaviour::Slow(d) => tokio::time::sleep(d).await,
        _ => {}
    }
    let body = match request.as_deref().map(Request::parse) {
        Some(Ok(r)) => miner.respond(&r),
        _ => r#"{"STATUS":[{"STATUS":"E","When":0,"Code":23,"Msg":"Invalid JSON","Description":""}],"id":1}"#.into(),
    };
    let mut bytes = match behaviour {
        Behaviour::Malformed => malform(&body).into_bytes(),
        Behaviour::Garbage => b"\x15\x03\x01\x00\x02\x02\x28HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
        _ => body.into_bytes(),
    };
    bytes.push(0);
    socket.write_all(&bytes).await?;
    socket.shutdown().await
}

/// Reads until the request is complete: a NUL or newline, a whole JSON object, or EOF.
async fn read_request(socket: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(128);
    let mut chunk = [0u8; 1024];
    loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
        let done = buf.contains(&0)
            || buf.contains(&b'\n')
            || (buf.first() == Some(&b'{') && serde_json::from_slice::<serde_json::Value>(&buf).is_ok());
        if done || buf.len() >= MAX_REQUEST {
            return Ok(buf);
        }
    }
}

/// Adds the sloppiness of the worst firmware to a valid reply: a trailing comma in every
/// object, a `nan` and an `inf` field in the first section object.
fn malform(body: &str) -> String {
    let with_trailing_commas = body.replace("}]", ",}]").replace("\"id\":1}", "\"id\":1,}");
    match with_trailing_commas.find(":[{\"") {
        Some(at) if with_trailing_commas[at..].contains("\"STATUS\"") => {
            let (head, tail) = with_trailing_commas.split_at(at + 3);
            format!("{head}\"Rate Ratio\":nan,\"Peak\":-inf,{tail}")
        }
        _ => with_trailing_commas,
    }
}

#[cfg(test)]
mod tests {
    use super::malform;
    use hcp_minerapi::Reply;

    #[test]
    fn malformed_replies_still_read_tolerantly_but_not_strictly() {
        let body = r#"{"STATUS":[{"STATUS":"S","Code":11,"Msg":"Summary"}],"SUMMARY":[{"GHS 5s":1.5}],"id":1}"#;
        let bad = malform(body);
        assert!(serde_json::from_str::<serde_json::Value>(&bad).is_err(), "{bad}");
        let reply = Reply::parse(bad.as_bytes()).expect("tolerant");
        assert_eq!(reply.first("SUMMARY").and_then(|s| s["GHS 5s"].as_f64()), Some(1.5));
    }
}
