// Energy: a site's price over the last day with the plans' mining share over it (as
// backtest.svg draws it), the latest plan's reasons, and the operator's curtail and wake, each
// previewed (a dry run) before it is done.

import { useState } from "react";
import { ApiError, get, micros, post } from "../api";
import { Chart } from "../chart";
import { setQuery, usePath } from "../router";
import type { Plan, Quote, SiteStatus } from "../types";
import { Head, Age, Card, Problem, fmt, useLoad } from "../ui";

interface Preview {
  miners?: { resourceId: string; model?: string; kw?: number }[];
  expectedKw?: number;
  summary?: string;
  lifted?: string[];
  curtailmentId?: string;
  dryRun?: boolean;
}

function miningShare(plan: Plan): number {
  const asics = (plan.groups ?? []).filter((g) => g.kind !== "gpu");
  const devices = asics.reduce((a, g) => a + (g.devices ?? 0), 0);
  const running = asics.reduce((a, g) => a + (g.running ?? 0), 0);
  return devices ? (100 * running) / devices : 0;
}

function Control({ site }: { site: string }) {
  const [kw, setKw] = useState("100");
  const [reason, setReason] = useState("");
  // What was previewed, and the very request "now" sends (never the form as it is later).
  const [preview, setPreview] = useState<{ action: string; body: Record<string, unknown>; result: Preview } | null>(null);
  const [done, setDone] = useState<Preview | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const body = (action: string, dryRun: boolean) =>
    action === "curtail" ? { kw: Number(kw), reason, dry_run: dryRun } : { reason, dry_run: dryRun };
  const run = async (action: string, request: Record<string, unknown>) => {
    setError(null);
    try {
      const result = await post<Preview>(`/v1/sites/${site}/${action}`, request);
      if (request.dry_run) {
        setPreview({ action, body: { ...request, dry_run: false }, result });
        setDone(null);
      } else {
        setPreview(null);
        setDone(result);
      }
    } catch (e) {
      setError(e as ApiError);
    }
  };
  const edit = (set: (v: string) => void) => (e: { target: { value: string } }) => {
    set(e.target.value);
    setPreview(null);
  };
  return (
    <Card title="Curtail or wake">
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Curtailment">
        <label>
          Load to shed (kW)
          <input type="number" min={0} value={kw} onChange={edit(setKw)} />
        </label>
        <label>
          Reason
          <input value={reason} placeholder="demand response, maintenance…" onChange={edit(setReason)} />
        </label>
        <button onClick={() => run("curtail", body("curtail", true))}>Preview curtail</button>
        <button onClick={() => run("wake", body("wake", true))}>Preview wake</button>
      </form>
      <Problem error={error} />
      {preview ? (
        <div className="preview" role="status">
          <p>
            {preview.action === "curtail" ? "Curtailing" : "Waking"} would move {preview.result.miners?.length ?? 0} miners, about{" "}
            {fmt.kw(preview.result.expectedKw ?? 0)}. {preview.result.summary}
          </p>
          <ul className="compact">
            {(preview.result.miners ?? []).slice(0, 20).map((m) => (
              <li key={m.resourceId}>
                {m.resourceId} ({m.model}, {fmt.kw(m.kw ?? 0)})
              </li>
            ))}
          </ul>
          <button className="danger" onClick={() => run(preview.action, preview.body)}>
            {preview.action === "curtail" ? "Curtail now" : "Wake now"}
          </button>
          <button onClick={() => setPreview(null)}>Discard</button>
        </div>
      ) : null}
      {done ? (
        <p role="status">
          Done: {done.curtailmentId ? `curtailment ${done.curtailmentId}` : `lifted ${(done.lifted ?? []).join(", ") || "nothing"}`}, {fmt.kw(done.expectedKw ?? 0)}.
        </p>
      ) : null}
    </Card>
  );
}

export function Energy() {
  const { query } = usePath();
  const sites = useLoad(() => get<{ sites?: SiteStatus[] }>("/v1/sites"), []);
  const site = query.get("site") ?? sites.data?.sites?.[0]?.site ?? "";
  // The market's own clock (a replayed feed runs in its past): the day before its latest interval.
  const prices = useLoad(
    async () => {
      if (!site) return [];
      const latest = await get<Quote>(`/v1/prices/${site}`);
      const end = Number(latest.intervalStartUnixMicros ?? Date.now() * 1000);
      const span = { from_unix_micros: end - 24 * 3600e6, to_unix_micros: end + 1 };
      return (await get<{ quotes?: Quote[] }>(`/v1/prices/${site}/history`, span)).quotes ?? [];
    },
    [site],
    60_000,
  );
  const plans = useLoad(async () => (site ? (await get<{ plans?: Plan[] }>("/v1/plans", { site, page_size: 500 })).plans ?? [] : []), [site], 30_000);
  const latest = plans.data?.[0];
  const dayAgo = Date.now() - 24 * 3600e3;
  const chartPlans = (plans.data ?? []).filter((p) => micros(p.plannedUnixMicros) >= dayAgo).reverse();
  return (
    <>
      <h1>Energy</h1>
      <label className="site-pick">
        Site{" "}
        <select value={site} onChange={(e) => setQuery({ site: e.target.value })}>
          {(sites.data?.sites ?? []).map((s) => (
            <option key={s.site}>{s.site}</option>
          ))}
        </select>
      </label>
      <Problem error={sites.error ?? prices.error ?? plans.error} />
      <Card title="Plans, last 24 hours: the price each expected and the mining share it chose" extra={<Age at={plans.at} staleMs={120_000} label="read" />}>
        <Chart
          label={`Power price and mining share at ${site}`}
          series={[
            { name: "expected price", unit: "$/MWh", color: "#2563eb", points: chartPlans.map((p) => [micros(p.plannedUnixMicros), p.priceUsdMwh ?? 0]) },
            { name: "mining share", unit: "%", color: "#f59e0b", right: true, step: true, points: chartPlans.map((p) => [micros(p.plannedUnixMicros), miningShare(p)]) },
          ]}
        />
      </Card>
      <Card title="Market prices, the day to the latest interval (market time)" extra={<Age at={prices.at} staleMs={120_000} label="read" />}>
        <Chart
          label={`Day-ahead and real-time prices at ${site}`}
          series={[
            { name: "real-time", unit: "$/MWh", color: "#2563eb", points: (prices.data ?? []).map((q) => [micros(q.intervalStartUnixMicros), q.realTimeUsdMwh ?? 0]) },
            { name: "day-ahead", unit: "$/MWh", color: "#7c3aed", step: true, points: (prices.data ?? []).map((q) => [micros(q.intervalStartUnixMicros), q.dayAheadUsdMwh ?? 0]) },
          ]}
        />
      </Card>
      <Card title="The latest plan" extra={latest ? <Age at={micros(latest.plannedUnixMicros)} staleMs={20 * 60_000} label="planned" /> : undefined}>
        {latest ? (
          <>
            <p>{latest.summary}</p>
            <p>
              Price {fmt.mwh(latest.priceUsdMwh ?? 0)} ({latest.priceBasis}), planned {fmt.kw(latest.plannedKw ?? 0)} of {fmt.kw(latest.capKw ?? 0)}, margin{" "}
              {fmt.usd(latest.marginUsdPerHour ?? 0)}/h
            </p>
            <div className="table-wrap">
              <table>
                <Head columns={["Model", "Running", "Curtailed", "Margin", "Why"]} />
                <tbody>
                  {(latest.groups ?? []).map((g) => (
                    <tr key={g.model}>
                      <td>{g.model}</td>
                      <td>{g.running ?? 0}</td>
                      <td>{g.curtailed ?? 0}</td>
                      <td>{fmt.mwh(g.marginUsdPerMwh ?? 0)}</td>
                      <td>{g.why}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ) : (
          <p className="unavailable">no plan yet</p>
        )}
      </Card>
      {site ? <Control key={site} site={site} /> : null}
    </>
  );
}
