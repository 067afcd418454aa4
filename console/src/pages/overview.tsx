// The operator's overview: per site, power now against the cap, the mix of mining, AI and
// curtailed, the price and each model's breakeven, today's revenue and power cost, fleet
// health and curtailments in force, each with its age ("stale" or "unavailable", never 0).

import { get, micros, usd } from "../api";
import { Link } from "../router";
import type { Curtailment, Plan, Quote, ResourcePage, SiteMargin, SiteStatus } from "../types";
import { Head, Age, Badge, Card, Problem, Value, fmt, useLoad } from "../ui";

/** A plan or a price older than this is stale (plans come every interval, 15 min at most). */
const STALE_MS = 20 * 60_000;
const REFRESH_MS = 10_000;

/** The start of the market's day (UTC) that `ms` is in: a replayed market has its own clock. */
function midnightUtcMicros(ms: number): number {
  const day = new Date(ms);
  return Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()) * 1000;
}

function Health({ site }: { site: string }) {
  const counts = useLoad(
    async () => {
      const count = async (health: string) =>
        (await get<ResourcePage>("/v1/resources", { site, health, page_size: 1 })).total ?? 0;
      const [healthy, degraded, offline] = await Promise.all(
        ["RESOURCE_HEALTH_HEALTHY", "RESOURCE_HEALTH_DEGRADED", "RESOURCE_HEALTH_OFFLINE"].map(count),
      );
      return { healthy, degraded, offline };
    },
    [site],
    REFRESH_MS,
  );
  return (
    <Value loaded={counts}>
      <ul className="health" aria-label={`Fleet health at ${site}`}>
        <li>
          <Link to={`/resources?site=${site}&health=RESOURCE_HEALTH_HEALTHY`}>
            <Badge value="healthy" /> {counts.data?.healthy}
          </Link>
        </li>
        <li>
          <Link to={`/resources?site=${site}&health=RESOURCE_HEALTH_DEGRADED`}>
            <Badge value="degraded" /> {counts.data?.degraded}
          </Link>
        </li>
        <li>
          <Link to={`/resources?site=${site}&health=RESOURCE_HEALTH_OFFLINE`}>
            <Badge value="offline" /> {counts.data?.offline}
          </Link>
        </li>
      </ul>
    </Value>
  );
}

function SiteCard({ status }: { status: SiteStatus }) {
  const site = status.site;
  const power = useLoad(() => get<ResourcePage>("/v1/resources", { site, page_size: 1 }), [site], REFRESH_MS);
  const quote = useLoad(() => get<Quote>(`/v1/prices/${site}`), [site], REFRESH_MS);
  const plan = useLoad(
    async () => (await get<{ plans?: Plan[] }>("/v1/plans", { site, page_size: 1 })).plans?.[0] ?? null,
    [site],
    REFRESH_MS,
  );
  const marketNow = micros(quote.data?.intervalStartUnixMicros) || Date.now();
  const day = midnightUtcMicros(marketNow);
  const today = useLoad(
    async () => (await get<{ sites?: SiteMargin[] }>("/v1/margins", { site, from_unix_micros: day })).sites?.[0] ?? null,
    [site, day],
    60_000,
  );
  const replay = quote.data?.source === "replay" || quote.data?.source === "simulated";
  const fleet = useLoad(
    () => get<{ curtailments?: Curtailment[] }>(`/v1/sites/${site}/fleet`),
    [site],
    REFRESH_MS,
  );
  const cap = status.capKw ?? 0;
  const nowKw = (power.data?.powerW ?? 0) / 1000;
  const share = cap > 0 ? Math.min(100, (nowKw / cap) * 100) : 0;
  const mix = [
    ["mining", status.mining ?? 0],
    ["AI", status.ai ?? 0],
    ["curtailed", status.curtailed ?? 0],
  ] as const;
  const devices = mix.reduce((a, [, n]) => a + n, 0);
  const price = quote.data?.realTimeUsdMwh ?? quote.data?.dayAheadUsdMwh;
  const revenue = today.data ? usd(today.data.miningUsdMicros) + usd(today.data.aiUsdMicros) : 0;
  return (
    <Card title={`Site ${site}`} extra={<Age at={micros(status.plannedUnixMicros)} staleMs={STALE_MS} label="plan" />}>
      <div className="tiles">
        <div className="tile" aria-label="Power now against the cap">
          <span className="label">Power now / cap</span>
          <Value loaded={power}>
            <span className="big">
              {fmt.kw(nowKw)} <small>/ {fmt.kw(cap)}</small>
            </span>
            <meter min={0} max={100} value={share} high={90} aria-label={`${share.toFixed(0)}% of the cap`} />
            <Age at={power.at} staleMs={60_000} label="read" />
          </Value>
        </div>
        <div className="tile" aria-label="Mix">
          <span className="label">Mix (devices)</span>
          {status.planId ? (
            <>
              <div className="mix" role="img" aria-label={mix.map(([k, n]) => `${k} ${n}`).join(", ")}>
                {mix.map(([k, n]) => (
                  <span key={k} className={`mix-${k.toLowerCase()}`} style={{ flexGrow: n }} />
                ))}
              </div>
              <span>
                {mix.map(([k, n]) => `${k} ${n}`).join(" · ")} of {devices}
              </span>
            </>
          ) : (
            <span className="unavailable">no plan yet</span>
          )}
        </div>
        <div className="tile" aria-label="Price now">
          <span className="label">Price now</span>
          <Value loaded={quote}>
            <span className="big">{price === undefined ? "—" : fmt.mwh(price)}</span>
            {replay ? (
              <span className="age" title="market time of a replayed or simulated feed">
                {quote.data?.source} · interval {new Date(marketNow).toISOString().slice(0, 16).replace("T", " ")} UTC
              </span>
            ) : (
              <Age at={marketNow} staleMs={STALE_MS} label="interval" />
            )}
          </Value>
        </div>
        <div className="tile" aria-label="Today">
          <span className="label">Today ({new Date(marketNow).toISOString().slice(0, 10)}): revenue / power cost</span>
          <Value loaded={today}>
            {today.data ? (
              <span className="big">
                {fmt.usd(revenue)} <small>/ {fmt.usd(usd(today.data.powerCostUsdMicros))}</small>
              </span>
            ) : (
              <span className="unavailable">no readings today</span>
            )}
          </Value>
        </div>
      </div>
      <div className="split">
        <div>
          <h3>Breakeven by model</h3>
          <Value loaded={plan}>
            {plan.data?.groups?.length ? (
              <table>
                <Head columns={["Model", "Running", "Breakeven"]} />
                <tbody>
                  {plan.data.groups.map((g) => (
                    <tr key={g.model}>
                      <td>{g.model}</td>
                      <td>
                        {g.running ?? 0} / {g.devices ?? 0}
                      </td>
                      <td title={g.why}>
                        {g.kind === "gpu" && !g.running
                          ? "idle (no revenue)"
                          : fmt.mwh((plan.data?.priceUsdMwh ?? 0) + (g.marginUsdPerMwh ?? 0))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <span className="unavailable">no plan yet</span>
            )}
          </Value>
        </div>
        <div>
          <h3>Fleet health</h3>
          <Health site={site} />
          <h3>Curtailments in force</h3>
          <Value loaded={fleet}>
            {fleet.data?.curtailments?.length ? (
              <ul>
                {fleet.data.curtailments.map((c) => (
                  <li key={c.curtailmentId}>
                    {fmt.kw(c.kw ?? 0)} {c.reason ? `— ${c.reason}` : ""}{" "}
                    {c.untilUnixMicros ? `until ${fmt.time(micros(c.untilUnixMicros))}` : ""}
                  </li>
                ))}
              </ul>
            ) : (
              <span>none</span>
            )}
          </Value>
        </div>
      </div>
    </Card>
  );
}

export function Overview() {
  const sites = useLoad(() => get<{ sites?: SiteStatus[] }>("/v1/sites"), [], REFRESH_MS);
  return (
    <>
      <h1>Overview</h1>
      <Problem error={sites.error} />
      {sites.data?.sites?.length === 0 ? <p className="unavailable">No sites are configured.</p> : null}
      <div className="sites">
        {(sites.data?.sites ?? []).map((s) => (
          <SiteCard key={s.site} status={s} />
        ))}
      </div>
    </>
  );
}
