//! Pricing against a real SQLite store, a real local HTTP server and a real gRPC server.

use hcp_economics::series::{parse_btc_daily, parse_ercot};
use hcp_eventstore::EventStore;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_pricing::grpc::PricingService;
use hcp_pricing::recorder::prices_stream;
use hcp_pricing::source::http::{HttpPoller, PollError};
use hcp_pricing::source::replay::Replay;
use hcp_pricing::{Recorder, SiteMarket};
use hcp_proto::v1 as pb;
use hcp_proto::v1::pricing_client::PricingClient;
use hcp_proto::v1::pricing_server::PricingServer;
use hcp_runtime::grpc::{GrpcListener, GrpcServices};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ERCOT: &str = include_str!("../../../data/ercot/hb_south_15min_2024-06_2024-12.csv");
const BTC: &str = include_str!("../../../data/bitcoin/btc_daily_2020-04_2024-12.csv");

fn market() -> SiteMarket {
    SiteMarket { site: "tx-south-1".into(), settlement_point: "HB_SOUTH".into() }
}

async fn store() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    (dir, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_records_the_real_series_as_events_once() {
    let (_dir, store) = store().await;
    let intervals: Vec<_> = parse_ercot("ercot", ERCOT).expect("ercot").into_iter().take(96 * 3).collect();
    let days = parse_btc_daily("btc", BTC).expect("btc");
    let recorder = Recorder::load(Arc::clone(&store), &[market()]).await.expect("load");
    // Three days at 3 days per real second.
    let replay = Replay {
        market: market(),
        intervals: intervals.clone(),
        days,
        speed: 259_200.0,
        skip: 0,
        source: "replay".into(),
    };
    tokio::time::timeout(Duration::from_secs(10), replay.clone().run(&recorder))
        .await
        .expect("in time")
        .expect("replayed");
    let events = store
        .read_stream(&prices_stream("tx-south-1"), 1, hcp_eventstore::Direction::Forwards, 1000)
        .await
        .expect("read");
    assert_eq!(events.len(), 96 * 3);
    assert_eq!(events[0].event_type, "price.observed");
    let last = recorder.book.quote("tx-south-1").expect("quote");
    assert_eq!(last.real_time_usd_mwh, intervals[96 * 3 - 1].real_time);
    let start = hcp_pricing::clock::interval_start_micros(&intervals[200]);
    assert_eq!(recorder.book.day_ahead("tx-south-1", start), Some(intervals[200].day_ahead), "day-ahead published");
    assert_eq!(recorder.book.last_day_ahead_day("tx-south-1").as_deref(), Some("2024-06-03"));
    let hp = recorder.book.hashprice().expect("a Bitcoin day has ended");
    assert!(hp.usd_per_ph_day > 30.0 && hp.usd_per_ph_day < 80.0, "{hp:?}");

    // A restarted pricing service rebuilds its book and records nothing twice.
    let again = Recorder::load(Arc::clone(&store), &[market()]).await.expect("reload");
    assert_eq!(again.book.quote("tx-south-1").expect("quote"), last);
    assert_eq!(again.book.day_ahead("tx-south-1", start), Some(intervals[200].day_ahead), "rebuilt from events");
    tokio::time::timeout(Duration::from_secs(10), replay.run(&again)).await.expect("in time").expect("replayed");
    let events = store
        .read_stream(&prices_stream("tx-south-1"), 1, hcp_eventstore::Direction::Forwards, 1000)
        .await
        .expect("read");
    assert_eq!(events.len(), 96 * 3, "idempotent");
}

/// A tiny HTTP/1.1 server: answers every request with `status` and `body`, then closes.
async fn http_server(status: &'static str, body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/prices.csv")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_poller_records_new_intervals_and_names_failures() {
    let (_dir, store) = store().await;
    let recorder = Recorder::load(Arc::clone(&store), &[market()]).await.expect("load");
    let body: String = ERCOT.lines().take(1 + 8).map(|l| format!("{l}\n")).collect();
    let poller = |url: String| HttpPoller { market: market(), url, timeout: Duration::from_secs(2) };
    let ok = poller(http_server("200 OK", body).await);
    assert_eq!(ok.poll_once(&recorder).await.expect("polled"), 8);
    assert_eq!(ok.poll_once(&recorder).await.expect("polled"), 0, "nothing new");

    let missing = poller(http_server("404 Not Found", String::new()).await);
    assert!(matches!(missing.poll_once(&recorder).await, Err(PollError::Status { status: 404, .. })));
    let garbage = poller(http_server("200 OK", "interval_start,x,y\nyesterday,1,2\n".into()).await);
    let err = garbage.poll_once(&recorder).await.expect_err("bad body");
    assert!(err.to_string().contains("line 2"), "{err}");
    let nowhere = poller("http://127.0.0.1:1/prices.csv".into());
    assert!(matches!(nowhere.poll_once(&recorder).await, Err(PollError::Fetch { .. })));
    assert!(matches!(poller("ftp://x/y".into()).poll_once(&recorder).await, Err(PollError::BadUrl { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_quotes_history_hashprice_and_clear_errors() {
    let (_dir, store) = store().await;
    let recorder = Recorder::load(Arc::clone(&store), &[market()]).await.expect("load");
    let intervals = parse_ercot("ercot", ERCOT).expect("ercot");
    for p in &intervals[..200] {
        recorder.price(&market(), p, "replay").await.expect("record");
    }
    let days = parse_btc_daily("btc", BTC).expect("btc");
    recorder.bitcoin(days.last().expect("day")).await.expect("record");

    let listener = GrpcListener::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
    let addr = listener.local_addr();
    let mut services = GrpcServices::default();
    services.add(PricingServer::new(PricingService(Arc::clone(&recorder.book))));
    tokio::spawn(listener.serve("test", services, hcp_runtime::Metrics::new(), std::future::pending()));
    let channel = hcp_proto::client::connect(&format!("http://{addr}")).await.expect("connect");
    let mut client = PricingClient::new(channel);

    let q = client.get_quote(pb::GetQuoteRequest { site: "tx-south-1".into() }).await.expect("quote").into_inner();
    assert_eq!(q.real_time_usd_mwh, intervals[199].real_time);
    let from = hcp_pricing::clock::interval_start_micros(&intervals[10]);
    let to = hcp_pricing::clock::interval_start_micros(&intervals[20]);
    let h = client
        .get_history(pb::GetHistoryRequest { site: "tx-south-1".into(), from_unix_micros: from, to_unix_micros: to })
        .await
        .expect("history")
        .into_inner();
    assert_eq!(h.quotes.len(), 10);
    let hp = client.get_hashprice(pb::GetHashpriceRequest {}).await.expect("hashprice").into_inner();
    // $53.50 from the subsidy alone; the day's fees per block add their share.
    assert!(hp.fees_btc_per_block > 0.0, "the shipped series has the day's fees: {hp:?}");
    let with_fees = 53.50 * (hp.subsidy_btc + hp.fees_btc_per_block) / hp.subsidy_btc;
    assert!((hp.usd_per_ph_day - with_fees).abs() < 0.01, "{hp:?}");

    let unknown = client.get_quote(pb::GetQuoteRequest { site: "mars-1".into() }).await.expect_err("unknown");
    assert_eq!((unknown.code(), unknown.message()), (tonic::Code::NotFound, "unknown site \"mars-1\""));
    let empty = client
        .get_history(pb::GetHistoryRequest { site: "tx-south-1".into(), from_unix_micros: to, to_unix_micros: from })
        .await
        .expect_err("empty");
    assert_eq!(empty.code(), tonic::Code::InvalidArgument);
    assert!(empty.message().contains("empty range"));
    let bad = client
        .get_history(pb::GetHistoryRequest { site: "tx-south-1".into(), from_unix_micros: -5, to_unix_micros: to })
        .await
        .expect_err("bad");
    assert!(bad.message().contains("timestamp -5 is out of range"), "{}", bad.message());
}
