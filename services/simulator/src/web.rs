//! The stock Antminer's web interface, as its firmware serves it and as clients such as
//! pyasic use it: `/cgi-bin/<name>.cgi` behind HTTP digest authentication (`root` /
//! `root`, realm `antMiner Configuration`), JSON bodies, keep-alive connections.
//!
//! - `get_system_info.cgi`, `get_network_info.cgi`, `miner_type.cgi`: identity (model, MAC,
//!   serial number, hostname);
//! - `stats.cgi`: per chain `rate_real` (GH/s), `asic_num`, `temp_pcb`, `temp_chip`, `sn`;
//!   fans; `summary.cgi`: rates and a status list;
//! - `get_miner_conf.cgi` / `set_miner_conf.cgi`: `bitmain-work-mode` (0 normal, 1 sleep),
//!   set through `miner-mode`: the documented way to put stock firmware to sleep;
//! - `get_blink_status.cgi` / `blink.cgi`: the locate LED.
//!
//! Anything else, once authenticated, is 404 with a body that is not JSON.

use crate::miner::SimMiner;
use md5::{Digest, Md5};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The realm real Antminers name in their challenge (clients recognise the firmware by it).
pub const REALM: &str = "antMiner Configuration";
const USER: &str = "root";
const PASSWORD: &str = "root";
/// The largest request head or body read.
const MAX_REQUEST: usize = 64 * 1024;
/// How long an idle keep-alive connection stays open.
const IDLE: Duration = Duration::from_secs(10);

/// Serves `miner`'s web interface on its address at `port` until the returned task is aborted.
pub(crate) async fn start(miner: &Arc<SimMiner>, port: u16) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(SocketAddr::new(miner.addr.ip(), port)).await?;
    let m = Arc::clone(miner);
    Ok(tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let m = Arc::clone(&m);
            tokio::spawn(async move {
                let _ = serve(socket, &m).await;
            });
        }
    }))
}

/// One HTTP request.
struct HttpRequest {
    method: String,
    path: String,
    authorization: Option<String>,
    body: Vec<u8>,
}

async fn serve(mut socket: TcpStream, miner: &SimMiner) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let mut buffer = Vec::new();
    loop {
        let Ok(read) = tokio::time::timeout(IDLE, read_request(&mut socket, &mut buffer)).await else { return Ok(()) };
        let Some(request) = read? else { return Ok(()) };
        let (status, content_type, body, challenge) = if !authorized(&request) {
            (401, "text/html", b"<html><body>401 Unauthorized</body></html>".to_vec(), true)
        } else {
            match route(miner, &request) {
                Some(v) => (200, "application/json", v.to_string().into_bytes(), false),
                None => (404, "text/html", b"<html><body>404 Not Found</body></html>".to_vec(), false),
            }
        };
        let reason = match status {
            200 => "OK",
            401 => "Unauthorized",
            _ => "Not Found",
        };
        let mut head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: keep-alive\r\n",
            body.len()
        );
        if challenge {
            head.push_str(&format!(
                "WWW-Authenticate: Digest realm=\"{REALM}\", nonce=\"{}\", qop=\"auth\"\r\n",
                nonce(miner)
            ));
        }
        head.push_str("\r\n");
        socket.write_all(head.as_bytes()).await?;
        socket.write_all(&body).await?;
    }
}

/// Reads one request (head and body) from `socket`, keeping what follows in `buffer`;
/// `None` when the client closed the connection.
async fn read_request(socket: &mut TcpStream, buffer: &mut Vec<u8>) -> std::io::Result<Option<HttpRequest>> {
    let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if buffer.len() > MAX_REQUEST {
            return Err(invalid("request head too long"));
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let (method, path) = (first.next().unwrap_or_default().to_owned(), first.next().unwrap_or_default().to_owned());
    let mut length = 0usize;
    let mut authorization = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().map_err(|_| invalid("bad Content-Length"))?,
            "authorization" => authorization = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    if length > MAX_REQUEST {
        return Err(invalid("request body too long"));
    }
    let start = end + 4;
    while buffer.len() < start + length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[start..start + length].to_vec();
    buffer.drain(..start + length);
    Ok(Some(HttpRequest { method, path, authorization, body }))
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The nonce this miner issues (one per miner: enough for a simulator).
fn nonce(miner: &SimMiner) -> String {
    md5_hex(&format!("nonce:{}", miner.addr))
}

/// Whether the request carries a valid digest response for root/root (RFC 7616, MD5,
/// with or without `qop=auth`).
fn authorized(request: &HttpRequest) -> bool {
    let Some(header) = request.authorization.as_deref() else { return false };
    let Some(params) = header.strip_prefix("Digest ").or_else(|| header.strip_prefix("digest ")) else { return false };
    let mut fields = std::collections::HashMap::new();
    for part in split_params(params) {
        if let Some((k, v)) = part.split_once('=') {
            fields.insert(k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_owned());
        }
    }
    let get = |k: &str| fields.get(k).map(String::as_str).unwrap_or_default();
    if get("username") != USER || get("realm") != REALM {
        return false;
    }
    let ha1 = md5_hex(&format!("{USER}:{REALM}:{PASSWORD}"));
    let ha2 = md5_hex(&format!("{}:{}", request.method, get("uri")));
    let expected = match get("qop") {
        "" => md5_hex(&format!("{ha1}:{}:{ha2}", get("nonce"))),
        qop => md5_hex(&format!("{ha1}:{}:{}:{}:{qop}:{ha2}", get("nonce"), get("nc"), get("cnonce"))),
    };
    expected == get("response")
}

/// A header's comma-separated parameters, commas inside quotes kept.
fn split_params(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The answer to an authenticated request, `None` for a path the firmware does not serve.
fn route(miner: &SimMiner, request: &HttpRequest) -> Option<Value> {
    let name = request.path.strip_prefix("/cgi-bin/")?.strip_suffix(".cgi")?;
    let model = miner.model.name;
    let mac = miner.mac();
    let serial = format!("SIM{}", mac.replace(':', ""));
    Some(match (request.method.as_str(), name) {
        ("GET", "get_system_info") => json!({"minertype": model, "nettype": "DHCP", "netdevice": "eth0",
            "macaddr": mac, "hostname": "Antminer", "ipaddress": miner.addr.ip().to_string(),
            "netmask": "255.255.255.0", "gateway": "", "dnsservers": "", "system_mode": "GNU/Linux",
            "system_kernel_version": "Linux 4.9.38 #1 SMP PREEMPT", "system_filesystem_version": "Thu May 30 10:12:41 CST 2024",
            "firmware_type": "Release", "serinum": serial}),
        ("GET", "get_network_info") => json!({"nettype": "DHCP", "netdevice": "eth0", "macaddr": mac,
            "ipaddress": miner.addr.ip().to_string(), "netmask": "255.255.255.0", "conf_nettype": "DHCP",
            "conf_hostname": "Antminer", "conf_ipaddress": "", "conf_netmask": "", "conf_gateway": "", "conf_dnsservers": ""}),
        ("GET", "miner_type") => {
            json!({"miner_type": model, "subtype": "AMLCtrl_BHB42601", "fw_version": "Thu May 30 10:12:41 CST 2024"})
        }
        ("GET", "stats") => {
            let r = miner.reading();
            let ideal = miner.model.terahashes as f64 * 1000.0;
            let chains: Vec<Value> = r.board_ghs.iter().zip(&r.board_temp_c).enumerate().map(|(i, (ghs, t))| {
                let (pcb, chip) = (t.round() as i64, (t + 5.0).round() as i64);
                json!({"index": i, "freq_avg": 525, "rate_ideal": ideal / r.board_ghs.len().max(1) as f64,
                    "rate_real": (ghs * 100.0).round() / 100.0, "asic_num": if *ghs > 0.0 || r.sleeping { 126 } else { 0 },
                    "temp_pic": [pcb, pcb, pcb + 16, pcb + 16], "temp_pcb": [pcb, pcb, pcb + 16, pcb + 16],
                    "temp_chip": [chip, chip, chip + 16, chip + 16], "hw": 0, "eeprom_loaded": true,
                    "sn": format!("{serial}{i}"), "hwp": 0.0})
            }).collect();
            let rate: f64 = r.board_ghs.iter().sum();
            json!({"STATUS": {"STATUS": "S", "when": epoch(), "Msg": "stats", "api_version": "1.0.0"},
                "INFO": {"miner_version": "49.0.1.3", "CompileTime": "Thu May 30 10:12:41 CST 2024", "type": model},
                "STATS": [{"elapsed": r.elapsed_s, "rate_5s": rate, "rate_30m": rate, "rate_avg": rate, "rate_ideal": ideal,
                    "rate_unit": "GH/s", "chain_num": chains.len(), "fan_num": r.fans_rpm.len(), "fan": r.fans_rpm,
                    "hwp_total": 0.0, "miner-mode": u8::from(r.sleeping), "freq-level": 100, "chain": chains}]})
        }
        ("GET", "summary") => {
            let r = miner.reading();
            let rate: f64 = r.board_ghs.iter().sum();
            let ok = |kind: &str| json!({"type": kind, "status": "s", "code": 0, "msg": ""});
            json!({"STATUS": {"STATUS": "S", "when": epoch(), "Msg": "summary", "api_version": "1.0.0"},
                "INFO": {"miner_version": "49.0.1.3", "CompileTime": "Thu May 30 10:12:41 CST 2024", "type": model},
                "SUMMARY": [{"elapsed": r.elapsed_s, "rate_5s": rate, "rate_30m": rate, "rate_avg": rate,
                    "rate_ideal": miner.model.terahashes as f64 * 1000.0, "rate_unit": "GH/s", "hw_all": 0, "bestshare": 1_263_741_252u64,
                    "status": [ok("rate"), ok("network"), ok("fans"), ok("temp")]}]})
        }
        ("GET", "get_blink_status") => json!({"blink": miner.blinking()}),
        ("POST", "blink") => {
            let on = serde_json::from_slice::<Value>(&request.body)
                .ok()
                .is_some_and(|v| v["blink"] == "true" || v["blink"] == true);
            miner.set_blinking(on);
            json!({"code": if on { "B000" } else { "B100" }})
        }
        ("GET", "get_miner_conf") => {
            let mode = if miner.reading().sleeping { "1" } else { "0" };
            json!({"pools": [{"url": "stratum+tcp://btc.pool.example:3333", "user": "hcp.worker", "pass": "x"},
                    {"url": "", "user": "", "pass": ""}, {"url": "", "user": "", "pass": ""}],
                "api-listen": true, "api-network": true, "api-groups": "A:stats:pools:devs:summary:version",
                "api-allow": "A:0/0,W:*", "bitmain-fan-ctrl": false, "bitmain-fan-pwm": "100", "bitmain-use-vil": true,
                "bitmain-freq": "675", "bitmain-voltage": "1400", "bitmain-ccdelay": "0", "bitmain-pwth": "0",
                "bitmain-work-mode": mode, "bitmain-freq-level": "100"})
        }
        ("POST", "set_miner_conf") => {
            let conf: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let mode = conf.get("miner-mode").and_then(|m| m.as_u64().or_else(|| m.as_str()?.parse().ok()));
            if let Some(mode) = mode {
                miner.set_sleeping(mode == 1);
            }
            json!({"stats": "success", "code": "M000", "msg": "OK!"})
        }
        _ => return None,
    })
}

fn epoch() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_responses_as_clients_compute_them() {
        // RFC 2617-style vector for root/root in the Antminer realm (checked against httpx).
        let nonce = "b1b1652793d3109e9b29f0c3a111ffe5";
        let header = format!(
            "Digest username=\"root\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"/cgi-bin/stats.cgi\", \
             response=\"fc8cf11493b7c9c9285c54edf54df6b6\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"0a4f113b\""
        );
        let request = |authorization: Option<String>| HttpRequest {
            method: "GET".into(),
            path: "/cgi-bin/stats.cgi".into(),
            authorization,
            body: Vec::new(),
        };
        assert!(authorized(&request(Some(header.clone()))));
        assert!(!authorized(&request(Some(header.replace("fc8c", "0000")))), "a wrong response");
        assert!(!authorized(&request(None)));
        let no_qop = format!(
            "Digest username=\"root\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"/cgi-bin/stats.cgi\", \
             response=\"47aff9be3a6a125ab9e1a2b089364d4b\""
        );
        assert!(authorized(&request(Some(no_qop))));
    }
}
