//! The ledger on a real SQLite store, at instants the test chooses (hourly periods, no
//! grace): invoices per period with lines rounded to cents, issued once however often
//! they are looked for; usage that arrives after its period was invoiced billed as an
//! adjustment on the next invoice; what was invoiced equals the usage recorded; a preview
//! counts the spans still open; estimates at the tiers reached; budgets alert once at
//! each threshold; a workload running across periods is invoiced in each as it runs;
//! corrections are amendments, credited on the next invoice (an operator's, and the
//! recorder's own when a workload's end comes after its piece was invoiced); and a tenant
//! that cannot be invoiced holds up no other.

mod common;

use hcp_domain::ids::WorkloadId;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::WorkloadEvent as E;
use hcp_eventstore::EventStore;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_metering::Ledger;
use hcp_metering::shape::Shape;
use hcp_metering::view::Folder;
use hcp_proto::v1 as pb;
use hcp_runtime::config::MeteringConfig;
use hcp_runtime::host::ReactorWatch;
use hcp_runtime::{Durability, EventContext, Host, Metrics};
use std::sync::Arc;
use std::time::Duration;

const A: &str = "0190a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a01";
const B: &str = "0190a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a02";
const C: &str = "0190a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a03";

/// Minutes after 2026-11-02T00:00:00Z.
fn m(minutes: i64) -> Timestamp {
    Timestamp::from_unix_secs(1_793_577_600 + minutes * 60)
}

fn ran(id: &str, gpus: u32, from: i64, to: Option<i64>) -> Vec<E> {
    let mut events = vec![
        E::Submitted { id: WorkloadId::parse(id).expect("id"), spec: common::spec("acme", gpus), at: m(from) },
        E::Queued { attempt: 1, at: m(from) },
        E::Started { endpoint: None, at: m(from) },
    ];
    if let Some(to) = to {
        events.push(E::Completed { at: m(to) });
    }
    events
}

fn shape(model: &str, gpus: u32, hours: f64) -> Shape {
    Shape { model: model.into(), gpus, hours }
}

/// Metering's reactors caught up with everything in `store`, what they append included.
async fn settle(host: &Host<SqliteStore>, watches: &[ReactorWatch]) {
    loop {
        let head = host.store.head().await.expect("head");
        for w in watches {
            tokio::time::timeout(Duration::from_secs(10), w.caught_up(head)).await.expect("caught up in time");
        }
        if host.store.head().await.expect("head") == head {
            return;
        }
    }
}

/// The invoices due at `at`, every tenant's issued.
async fn issue(ledger: &Ledger<SqliteStore>, at: Timestamp) -> Vec<pb::Invoice> {
    let round = ledger.issue_due(at).await.expect("issue");
    assert!(round.failed.is_empty(), "{:?}", round.failed);
    round.issued
}

fn amounts(invoice: &pb::Invoice) -> Vec<(&str, i64, i64)> {
    invoice.lines.iter().map(|l| (l.kind.as_str(), l.gpu_micros / 1_000_000, l.amount_usd_micros)).collect()
}

/// Metering's view, ledger and recorder on `store` (hourly periods, no grace), and the
/// reactors' watches.
fn metering(store: &Arc<SqliteStore>) -> (Arc<Host<SqliteStore>>, Ledger<SqliteStore>, [ReactorWatch; 2]) {
    let host = Host::new(Arc::clone(store), Metrics::new(), "test");
    let config = MeteringConfig { period: "hour".into(), invoice_grace_seconds: 0.0, ..Default::default() };
    let view = Arc::new(Ledger::<SqliteStore>::view(&config).expect("view"));
    let folder = host.reactor("metering", Arc::new(Folder(Arc::clone(&view))), Durability::InMemory);
    let ledger = Ledger::new(Arc::clone(store), config, view, folder.clone()).expect("ledger");
    let recorder = hcp_metering::start::recorder(&host, ledger.cadence());
    ledger.follow(recorder.clone());
    (host, ledger, [folder, recorder])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoices_adjustments_previews_estimates_and_budgets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let (host, ledger, watches) = metering(&store);

    // A: 4 GPUs from 00:10 to 01:10, across two hourly periods.
    common::append(store.as_ref(), A, 0, &ran(A, 4, 10, Some(70))).await;
    settle(&host, &watches).await;
    let issued = issue(&ledger, m(120)).await;
    assert_eq!(issued.len(), 2, "00:00 and 01:00 are due at 02:00");
    // 50 min x 4 GPUs = 3.3333 GPU-h at $2.50 = $8.333333, billed $8.33; then 40 GPU-min, $1.67.
    assert_eq!(amounts(&issued[0]), [("usage", 12_000, 8_330_000)], "{issued:?}");
    assert_eq!(amounts(&issued[1]), [("usage", 2_400, 1_670_000)]);
    assert_eq!(issued[0].id, "acme-2026-11-02T00");
    assert!(issue(&ledger, m(120)).await.is_empty(), "each period is invoiced once");

    // B arrives late: 2 GPUs from 00:20 to 00:30, recorded after 00:00 was invoiced. It is
    // billed on the next invoice as an adjustment to 00:00, not by editing that invoice.
    common::append(store.as_ref(), B, 0, &ran(B, 2, 20, Some(30))).await;
    settle(&host, &watches).await;
    assert!(issue(&ledger, m(120)).await.is_empty(), "02:00 has not ended");
    let late = issue(&ledger, m(180)).await;
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].id, "acme-2026-11-02T02");
    assert_eq!(amounts(&late[0]), [("adjustment", 1_200, 830_000)], "{:?}", late[0].lines);
    assert_eq!(late[0].total_usd_micros, 830_000);

    // The books equal a recomputation from the log: every recorded GPU-second invoiced once.
    let invoices = ledger.invoices("acme").await.expect("invoices");
    let invoiced: i64 = invoices.iter().flat_map(|i| &i.lines).map(|l| l.gpu_micros).sum();
    let recorded: i64 = ledger.usage("acme").await.expect("usage").records.iter().map(|(_, r)| r.gpu_micros).sum();
    assert_eq!((invoiced, recorded), (4 * 3600 * 1_000_000 + 1_200_000_000, invoiced));

    // C runs on 1 GPU from 03:00, still open: the preview counts it up to now.
    common::append(store.as_ref(), C, 0, &ran(C, 1, 180, None)).await;
    settle(&host, &watches).await;
    let preview = ledger.preview("acme", m(210)).await.expect("preview");
    assert_eq!(amounts(&preview), [("usage", 1_800, 1_250_000)]);
    assert!(issue(&ledger, m(210)).await.is_empty());

    // Estimates: 2 GPUs for 1.5 h at the default card; then at a tiered card of its own
    // (the first GPU-hour of a period at $2, the rest at $1), with 0.5 GPU-h used so far.
    let estimate = ledger.estimate("acme", &shape("H100", 2, 1.5), m(210)).await.expect("estimate");
    assert_eq!((estimate.gpu_model.as_str(), estimate.total_usd_micros), ("h100-sxm-80gb", 7_500_000));
    let tiered = pb::RateCard {
        prices: vec![pb::ModelPrice {
            model: "H100".into(),
            tiers: vec![
                pb::PriceTier { up_to_gpu_hours: 1, usd_micros_per_gpu_hour: 2_000_000 },
                pb::PriceTier { up_to_gpu_hours: 0, usd_micros_per_gpu_hour: 1_000_000 },
            ],
        }],
        commitment_discount_bps: 0,
        tax_bps: 1000,
    };
    let context = EventContext::new("operator:test").with_tenant("acme");
    hcp_metering::ratecards::set(store.as_ref(), "acme", &tiered, &context).await.expect("card");
    let estimate = ledger.estimate("acme", &shape("h100", 1, 1.0), m(210)).await.expect("estimate");
    assert_eq!((estimate.subtotal_usd_micros, estimate.tax_usd_micros), (1_500_000, 150_000));
    let refused = ledger.estimate("acme", &shape("h100", 0, 1.0), m(210)).await.expect_err("no GPUs");
    assert!(refused.to_string().starts_with("gpus:"), "{refused}");

    // Budgets: $2 a period. At 03:30 the preview is 0.5 GPU-h at $2 + 10% = $1.10: 50%.
    ledger.set_budget("acme", 2_000_000, &context).await.expect("budget");
    let crossed = ledger.check_budgets(m(210)).await.expect("check");
    assert_eq!(crossed.iter().map(|(_, c)| c.percent).collect::<Vec<_>>(), [50]);
    // At 03:55, 55 GPU-min: $1.8333 + tax $0.18 = $2.02: 80 and 100, once.
    let crossed = ledger.check_budgets(m(235)).await.expect("check");
    assert_eq!(crossed.iter().map(|(_, c)| c.percent).collect::<Vec<_>>(), [80, 100]);
    assert!(ledger.check_budgets(m(236)).await.expect("check").is_empty(), "each threshold alerts once a period");
    let view = ledger.budget("acme", m(236)).await.expect("view");
    assert_eq!(view.crossed, [50, 80, 100]);

    // C runs on across periods: each is invoiced once it is due, with C's piece in it
    // (1 GPU-h at the card's $2 + 10%), not only once C ends.
    let issued = issue(&ledger, m(300)).await;
    let ids: Vec<&str> = issued.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["acme-2026-11-02T03", "acme-2026-11-02T04"]);
    for i in &issued {
        assert_eq!(
            (amounts(i), i.total_usd_micros),
            (vec![("usage", 3_600, 2_000_000), ("tax", 0, 200_000)], 2_200_000)
        );
    }
    // The preview counts C from 05:00 only; nothing more is due.
    let preview = ledger.preview("acme", m(330)).await.expect("preview");
    assert_eq!(amounts(&preview), [("usage", 1_800, 1_000_000), ("tax", 0, 100_000)]);
    assert!(issue(&ledger, m(330)).await.is_empty());
    // C ends at 05:40: its last 40 minutes are recorded, its earlier pieces not again.
    common::append(store.as_ref(), C, 3, &[E::Completed { at: m(340) }]).await;
    settle(&host, &watches).await;
    let records = ledger.usage("acme").await.expect("usage").records;
    let c: Vec<(i64, &str)> = records
        .iter()
        .filter(|(_, r)| r.workload_id == C)
        .map(|(_, r)| (r.gpu_micros / 60_000_000, r.closed_by.as_str()))
        .collect();
    assert_eq!(c, [(60, "period.ended"), (60, "period.ended"), (40, "workload.completed")]);
    let last = issue(&ledger, m(360)).await;
    assert_eq!(last.iter().map(amounts).collect::<Vec<_>>(), [[("usage", 2_400, 1_330_000), ("tax", 0, 130_000)]]);
    let invoiced: i64 =
        ledger.invoices("acme").await.expect("invoices").iter().flat_map(|i| &i.lines).map(|l| l.gpu_micros).sum();
    let recorded: i64 = records.iter().map(|(_, r)| r.gpu_micros).sum();
    assert_eq!((invoiced, recorded), (recorded, 4 * 3600 * 1_000_000 + 1_200_000_000 + 160 * 60_000_000));

    // An operator corrects C's 03:00 piece, invoiced already, to end at 03:30 (a faulty
    // GPU): an amendment, not an edit; a reason is required, and a change.
    let c03 = ledger.usage_records("acme", C, 0)[0].clone();
    let amend = |to: Option<i64>, reason: &str| pb::AmendUsageRequest {
        tenant: "acme".into(),
        record_id: c03.id.clone(),
        to_unix_micros: to,
        reason: reason.into(),
        ..Default::default()
    };
    let operator = EventContext::new("operator:ops");
    let refused = ledger.amend(&amend(Some(m(210).unix_micros()), " "), &operator).await.expect_err("no reason");
    assert!(refused.to_string().starts_with("reason:"), "{refused}");
    let refused = ledger.amend(&amend(None, "why"), &operator).await.expect_err("no change");
    assert!(refused.to_string().contains("changes nothing"), "{refused}");
    let unknown = pb::AmendUsageRequest { record_id: uuid::Uuid::now_v7().to_string(), ..amend(Some(0), "x") };
    let refused = ledger.amend(&unknown, &operator).await.expect_err("unknown");
    assert!(refused.to_string().starts_with("record_id:"), "{refused}");
    let amended = ledger.amend(&amend(Some(m(210).unix_micros()), "GPU 3 faulty"), &operator).await.expect("amend");
    let record = amended.record.expect("record");
    assert_eq!((amended.amendments, record.gpu_micros / 60_000_000, amended.id), (1, 30, c03.id.clone()));

    // D runs from 06:00 and is invoiced with 07:00's invoice, beside the credit of C's 30
    // minutes (taken back from the tier 03:00 had reached): $2 - $1 + 10%.
    let d = "0190a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a04";
    common::append(store.as_ref(), d, 0, &ran(d, 1, 360, None)).await;
    settle(&host, &watches).await;
    let issued = issue(&ledger, m(430)).await;
    assert_eq!(issued.len(), 1);
    let credit = ("adjustment", -1_800, -1_000_000);
    assert_eq!(amounts(&issued[0]), [("usage", 3_600, 2_000_000), credit, ("tax", 0, 100_000)]);
    assert_eq!(issued[0].total_usd_micros, 1_100_000);
    // D's end comes now, timed 06:45, before the 07:00 its piece was invoiced through (a
    // clock behind by more than the grace): the piece is amended, the 15 minutes credited.
    common::append(store.as_ref(), d, 3, &[E::Completed { at: m(405) }]).await;
    settle(&host, &watches).await;
    let records = ledger.usage_records("acme", d, 0);
    assert_eq!(records.len(), 1, "{records:?}");
    let r = records[0].record.clone().expect("record");
    assert_eq!((records[0].amendments, r.gpu_micros / 60_000_000, r.closed_by.as_str()), (1, 45, "workload.completed"));
    let issued = issue(&ledger, m(490)).await;
    assert_eq!(issued.iter().map(amounts).collect::<Vec<_>>(), [[("adjustment", -900, -500_000), ("tax", 0, -50_000)]]);

    // E runs from 08:00 and is invoiced for 08:00 and 09:00; an operator finds it held two
    // GPUs in 08:00 (a correction stays in its record's period). Its end, timed 08:30,
    // comes after both: the first piece is amended, as it stands (two GPUs), to 30
    // minutes, the second to nothing.
    let e = "0190a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a05";
    common::append(store.as_ref(), e, 0, &ran(e, 1, 480, None)).await;
    settle(&host, &watches).await;
    assert_eq!(issue(&ledger, m(610)).await.len(), 2);
    let e08 = ledger.usage_records("acme", e, 0)[0].id.clone();
    let two = |to: Option<i64>| pb::AmendUsageRequest {
        tenant: "acme".into(),
        record_id: e08.clone(),
        to_unix_micros: to,
        gpus: Some(2),
        reason: "held two GPUs".into(),
        ..Default::default()
    };
    let refused = ledger.amend(&two(Some(m(700).unix_micros())), &operator).await.expect_err("past its period");
    assert!(refused.to_string().starts_with("to_unix_micros:"), "{refused}");
    ledger.amend(&two(None), &operator).await.expect("amend");
    common::append(store.as_ref(), e, 3, &[E::Completed { at: m(510) }]).await;
    settle(&host, &watches).await;
    let minutes: Vec<(i64, u32)> = ledger
        .usage_records("acme", e, 0)
        .iter()
        .map(|v| (v.record.as_ref().map_or(-1, |r| r.gpu_micros / 60_000_000), v.amendments))
        .collect();
    assert_eq!(minutes, [(60, 2), (0, 1)]);
    // 08:00 stands where it was invoiced (60 GPU-minutes); 09:00's hour is credited.
    let issued = issue(&ledger, m(670)).await;
    let credits = [("adjustment", -3_600, -2_000_000), ("tax", 0, -200_000)];
    assert_eq!(issued.iter().map(amounts).collect::<Vec<_>>(), [credits]);

    // The books still equal the records as they stand.
    let invoices = ledger.invoices("acme").await.expect("invoices");
    let invoiced: i64 = invoices.iter().flat_map(|i| &i.lines).map(|l| l.gpu_micros).sum();
    let recorded: i64 = ledger.usage("acme").await.expect("usage").records.iter().map(|(_, r)| r.gpu_micros).sum();
    assert_eq!((invoiced, recorded), (recorded, 4 * 3600 * 1_000_000 + 1_200_000_000 + 235 * 60_000_000));
    // Usage by workload over 00:00's hour (A's 50 minutes on 4 GPUs, B's 10 on 2), and by
    // period over the day; an unknown grouping is refused, naming it.
    let by = |group: &[&str], to: i64| pb::UsageRequest {
        tenant: "acme".into(),
        from_unix_micros: m(0).unix_micros(),
        to_unix_micros: m(to).unix_micros(),
        group_by: group.iter().map(|g| (*g).to_owned()).collect(),
    };
    let rows = ledger.usage_rows(&by(&["workload"], 60)).await.expect("usage");
    let minutes: Vec<(String, i64)> =
        rows.rows.iter().map(|r| (r.group["workload"].clone(), r.gpu_micros / 60_000_000)).collect();
    assert_eq!(minutes, [(A.to_owned(), 200), (B.to_owned(), 20)]);
    let rows = ledger.usage_rows(&by(&["period"], 24 * 60)).await.expect("usage");
    assert_eq!(rows.gpu_micros, recorded, "every record is in the day");
    assert_eq!(rows.rows.first().map(|r| r.group["period"].as_str()), Some("2026-11-02T00"));
    let refused = ledger.usage_rows(&by(&["colour"], 60)).await.expect_err("unknown grouping");
    assert!(refused.to_string().starts_with("group_by:"), "{refused}");

    // Margins: 00:00's 220 GPU-minutes (A's 200, B's 20) are charged $2 + $2.67 at the card
    // now; the half hour to 00:30 holds 100 of them, worth that share, not their price
    // from the first tier ($2.67).
    let window = pb::SiteMarginsRequest {
        site: String::new(),
        from_unix_micros: m(0).unix_micros(),
        to_unix_micros: m(30).unix_micros(),
    };
    let margins = ledger.site_margins(&window, m(700)).await.expect("margins");
    let ai: i64 = margins.sites.iter().map(|s| s.ai_usd_micros).sum();
    assert_eq!(ai, 4_670_000 * 100 / 220, "{margins:?}");
    // F runs from 12:00 on 3 GPUs: at 12:40 nothing of it is recorded, yet the margins up
    // to now count its 120 GPU-minutes, worth what the preview charges for them.
    let f = "0190a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a06";
    common::append(store.as_ref(), f, 0, &ran(f, 3, 720, None)).await;
    settle(&host, &watches).await;
    assert!(ledger.usage_records("acme", f, 0).is_empty());
    let since = pb::SiteMarginsRequest { from_unix_micros: m(720).unix_micros(), ..Default::default() };
    let margins = ledger.site_margins(&since, m(760)).await.expect("margins");
    let preview = ledger.preview("acme", m(760)).await.expect("preview");
    let charged: i64 = preview.lines.iter().filter(|l| l.kind == "usage").map(|l| l.amount_usd_micros).sum();
    let hours: f64 = margins.sites.iter().map(|s| s.ai_gpu_hours).sum();
    let ai: i64 = margins.sites.iter().map(|s| s.ai_usd_micros).sum();
    assert!((hours - 2.0).abs() < 1e-9 && ai == charged && ai > 0, "{margins:?} beside {preview:?}");
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}

/// Each tenant is invoiced on its own: one whose rate card has no price for the GPUs it
/// used is named among the failed, with why, and another's invoice is issued all the
/// same; once its card prices them, the next round invoices it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_that_cannot_be_invoiced_holds_up_no_other() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let (host, ledger, watches) = metering(&store);
    let a100_only = pb::RateCard { prices: vec![price("A100", 1_000_000)], ..Default::default() };
    let context = EventContext::new("operator:test").with_tenant("bravo");
    hcp_metering::ratecards::set(store.as_ref(), "bravo", &a100_only, &context).await.expect("card");
    // Three tenants each run an H100 from 00:00 to 00:30; bravo's card cannot price it.
    for (id, tenant) in [(A, "acme"), (B, "bravo"), (C, "zulu")] {
        let events = [
            E::Submitted { id: WorkloadId::parse(id).expect("id"), spec: common::spec(tenant, 1), at: m(0) },
            E::Queued { attempt: 1, at: m(0) },
            E::Started { endpoint: None, at: m(0) },
            E::Completed { at: m(30) },
        ];
        common::append(store.as_ref(), id, 0, &events).await;
    }
    settle(&host, &watches).await;
    let round = ledger.issue_due(m(60)).await.expect("a round");
    let issued: Vec<&str> = round.issued.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(issued, ["acme-2026-11-02T00", "zulu-2026-11-02T00"]);
    let failed: Vec<(&str, String)> = round.failed.iter().map(|(t, e)| (t.as_str(), e.to_string())).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "bravo");
    assert!(failed[0].1.contains("h100") && failed[0].1.contains("no price"), "{failed:?}");
    // The card mended, the next round invoices bravo, and only bravo.
    let card = pb::RateCard { prices: vec![price("H100", 3_000_000)], ..a100_only };
    hcp_metering::ratecards::set(store.as_ref(), "bravo", &card, &context).await.expect("card");
    let issued = issue(&ledger, m(61)).await;
    assert_eq!(
        issued.iter().map(|i| (i.id.as_str(), i.total_usd_micros)).collect::<Vec<_>>(),
        [("bravo-2026-11-02T00", 1_500_000)]
    );
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}

/// One flat price per GPU-hour for `model`.
fn price(model: &str, usd_micros_per_gpu_hour: i64) -> pb::ModelPrice {
    pb::ModelPrice { model: model.into(), tiers: vec![pb::PriceTier { up_to_gpu_hours: 0, usd_micros_per_gpu_hour }] }
}
