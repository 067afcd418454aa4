//! Planning a site from a real inventory (resource events in a SQLite store) and real
//! prices, recording and explaining the plan.

use hcp_discovery::recorder::Recorder as ResourceRecorder;
use hcp_domain::catalogue::asic_model;
use hcp_domain::ids::{ResourceId, SiteId};
use hcp_domain::resource::{Mode, ResourceCommand, ResourceKind, ResourceSpec};
use hcp_domain::units::Timestamp;
use hcp_economics::series::{Date, PriceInterval, parse_btc_daily};
use hcp_eventstore::EventStore;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_optimization::fleet::Fleet;
use hcp_optimization::{Optimizer, PlanError, SitePolicy};
use hcp_pricing::{Recorder as PriceRecorder, SiteMarket};
use hcp_proto::v1 as pb;
use hcp_runtime::EventContext;
use std::sync::Arc;

const BTC: &str = include_str!("../../../data/bitcoin/btc_daily_2020-04_2024-12.csv");
const ERCOT: &str = include_str!("../../../data/ercot/hb_south_15min_2024-06_2024-12.csv");

async fn miner(rec: &ResourceRecorder<SqliteStore>, n: usize, model: &str) {
    let m = asic_model(model).expect("model");
    let id = ResourceId::new(format!("asic-10.0.0.{n}")).expect("id");
    let spec = ResourceSpec {
        site: SiteId::new("tx-south-1").expect("site"),
        rack: None,
        kind: ResourceKind::AsicMiner {
            model: m.name.into(),
            nominal_hashrate: m.nominal_hashrate(),
            nominal_power: m.nominal_power(),
        },
    };
    let at = Timestamp::from_unix_secs(1_735_000_000);
    rec.execute(&id, ResourceCommand::Register { id: id.clone(), spec, at }).await.expect("register");
    rec.execute(&id, ResourceCommand::SetMode { mode: Mode::Mining, at }).await.expect("mining");
}

/// Optimization's view of the fleet, folded from everything in the store.
async fn fleet(store: &SqliteStore) -> Arc<Fleet> {
    let fleet = Fleet::default();
    for e in store.read_all(0, usize::MAX).await.expect("read") {
        fleet.apply(&e).expect("applies");
    }
    Arc::new(fleet)
}

fn policy() -> SitePolicy {
    SitePolicy {
        site: "tx-south-1".into(),
        cap_kw: 100.0,
        min_dwell_micros: 3_600_000_000,
        hysteresis_usd_mwh: 5.0,
        max_wake_kw: 100.0,
        gpu_usd_per_hour: 2.0,
        switch_cost_usd: 0.05,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_are_events_with_explanations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let resources = ResourceRecorder::new(Arc::clone(&store), "test");
    for n in 0..3 {
        miner(&resources, n, "Antminer S21").await;
    }
    for n in 3..5 {
        miner(&resources, n, "Antminer S19j Pro").await;
    }
    let inv = fleet(&store).await;

    let market = SiteMarket { site: "tx-south-1".into(), settlement_point: "HB_SOUTH".into() };
    let prices = PriceRecorder::load(Arc::clone(&store), std::slice::from_ref(&market)).await.expect("prices");
    let days = parse_btc_daily("btc", BTC).expect("btc");
    prices.bitcoin(days.last().expect("day")).await.expect("bitcoin");
    // $100/MWh: between the S19j Pro's breakeven (~$76) and the S21's (~$127) at $53.50/PH/day.
    let interval =
        PriceInterval { date: Date { year: 2024, month: 12, day: 31 }, minute: 600, day_ahead: 40.0, real_time: 100.0 };
    prices.price(&market, &interval, "test").await.expect("price");

    let policy = policy();
    let optimizer =
        Optimizer::new(Arc::clone(&store), Arc::clone(&inv), Arc::clone(&prices.book), vec![policy.clone()]);
    let ctx = EventContext::new("test");
    let plan = optimizer.plan("tx-south-1", &ctx).await.expect("plan");
    assert_eq!(plan.changes.len(), 2, "both S19j Pros curtailed: {plan:#?}");
    assert!(
        plan.changes
            .iter()
            .all(|c| c.mode == pb::ResourceMode::Curtailed as i32 && c.resource_id.as_str() >= "asic-10.0.0.3")
    );
    let s19 = plan.groups.iter().find(|g| g.model == "Antminer S19j Pro").expect("group");
    assert!(s19.why.starts_with("0 of 2 mining") && s19.margin_usd_per_mwh < 0.0, "{}", s19.why);
    assert!(plan.summary.starts_with("3 of 5 devices running"), "{}", plan.summary);

    // Recorded, readable as JSON by its event type, and explainable from a fresh optimizer.
    let events = store.read_stream("plans-tx-south-1", 1, hcp_eventstore::Direction::Forwards, 10).await.expect("read");
    assert_eq!(events.len(), 2, "the plan, then what it wants of the devices");
    assert_eq!(events[1].event_type, "allocation.targeted");
    assert_eq!(events[0].metadata.correlation_id, Some(ctx.correlation_id), "the caller's trace");
    // Desired is not observed: the curtailed miners still show what they reported.
    assert_eq!(inv.resource("asic-10.0.0.3").expect("known").mode, Mode::Mining);
    let json = hcp_proto::descriptors::payload_to_json(&events[0].event_type, &events[0].payload).expect("renders");
    assert_eq!(json["planId"], plan.plan_id.as_str());
    let fresh = Optimizer::new(Arc::clone(&store), fleet(&store).await, prices.book, vec![policy]);
    assert_eq!(fresh.explain(&plan.plan_id).await.expect("explain"), plan);
    assert!(matches!(fresh.explain("nope").await, Err(PlanError::UnknownPlan(_))));
    assert!(matches!(fresh.plan("mars-1", &ctx).await, Err(PlanError::UnknownSite(_))));
    // A fresh optimizer's view holds the targets: the same change is not planned again.
    let again = fresh.plan("tx-south-1", &ctx).await.expect("plan");
    assert!(again.changes.is_empty(), "{again:#?}");

    // Plans for one site asked at once (the live loop and an operator's `hcp plan`) take
    // turns: both land, one after the other, instead of one failing on the plan stream.
    let site = "tx-south-1";
    let plans = tokio::join!(optimizer.plan(site, &ctx), optimizer.plan(site, &ctx), optimizer.plan(site, &ctx));
    assert!(plans.0.is_ok() && plans.1.is_ok() && plans.2.is_ok(), "{plans:?}");
    let events = store.read_stream("plans-tx-south-1", 1, hcp_eventstore::Direction::Forwards, 10).await.expect("read");
    assert_eq!(events.len(), 2 + 1 + 3, "no changes after the first plan, so no more targets");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_weigh_the_forecast_over_the_horizon() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let resources = ResourceRecorder::new(Arc::clone(&store), "test");
    miner(&resources, 1, "Antminer S21").await;
    let inv = fleet(&store).await;

    let market = SiteMarket { site: "tx-south-1".into(), settlement_point: "HB_SOUTH".into() };
    let prices = PriceRecorder::load(Arc::clone(&store), std::slice::from_ref(&market)).await.expect("prices");
    prices.bitcoin(parse_btc_daily("btc", BTC).expect("btc").last().expect("day")).await.expect("bitcoin");
    // Three real days: a history to learn the spread from, and the next day's day-ahead prices.
    let real = hcp_economics::series::parse_ercot("ercot", ERCOT).expect("ercot");
    for day in real[..96 * 3].chunk_by(|a, b| a.date == b.date) {
        prices.day_ahead(&market, day).await.expect("day-ahead");
    }
    for p in &real[..96 * 2 + 40] {
        prices.price(&market, p, "test").await.expect("price");
    }
    let policy = policy();
    let optimizer = Optimizer::new(Arc::clone(&store), inv, Arc::clone(&prices.book), vec![policy]);
    let plan = optimizer.plan("tx-south-1", &EventContext::new("test")).await.expect("plan");
    assert!(plan.price_basis.contains("over the next 16 intervals"), "{}", plan.price_basis);
    assert_eq!(plan.forecast_usd_mwh.len(), 16, "{plan:#?}");
    assert_eq!(plan.forecast_usd_mwh[0], plan.price_usd_mwh, "the interval planned: the last real-time price");
    let group = &plan.groups[0];
    assert!(group.lookahead_usd_per_mwh.is_finite(), "{group:#?}");
    assert!(group.why.contains("over the next 16 intervals (4-interval dwell, $0.05 a switch)"), "{}", group.why);
    assert!(plan.dwell_price_usd_mwh.is_finite() && plan.dwell_price_usd_mwh != plan.price_usd_mwh, "{plan:#?}");
    let next_da: Vec<f64> = real[96 * 2 + 40..96 * 2 + 44].iter().map(|p| p.day_ahead).collect();
    let (lo, hi) =
        next_da.iter().chain([&plan.price_usd_mwh]).fold((f64::MAX, f64::MIN), |(l, h), &x| (l.min(x), h.max(x)));
    assert!(
        plan.dwell_price_usd_mwh > lo - 20.0 && plan.dwell_price_usd_mwh < hi + 20.0,
        "between now and day-ahead: {plan:#?}"
    );
}
