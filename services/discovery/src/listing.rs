//! Listing the inventory a page at a time: search over a device's names, ordering by any
//! column a console sorts by, and page tokens. In id order (the default) a token is the last
//! id sent, so pages stay right while devices come and go; in any other order it is the
//! offset of the next page (`@<n>`), as the order itself moves with every reading.

use crate::inventory::Entry;
use hcp_domain::codec::{health_to_pb, mode_to_pb};
use hcp_proto::v1 as pb;
use std::cmp::Ordering;

/// The largest page served.
pub const MAX_PAGE: usize = 1000;
/// The page served when none is asked for.
pub const DEFAULT_PAGE: usize = 100;

/// A list request that cannot be answered: what in it is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ListError(pub String);

/// Whether a device's id, model, address, rack, firmware or workload contains `query`
/// (lowercase).
pub fn matches(query: &str, id: &str, e: &Entry) -> bool {
    let r = &e.resource;
    let spec = r.spec.as_ref();
    let has = |s: &str| s.to_lowercase().contains(query);
    has(id)
        || has(&e.address)
        || spec.is_some_and(|s| {
            has(s.kind.model())
                || s.rack.as_ref().is_some_and(|r| has(r.as_str()))
                || matches!(&s.kind, hcp_domain::resource::ResourceKind::Gpu { host, .. } if has(host))
        })
        || e.telemetry.as_ref().is_some_and(|t| has(&t.firmware))
        || r.assignment.is_some_and(|w| has(&w.to_string()))
}

/// What a device draws now, watts: its latest reading, unless it is offline (a powered-off
/// or unreachable device's last reading is not a draw).
pub fn drawing(e: &Entry) -> f64 {
    if e.resource.health == hcp_domain::resource::Health::Offline {
        return 0.0;
    }
    e.telemetry.as_ref().map_or(0.0, |t| t.power_w)
}

/// A column to order by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Id,
    Model,
    Site,
    Mode,
    Health,
    Hashrate,
    Power,
    Temperature,
}

fn column(name: &str) -> Result<Column, ListError> {
    Ok(match name {
        "" | "id" => Column::Id,
        "model" => Column::Model,
        "site" => Column::Site,
        "mode" => Column::Mode,
        "health" => Column::Health,
        "hashrate" => Column::Hashrate,
        "power" => Column::Power,
        "temperature" => Column::Temperature,
        other => {
            return Err(ListError(format!(
                "order_by: {other:?} is not a column (id, model, site, mode, health, hashrate, power, temperature; \
                 `-` before it for descending)"
            )));
        }
    })
}

fn reading(e: &Entry, pick: fn(&pb::Telemetry) -> f64) -> f64 {
    e.telemetry.as_ref().map_or(f64::NEG_INFINITY, pick)
}

fn spec(e: &Entry) -> Option<&hcp_domain::resource::ResourceSpec> {
    e.resource.spec.as_ref()
}

/// `a` against `b` by column `c` (reversed when `descending`), ties by id, ascending.
fn compare(c: Column, descending: bool, (a_id, a): (&String, &Entry), (b_id, b): (&String, &Entry)) -> Ordering {
    let by = match c {
        Column::Id => a_id.cmp(b_id),
        Column::Model => spec(a).map(|s| s.kind.model()).cmp(&spec(b).map(|s| s.kind.model())),
        Column::Site => spec(a).map(|s| s.site.as_str()).cmp(&spec(b).map(|s| s.site.as_str())),
        Column::Mode => (mode_to_pb(a.resource.mode) as i32).cmp(&(mode_to_pb(b.resource.mode) as i32)),
        Column::Health => (health_to_pb(a.resource.health) as i32).cmp(&(health_to_pb(b.resource.health) as i32)),
        Column::Hashrate => reading(a, |t| t.hashrate_ths).total_cmp(&reading(b, |t| t.hashrate_ths)),
        Column::Power => reading(a, |t| t.power_w).total_cmp(&reading(b, |t| t.power_w)),
        Column::Temperature => reading(a, |t| t.max_temp_c).total_cmp(&reading(b, |t| t.max_temp_c)),
    };
    let by = if descending { by.reverse() } else { by };
    by.then_with(|| a_id.cmp(b_id))
}

/// The page of `matching` (in id order) that `req` asks for.
pub fn page(
    mut matching: Vec<(&String, &Entry)>,
    req: &pb::ListResourcesRequest,
    to_pb: fn(&str, &Entry) -> pb::Resource,
) -> Result<pb::ListResourcesResponse, ListError> {
    let size = if req.page_size == 0 { DEFAULT_PAGE } else { (req.page_size as usize).min(MAX_PAGE) };
    let (descending, name) = match req.order_by.trim().strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, req.order_by.trim()),
    };
    let col = column(name)?;
    let total = matching.len();
    let power_w = matching.iter().map(|(_, e)| drawing(e)).sum();
    let keyset = col == Column::Id && !descending;
    if !keyset {
        matching.sort_by(|a, b| compare(col, descending, *a, *b));
    }
    let token = req.page_token.as_str();
    let start = if token.is_empty() {
        0
    } else if keyset {
        matching.partition_point(|(id, _)| id.as_str() <= token)
    } else {
        token
            .strip_prefix('@')
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| ListError(format!("page_token: {token:?} is not a token this order gave (`@<offset>`)")))?
    };
    let end = (start + size).min(total);
    let resources: Vec<pb::Resource> =
        matching.get(start..end).unwrap_or_default().iter().map(|(id, e)| to_pb(id, e)).collect();
    let next_page_token = match (end < total, keyset) {
        (false, _) => String::new(),
        (true, true) => resources.last().map(|r| r.id.clone()).unwrap_or_default(),
        (true, false) => format!("@{end}"),
    };
    Ok(pb::ListResourcesResponse { resources, next_page_token, total: total as u32, power_w })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Filter, to_pb};
    use hcp_domain::ids::{RackId, ResourceId, SiteId};
    use hcp_domain::resource::{Health, Mode, Resource, ResourceKind, ResourceSpec};
    use hcp_domain::units::{Hashrate, Power};
    use std::collections::BTreeMap;

    /// 30 miners: ids m00..m29, power 3000 + 10·n W, every third one offline, rack r<n%3>,
    /// model S21 below 15 and S19j Pro from 15 on.
    fn fleet() -> BTreeMap<String, Entry> {
        (0..30)
            .map(|n| {
                let id = format!("m{n:02}");
                let model = if n < 15 { "Antminer S21" } else { "Antminer S19j Pro" };
                let spec = ResourceSpec {
                    site: SiteId::new(if n % 2 == 0 { "a" } else { "b" }).expect("site"),
                    rack: Some(RackId::new(format!("r{}", n % 3)).expect("rack")),
                    kind: ResourceKind::AsicMiner {
                        model: model.into(),
                        nominal_hashrate: Hashrate::from_terahashes(200),
                        nominal_power: Power::from_watts(3500),
                    },
                };
                let resource = Resource {
                    id: Some(ResourceId::new(&id).expect("id")),
                    spec: Some(spec),
                    mode: Mode::Mining,
                    health: if n % 3 == 0 { Health::Offline } else { Health::Healthy },
                    ..Resource::default()
                };
                let telemetry = pb::Telemetry { power_w: 3000.0 + 10.0 * f64::from(n), ..Default::default() };
                (id, Entry { resource, telemetry: Some(telemetry), address: format!("10.0.0.{n}:4028") })
            })
            .collect()
    }

    fn list(entries: &BTreeMap<String, Entry>, req: &pb::ListResourcesRequest) -> pb::ListResourcesResponse {
        let filter = Filter::of_request(req).expect("filter");
        let matching = entries.iter().filter(|(id, e)| filter.admits(id, e)).collect();
        page(matching, req, to_pb).expect("page")
    }

    fn ids(r: &pb::ListResourcesResponse) -> Vec<&str> {
        r.resources.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn pages_in_id_order_carry_on_from_the_last_id() {
        let fleet = fleet();
        let mut req = pb::ListResourcesRequest { page_size: 12, ..Default::default() };
        let first = list(&fleet, &req);
        assert_eq!((first.total, first.resources.len(), first.next_page_token.as_str()), (30, 12, "m11"));
        // The offline third (m00, m03, .. m27) draws nothing, whatever they last read.
        assert!((first.power_w - (20.0 * 3000.0 + 10.0 * 300.0)).abs() < 1e-6, "{}", first.power_w);
        req.page_token = first.next_page_token;
        let second = list(&fleet, &req);
        assert_eq!(ids(&second)[0], "m12");
        req.page_token = second.next_page_token;
        let last = list(&fleet, &req);
        assert_eq!((last.resources.len(), last.next_page_token.as_str()), (6, ""));
    }

    #[test]
    fn search_matches_names_without_case_and_counts_what_matches() {
        let fleet = fleet();
        let req = |q: &str| pb::ListResourcesRequest { query: q.into(), ..Default::default() };
        assert_eq!(list(&fleet, &req("s19J")).total, 15, "the model");
        assert_eq!(ids(&list(&fleet, &req("10.0.0.7:"))), ["m07"], "the address");
        assert_eq!(list(&fleet, &req("R1")).total, 10, "the rack");
        let offline = pb::ListResourcesRequest {
            query: "s21".into(),
            health: pb::ResourceHealth::Offline as i32,
            ..Default::default()
        };
        assert_eq!(list(&fleet, &offline).total, 5, "with the other filters: m00, m03, .. m12");
    }

    #[test]
    fn any_column_orders_either_way_and_pages_by_offset() {
        let fleet = fleet();
        let mut req = pb::ListResourcesRequest { order_by: "-power".into(), page_size: 10, ..Default::default() };
        let first = list(&fleet, &req);
        assert_eq!(ids(&first)[..3], ["m29", "m28", "m27"]);
        assert_eq!(first.next_page_token, "@10");
        req.page_token = first.next_page_token;
        assert_eq!(ids(&list(&fleet, &req))[0], "m19");
        let by_model = list(&fleet, &pb::ListResourcesRequest { order_by: "model".into(), ..Default::default() });
        assert_eq!(ids(&by_model)[..2], ["m15", "m16"], "S19j Pro first, ties by id");
        let by_health = list(&fleet, &pb::ListResourcesRequest { order_by: "-health".into(), ..Default::default() });
        assert_eq!(ids(&by_health)[0], "m00", "offline sorts after healthy");
        let by_id = list(&fleet, &pb::ListResourcesRequest { order_by: "-id".into(), ..Default::default() });
        assert_eq!(ids(&by_id)[0], "m29");
    }

    #[test]
    fn a_bad_order_or_token_is_refused_by_name() {
        let fleet = fleet();
        let filter = Filter::default();
        let all = || fleet.iter().filter(|(id, e)| filter.admits(id, e)).collect::<Vec<_>>();
        let bad = pb::ListResourcesRequest { order_by: "colour".into(), ..Default::default() };
        let e = page(all(), &bad, to_pb).expect_err("no such column");
        assert!(e.0.starts_with("order_by: \"colour\""), "{e}");
        let token =
            pb::ListResourcesRequest { order_by: "power".into(), page_token: "m03".into(), ..Default::default() };
        let e = page(all(), &token, to_pb).expect_err("an id is not an offset");
        assert!(e.0.starts_with("page_token: "), "{e}");
    }
}
