// Every device: filters, search and sorting done by discovery (a page at a time, so 10,000
// devices load as fast as 50), and a device's page with its telemetry and its history.

import { useState } from "react";
import { get, micros } from "../api";
import { Chart } from "../chart";
import { Link, navigate, setQuery, usePath } from "../router";
import type { HistoryEntry, Resource, ResourcePage, Telemetry } from "../types";
import { Age, Badge, Card, Problem, fmt, plain, useLoad } from "../ui";

const MODES = ["", "RESOURCE_MODE_MINING", "RESOURCE_MODE_SERVING_AI", "RESOURCE_MODE_CURTAILED", "RESOURCE_MODE_IDLE"];
const HEALTHS = ["", "RESOURCE_HEALTH_HEALTHY", "RESOURCE_HEALTH_DEGRADED", "RESOURCE_HEALTH_OFFLINE", "RESOURCE_HEALTH_RETIRED"];
const COLUMNS: [string, string][] = [
  ["id", "Device"],
  ["model", "Model"],
  ["site", "Site"],
  ["mode", "Mode"],
  ["health", "Health"],
  ["hashrate", "Hashrate"],
  ["power", "Power"],
  ["temperature", "Temp."],
];
const PAGE = 50;

function model(r: Resource): string {
  return r.spec?.asic?.model ?? r.spec?.gpu?.model ?? "—";
}

export function Resources() {
  const { query } = usePath();
  const filters = {
    site: query.get("site") ?? "",
    mode: query.get("mode") ?? "",
    health: query.get("health") ?? "",
    q: query.get("q") ?? "",
    sort: query.get("sort") ?? "id",
  };
  // The tokens of the pages before this one (back), and this page's.
  const [tokens, setTokens] = useState<string[]>([""]);
  const token = tokens.at(-1) ?? "";
  const key = JSON.stringify(filters);
  const [forKey, setForKey] = useState(key);
  if (forKey !== key) {
    setForKey(key);
    setTokens([""]);
  }
  const page = useLoad(
    () =>
      get<ResourcePage>("/v1/resources", {
        site: filters.site,
        mode: filters.mode,
        health: filters.health,
        query: filters.q,
        order_by: filters.sort,
        page_size: PAGE,
        page_token: token,
      }),
    [key, token],
    15_000,
  );
  const set = (name: string, value: string) => setQuery({ ...filters, [name]: value });
  const sortBy = (column: string) => set("sort", filters.sort === column ? `-${column}` : column);
  const rows = page.data?.resources ?? [];
  const first = (tokens.length - 1) * PAGE;
  return (
    <>
      <h1>Resources</h1>
      <form className="filters" role="search" aria-label="Filter devices" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" value={filters.q} placeholder="id, model, address, workload" onChange={(e) => set("q", e.target.value)} />
        </label>
        <label>
          Site
          <input value={filters.site} placeholder="any" onChange={(e) => set("site", e.target.value)} />
        </label>
        <label>
          Mode
          <select value={filters.mode} onChange={(e) => set("mode", e.target.value)}>
            {MODES.map((m) => (
              <option key={m} value={m}>
                {m ? plain(m, "RESOURCE_MODE_") : "any"}
              </option>
            ))}
          </select>
        </label>
        <label>
          Health
          <select value={filters.health} onChange={(e) => set("health", e.target.value)}>
            {HEALTHS.map((h) => (
              <option key={h} value={h}>
                {h ? plain(h, "RESOURCE_HEALTH_") : "any"}
              </option>
            ))}
          </select>
        </label>
      </form>
      <Problem error={page.error} />
      <p className="count">
        <span aria-live="polite">
          {page.data ? `${page.data.total ?? 0} devices${page.data.total ? `, ${first + 1}–${first + rows.length} shown` : ""}` : "…"}
        </span>{" "}
        <Age at={page.at} staleMs={60_000} label="read" />
      </p>
      <div className="table-wrap">
        <table className="rows">
          <thead>
            <tr>
              {COLUMNS.map(([c, title]) => {
                const sorted = filters.sort === c ? "ascending" : filters.sort === `-${c}` ? "descending" : "none";
                return (
                  <th key={c} scope="col" aria-sort={sorted}>
                    <button className="sort" onClick={() => sortBy(c)} aria-label={`Sort by ${title}`}>
                      {title} {sorted === "ascending" ? "▲" : sorted === "descending" ? "▼" : ""}
                    </button>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} tabIndex={0} onKeyDown={(e) => e.key === "Enter" && navigate(`/resources/${encodeURIComponent(r.id)}`)}>
                <td>
                  <Link to={`/resources/${encodeURIComponent(r.id)}`}>{r.id}</Link>
                </td>
                <td>{model(r)}</td>
                <td>{r.spec?.site}</td>
                <td>
                  <Badge value={plain(r.mode, "RESOURCE_MODE_")} />
                </td>
                <td>
                  <Badge value={plain(r.health, "RESOURCE_HEALTH_")} />
                </td>
                <td className="num">{r.telemetry?.hashrateThs ? `${fmt.n(r.telemetry.hashrateThs)} TH/s` : "—"}</td>
                <td className="num">{r.telemetry?.powerW ? `${fmt.n(r.telemetry.powerW)} W` : "—"}</td>
                <td className="num">{r.telemetry?.maxTempC ? `${fmt.n(r.telemetry.maxTempC)} °C` : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label="Pages of devices">
        <button disabled={tokens.length === 1} onClick={() => setTokens(tokens.slice(0, -1))}>
          Previous
        </button>
        <button
          disabled={!page.data?.nextPageToken}
          onClick={() => page.data?.nextPageToken && setTokens([...tokens, page.data.nextPageToken])}
        >
          Next
        </button>
      </nav>
    </>
  );
}

function series(samples: Telemetry[], pick: (t: Telemetry) => number | undefined): [number, number][] {
  return samples.flatMap((t) => {
    const v = pick(t);
    return v === undefined ? [] : [[micros(t.observedUnixMicros), v] as [number, number]];
  });
}

export function ResourceDetail({ id }: { id: string }) {
  const resource = useLoad(() => get<Resource>(`/v1/resources/${encodeURIComponent(id)}`), [id], 10_000);
  const samples = useLoad(
    () =>
      get<{ samples?: Telemetry[] }>(`/v1/resources/${encodeURIComponent(id)}/samples`, {
        since_unix_micros: Math.round(Date.now() * 1000 - 6 * 3600e6),
      }),
    [id],
    30_000,
  );
  const history = useLoad(() => get<{ events?: HistoryEntry[] }>(`/v1/resources/${encodeURIComponent(id)}/history`), [id], 30_000);
  const r = resource.data;
  const s = samples.data?.samples ?? [];
  const gpu = !!r?.spec?.gpu;
  return (
    <>
      <p>
        <Link to="/resources">← Resources</Link>
      </p>
      <h1>{id}</h1>
      <Problem error={resource.error} />
      {r ? (
        <Card title="Device" extra={<Age at={micros(r.telemetry?.observedUnixMicros)} staleMs={120_000} label="reading" />}>
          <dl className="facts">
            <dt>Model</dt>
            <dd>{model(r)}</dd>
            <dt>Site / rack</dt>
            <dd>
              {r.spec?.site} / {r.spec?.rack || "—"}
            </dd>
            <dt>Address</dt>
            <dd>{r.address || "—"}</dd>
            <dt>Mode</dt>
            <dd>
              <Badge value={plain(r.mode, "RESOURCE_MODE_")} />
            </dd>
            <dt>Health</dt>
            <dd>
              <Badge value={plain(r.health, "RESOURCE_HEALTH_")} />
            </dd>
            <dt>Workload</dt>
            <dd>{r.assignedWorkload ? <Link to={`/workloads/${r.assignedWorkload}`}>{r.assignedWorkload}</Link> : "—"}</dd>
            <dt>Firmware</dt>
            <dd>{r.telemetry?.firmware || "—"}</dd>
          </dl>
        </Card>
      ) : null}
      <Card title="Telemetry, last 6 hours">
        <Problem error={samples.error} />
        {gpu ? (
          <Chart label="Utilization" series={[{ name: "utilization", unit: "%", color: "#2563eb", points: series(s, (t) => t.utilizationPct ?? 0) }]} />
        ) : (
          <Chart label="Hashrate" series={[{ name: "hashrate", unit: "TH/s", color: "#f59e0b", points: series(s, (t) => t.hashrateThs ?? 0) }]} />
        )}
        <Chart label="Power" series={[{ name: "power", unit: "W", color: "#16a34a", points: series(s, (t) => t.powerW ?? 0) }]} />
        <Chart label="Temperature" series={[{ name: "temperature", unit: "°C", color: "#dc2626", points: series(s, (t) => t.maxTempC) }]} />
      </Card>
      <Card title="History">
        <Problem error={history.error} />
        <ol className="timeline">
          {(history.data?.events ?? []).map((e) => (
            <li key={e.version}>
              <time>{fmt.time(micros(e.timeUnixMicros))}</time> <strong>{e.eventType}</strong> {e.actor ? <span className="actor">by {e.actor}</span> : null}
              {e.detail && e.detail !== "{}" ? <code>{e.detail}</code> : null}
            </li>
          ))}
        </ol>
      </Card>
    </>
  );
}
