// Customers' workloads: the list (live: every workload event reloads it), the submit form
// (what the spec would cost at most, as it is written; the API's own validation messages,
// by field), and a workload's page: its timeline, why it
// waits, and pause / resume / cancel.

import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError, follow, get, micros, post, usd, type LiveEvent } from "../api";
import { Link, navigate, setQuery, usePath } from "../router";
import { can, isPlatform, useMe } from "../session";
import type { Estimate, HistoryEntry, Pending, Workload } from "../types";
import { Head, Badge, Card, Problem, fmt, plain, useLoad } from "../ui";

const STATUSES = ["", "queued", "scheduled", "starting", "running", "paused", "succeeded", "failed", "cancelled", "preempted"];

/**
 * Calls `onEvent` with each live event `query` selects, and `onOpen` each time the stream
 * (re)opens: what happened between a page's first read and its subscription is read again
 * then. Answers whether the stream is up.
 */
function useLive(query: Record<string, string>, onEvent: (e: LiveEvent) => void, onOpen: () => void): boolean {
  const [live, setLive] = useState(false);
  const latest = useRef({ onEvent, onOpen });
  latest.current = { onEvent, onOpen };
  const key = JSON.stringify(query);
  useEffect(
    () =>
      follow(
        JSON.parse(key),
        (e) => latest.current.onEvent(e),
        (up) => {
          setLive(up);
          if (up) latest.current.onOpen();
        },
      ),
    [key],
  );
  return live;
}

/**
 * Each workload's latest version the stream has announced. The API answers from routing's
 * view, which may not have applied an event the log already sent: a page whose answer is
 * older than what it was told loads again, shortly, until it has caught up (or 40 tries).
 */
function useCaughtUp(behind: (seen: Map<string, number>) => boolean, reload: () => void, at: number, failed: unknown) {
  const seen = useRef(new Map<string, number>());
  const tries = useRef(0);
  const [tick, setTick] = useState(0);
  // Events in a burst (a scheduling cycle) share one reload, a few milliseconds on.
  const soon = useRef<ReturnType<typeof setTimeout> | null>(null);
  const told = (e: LiveEvent) => {
    const id = e.stream.replace(/^workload-/, "");
    seen.current.set(id, Math.max(seen.current.get(id) ?? 0, Number(e.version ?? 0)));
    tries.current = 0;
    if (soon.current) return;
    soon.current = setTimeout(() => {
      soon.current = null;
      setTick((t) => t + 1);
      reload();
    }, 20);
  };
  useEffect(() => {
    if (!behind(seen.current) || tries.current >= 40) return;
    tries.current += 1;
    const timer = setTimeout(reload, 150);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [at, tick, failed]);
  return told;
}

function LiveBadge({ live }: { live: boolean }) {
  return (
    <span className={live ? "live on" : "live"} aria-live="polite">
      {live ? "● live" : "○ reconnecting"}
    </span>
  );
}

export function Workloads() {
  const { query } = usePath();
  const me = useMe();
  const status = query.get("status") ?? "";
  const search = query.get("q") ?? "";
  const q = search.toLowerCase();
  // Pages of 100 as the API pages them; "More" adds the next (the list stays shown meanwhile),
  // and a reload reads them all again.
  const pages = useRef(1);
  const list = useLoad(async () => {
    const workloads: Workload[] = [];
    let token = "";
    for (let n = 0; n < pages.current; n++) {
      const page = await get<{ workloads?: Workload[]; nextPageToken?: string }>("/v1/workloads", {
        status,
        page_size: 100,
        page_token: token,
      });
      workloads.push(...(page.workloads ?? []));
      token = page.nextPageToken ?? "";
      if (!token) break;
    }
    return { workloads, more: token !== "" };
  }, [status]);
  // Behind: a listed workload older than its last event, or one told of but not listed yet
  // while the filter admits it (any status, or the status it has reached).
  const told = useCaughtUp(
    (seen) => {
      const rows = new Map((list.data?.workloads ?? []).map((w) => [w.workloadId, Number(w.version ?? 0)]));
      return [...seen].some(([id, version]) => (rows.has(id) ? rows.get(id)! < version : !status));
    },
    list.reload,
    list.at,
    list.error,
  );
  const live = useLive({ kinds: "workload" }, told, list.reload);
  const rows = (list.data?.workloads ?? []).filter(
    (w) => !q || w.workloadId.toLowerCase().includes(q) || (w.spec?.gpuModel ?? "").toLowerCase().includes(q) || (w.spec?.tenant ?? "").toLowerCase().includes(q),
  );
  return (
    <>
      <h1>
        Workloads <LiveBadge live={live} />
      </h1>
      <div className="filters" role="search" aria-label="Filter workloads">
        <label>
          Search
          <input type="search" value={query.get("q") ?? ""} placeholder="id, GPU model, tenant" onChange={(e) => setQuery({ status, q: e.target.value })} />
        </label>
        <label>
          Status
          <select
            value={status}
            onChange={(e) => {
              pages.current = 1;
              setQuery({ status: e.target.value, q: search });
            }}
          >
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </label>
        {can(me, "developer", "admin") ? (
          <Link to="/workloads/new" className="button">
            Submit a workload
          </Link>
        ) : null}
      </div>
      <Problem error={list.error} />
      <div className="table-wrap">
        <table className="rows">
          <Head columns={["Workload", isPlatform(me) && "Tenant", "Kind", "GPUs", "Status", "Submitted"]} />
          <tbody>
            {rows.map((w) => (
              <tr key={w.workloadId} tabIndex={0} onKeyDown={(e) => e.key === "Enter" && navigate(`/workloads/${w.workloadId}`)}>
                <td>
                  <Link to={`/workloads/${w.workloadId}`}>{w.workloadId}</Link>
                </td>
                {isPlatform(me) ? <td>{w.spec?.tenant}</td> : null}
                <td>{plain(w.spec?.kind, "WORKLOAD_KIND_")}</td>
                <td>
                  {w.spec?.gpuCount ?? 0} × {w.spec?.gpuModel}
                </td>
                <td>
                  <Badge value={w.status ?? "unknown"} />
                </td>
                <td>{fmt.time(micros(w.submittedUnixMicros))}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data && rows.length === 0 ? <p>No workloads{status ? ` ${status}` : ""}.</p> : null}
        {list.data?.more ? (
          <button
            className="more"
            onClick={() => {
              pages.current += 1;
              list.reload();
            }}
          >
            More workloads
          </button>
        ) : null}
      </div>
    </>
  );
}

interface Field {
  name: string;
  label: string;
  type: "text" | "number" | "select" | "checkbox";
  options?: string[];
  help?: string;
}

const FIELDS: Field[] = [
  { name: "kind", label: "Kind", type: "select", options: ["WORKLOAD_KIND_TRAINING", "WORKLOAD_KIND_BATCH_INFERENCE", "WORKLOAD_KIND_REALTIME_INFERENCE"] },
  { name: "gpu_model", label: "GPU model", type: "text", help: "e.g. h100-sxm-80gb" },
  { name: "gpu_count", label: "GPUs", type: "number" },
  { name: "memory_mib", label: "Memory per GPU (MiB)", type: "number" },
  { name: "max_run_time_seconds", label: "Longest run time (s)", type: "number" },
  { name: "max_latency_ms", label: "Largest latency (ms, realtime only)", type: "number" },
  { name: "priority", label: "Priority (0–9)", type: "number" },
  { name: "image", label: "Container image", type: "text", help: "empty: hold the GPUs for the run time" },
  { name: "site", label: "Site", type: "text", help: "empty: any" },
  { name: "preemptible", label: "Preemptible", type: "checkbox" },
];

/** The field a problem's detail names (`spec.gpu_count: ...`, `gpu_count: ...`). */
function fieldOf(error: ApiError | null): string | null {
  if (!error) return null;
  const m = /^(?:spec\.)?([a-z_]+)[:\s]/.exec(error.detail);
  return m && FIELDS.some((f) => f.name === m[1]) ? m[1] : null;
}

/** The spec the form's values make: empty fields left out, numbers as numbers. */
function specOf(values: Record<string, string | boolean>): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === "" || v === undefined) continue;
    const field = FIELDS.find((f) => f.name === k);
    spec[k] = field?.type === "number" ? Number(v) : v;
  }
  return spec;
}

/**
 * What `spec` would cost `tenant` at most (its GPUs for its longest run time, at the tiers
 * this period has reached), asked of the API a moment after the form last changed.
 */
function useEstimate(tenant: string, spec: Record<string, unknown>): { data?: Estimate; error?: ApiError } | null {
  const [estimate, setEstimate] = useState<{ data?: Estimate; error?: ApiError } | null>(null);
  const body = JSON.stringify({ tenant, spec });
  useEffect(() => {
    let gone = false;
    const wait = setTimeout(() => {
      post<Estimate>("/v1/estimate", JSON.parse(body)).then(
        (data) => gone || setEstimate({ data }),
        (error: ApiError) => gone || setEstimate({ error }),
      );
    }, 300);
    return () => {
      gone = true;
      clearTimeout(wait);
    };
  }, [body]);
  return estimate;
}

function EstimateLine({ estimate }: { estimate: { data?: Estimate; error?: ApiError } | null }) {
  const e = estimate?.data;
  const text = e ? null : estimate?.error ? `No estimate: ${estimate.error.detail || estimate.error.title}` : "Estimating…";
  const tax = usd(e?.taxUsdMicros);
  return (
    <p className="estimate" data-testid="estimate" aria-live="polite">
      {e ? (
        <>
          Costs at most <strong>{fmt.usd(usd(e.totalUsdMicros))}</strong>: {(micros(e.gpuMicros) / 3.6e6).toFixed(2)} GPU-h of{" "}
          {e.gpuModel} at this period's rates{tax ? `, ${fmt.usd(tax)} tax included` : ""}
        </>
      ) : (
        text
      )}
    </p>
  );
}

export function SubmitWorkload() {
  const me = useMe();
  const [values, setValues] = useState<Record<string, string | boolean>>({
    kind: "WORKLOAD_KIND_TRAINING",
    gpu_model: "h100-sxm-80gb",
    gpu_count: "1",
    memory_mib: "1024",
    max_run_time_seconds: "3600",
    max_latency_ms: "",
    priority: "5",
    image: "",
    site: "",
    preemptible: true,
    tenant: "",
  });
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const bad = fieldOf(error);
  const spec = specOf(values);
  const estimate = useEstimate(String(values.tenant), spec);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const created = await post<Workload>("/v1/workloads", spec);
      navigate(`/workloads/${created.workloadId}`);
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <p>
        <Link to="/workloads">← Workloads</Link>
      </p>
      <h1>Submit a workload</h1>
      <form className="form" onSubmit={submit} aria-label="Workload" noValidate>
        {me.tenant ? null : (
          <label>
            Tenant
            <input value={String(values.tenant)} onChange={(e) => setValues({ ...values, tenant: e.target.value })} aria-invalid={bad === "tenant"} />
          </label>
        )}
        {FIELDS.map((f) => (
          <label key={f.name} className={f.type === "checkbox" ? "check" : ""}>
            {f.label}
            {f.type === "select" ? (
              <select value={String(values[f.name])} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}>
                {f.options?.map((o) => (
                  <option key={o} value={o}>
                    {plain(o, "WORKLOAD_KIND_")}
                  </option>
                ))}
              </select>
            ) : f.type === "checkbox" ? (
              <input type="checkbox" checked={values[f.name] === true} onChange={(e) => setValues({ ...values, [f.name]: e.target.checked })} />
            ) : (
              <input
                name={f.name}
                type={f.type}
                value={String(values[f.name])}
                placeholder={f.help}
                aria-invalid={bad === f.name}
                aria-describedby={bad === f.name ? "submit-error" : undefined}
                onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
              />
            )}
          </label>
        ))}
        <EstimateLine estimate={estimate} />
        <div id="submit-error">
          <Problem error={error} />
        </div>
        <button type="submit" disabled={busy}>
          {busy ? "Submitting…" : "Submit"}
        </button>
      </form>
    </>
  );
}

export function WorkloadDetail({ id }: { id: string }) {
  const me = useMe();
  const path = `/v1/workloads/${encodeURIComponent(id)}`;
  const workload = useLoad(() => get<Workload>(path), [id]);
  const history = useLoad(() => get<{ events?: HistoryEntry[] }>(`${path}/history`), [id]);
  const why = useLoad(() => get<Pending>(`${path}/why`), [id]);
  const reloadAll = () => {
    workload.reload();
    history.reload();
    why.reload();
  };
  const told = useCaughtUp(
    (seen) => Number(workload.data?.version ?? 0) < (seen.get(id) ?? 0),
    reloadAll,
    workload.at,
    workload.error,
  );
  const live = useLive({ kinds: "workload", workload: id }, told, reloadAll);
  const [error, setError] = useState<ApiError | null>(null);
  const act = async (action: string) => {
    try {
      setError(null);
      await post(`${path}/${action}`);
      workload.reload();
    } catch (err) {
      setError(err as ApiError);
    }
  };
  const w = workload.data;
  const status = w?.status ?? "";
  const writer = can(me, "developer", "admin");
  return (
    <>
      <p>
        <Link to="/workloads">← Workloads</Link>
      </p>
      <h1>
        {id} <LiveBadge live={live} />
      </h1>
      <Problem error={workload.error ?? error} />
      {w ? (
        <Card title="Workload" extra={<Badge value={status || "unknown"} />}>
          <p className="status" data-testid="status" aria-live="polite">
            Status: <strong>{status}</strong>
            {w.reason ? ` — ${w.reason}` : ""}
          </p>
          {status === "queued" && why.data?.reason ? (
            <p className="pending" role="status">
              Waiting: <strong>{why.data.reason}</strong> {why.data.message} {why.data.position ? `(position ${why.data.position})` : ""}
            </p>
          ) : null}
          <dl className="facts">
            <dt>Tenant</dt>
            <dd>{w.spec?.tenant}</dd>
            <dt>Kind</dt>
            <dd>{plain(w.spec?.kind, "WORKLOAD_KIND_")}</dd>
            <dt>GPUs</dt>
            <dd>
              {w.spec?.gpuCount} × {w.spec?.gpuModel}
            </dd>
            <dt>On</dt>
            <dd>
              {(w.resources ?? []).map((r) =>
                isPlatform(me) ? (
                  <Link key={r} to={`/resources/${r}`}>
                    {r}{" "}
                  </Link>
                ) : (
                  <span key={r}>{r} </span>
                ),
              )}
              {w.resources?.length ? null : "—"}
            </dd>
            <dt>Attempts</dt>
            <dd>{w.attempts ?? 0}</dd>
            <dt>Endpoint</dt>
            <dd>{w.endpoint || "—"}</dd>
          </dl>
          {writer ? (
            <div className="actions">
              <button onClick={() => act("pause")} disabled={status !== "running"}>
                Pause
              </button>
              <button onClick={() => act("resume")} disabled={status !== "paused"}>
                Resume
              </button>
              <button className="danger" onClick={() => act("cancel")} disabled={["succeeded", "failed", "cancelled"].includes(status)}>
                Cancel
              </button>
            </div>
          ) : null}
        </Card>
      ) : null}
      <Card title="Timeline">
        <Problem error={history.error} />
        <ol className="timeline">
          {(history.data?.events ?? []).map((e) => (
            <li key={e.version}>
              <time>{fmt.time(micros(e.timeUnixMicros))}</time> <strong>{e.eventType}</strong>{" "}
              {e.actor ? <span className="actor">by {e.actor}</span> : null}
              {e.detail && e.detail !== "{}" ? <code>{e.detail}</code> : null}
            </li>
          ))}
        </ol>
      </Card>
    </>
  );
}
