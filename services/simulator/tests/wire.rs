//! The simulator on the wire: a real TCP client against real loopback listeners.

use hcp_minerapi::client::{self, ClientError};
use hcp_minerapi::{Request, StatsReport, SummaryReport, VersionReport};
use hcp_simulator::{Behaviour, Fleet, FleetSpec};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const T: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_like_a_miner_and_misbehaves_on_demand() {
    let fleet = Fleet::start(FleetSpec::uniform(1, 6, 201)).await.expect("fleet binds on 127.201/16");
    let addrs: Vec<_> = fleet.miners.iter().map(|m| m.addr).collect();

    // Raw bytes: JSON in, JSON plus a NUL out, then the miner closes.
    let mut raw = tokio::net::TcpStream::connect(addrs[0]).await.expect("connect");
    raw.write_all(br#"{"command":"summary"}"#).await.expect("write");
    let mut reply = Vec::new();
    raw.read_to_end(&mut reply).await.expect("read to close");
    assert_eq!(reply.last(), Some(&0), "cgminer terminates replies with NUL");
    assert!(reply.starts_with(br#"{"STATUS":[{"STATUS":"S""#), "{}", String::from_utf8_lossy(&reply));

    // Every dialect identifies itself and reports boards.
    for &addr in &addrs[..3] {
        let m = fleet.miner(addr).expect("miner");
        let req = Request::new(&format!("version+summary+{}", if m.model.fans == 2 { "devs" } else { "stats" }));
        let parts = client::query(addr, &req, T).await.expect("joined query");
        let v = VersionReport::from_reply(&parts[0]).expect("version");
        assert_eq!(v.model.as_deref(), Some(m.model.name));
        assert!(SummaryReport::from_reply(&parts[1]).expect("summary").hashrate_ths.expect("hashrate") > 90.0);
        assert_eq!(StatsReport::from_reply(&parts[2]).expect("boards").alive_boards(), 3);
    }

    // Malformed: strict JSON fails, the tolerant client reads it.
    fleet.miners[1].set_behaviour(Behaviour::Malformed);
    let bytes = client::exchange(addrs[1], &Request::new("summary"), T).await.expect("bytes");
    assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_err());
    client::query(addrs[1], &Request::new("summary"), T).await.expect("tolerated");

    // Hang: a deadline, not a stuck client.
    fleet.miners[2].set_behaviour(Behaviour::Hang);
    let hung = client::query(addrs[2], &Request::new("summary"), Duration::from_millis(300)).await;
    assert!(matches!(hung, Err(ClientError::Timeout { .. })), "{hung:?}");

    // Garbage: answered, but unusable.
    fleet.miners[3].set_behaviour(Behaviour::Garbage);
    let garbage = client::query(addrs[3], &Request::new("summary"), T).await;
    assert!(garbage.as_ref().is_err_and(ClientError::answered), "{garbage:?}");

    // Stopped: refused. Restarted: back, with a fresh process.
    fleet.stop(&fleet.miners[4]);
    assert!(matches!(client::query(addrs[4], &Request::new("summary"), T).await, Err(ClientError::Io { .. })));
    fleet.restart(&fleet.miners[4]).await.expect("rebind");
    let back = client::query(addrs[4], &Request::new("summary"), T).await.expect("back");
    assert!(SummaryReport::from_reply(&back[0]).expect("summary").elapsed_s.expect("elapsed") < 5);

    // Reboot: refused while down, then back by itself.
    fleet.reboot(&fleet.miners[5], Duration::from_millis(300));
    assert!(matches!(client::query(addrs[5], &Request::new("summary"), T).await, Err(ClientError::Io { .. })));
    tokio::time::sleep(Duration::from_millis(600)).await;
    client::query(addrs[5], &Request::new("summary"), T).await.expect("back after the reboot");
}
