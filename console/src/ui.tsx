// Small pieces every page uses: loading a resource (with its age and its failure), numbers
// and times in an operator's units, and the states a reading can be in.

import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { ApiError } from "./api";

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  /** When the data last arrived (ms), 0 before it has. */
  at: number;
  reload: () => void;
}

/**
 * Calls `load` now, whenever `deps` change and every `everyMs` (if given). A reply is kept
 * unless a later request's reply has already been (so a burst of reloads still lands), and
 * what was loaded for other `deps` is dropped when they change.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number): Loaded<T> {
  const empty = { data: null, error: null, at: 0 };
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; at: number }>(empty);
  const sent = useRef(0);
  const applied = useRef(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  const reload = useCallback(() => {
    const mine = ++sent.current;
    const fresh = () => {
      if (mine < applied.current) return false;
      applied.current = mine;
      return true;
    };
    run().then(
      (data) => fresh() && setState({ data, error: null, at: Date.now() }),
      (error: unknown) =>
        fresh() &&
        setState((s) => ({
          ...s,
          error: error instanceof ApiError ? error : new ApiError(0, "error", String(error)),
        })),
    );
  }, [run]);
  useEffect(() => {
    setState(empty);
    applied.current = sent.current;
    reload();
    if (!everyMs) return;
    const timer = setInterval(reload, everyMs);
    return () => clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [reload, everyMs]);
  return { ...state, reload };
}

/** Re-renders every `ms`, for ages that count up. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** How old a reading is, and "stale" past `staleMs`. */
export function Age({ at, staleMs, label = "as of" }: { at: number; staleMs: number; label?: string }) {
  const now = useNow();
  if (!at) return <span className="age unavailable">no data yet</span>;
  const stale = now - at > staleMs;
  return (
    <span className={stale ? "age stale" : "age"} title={new Date(at).toISOString()}>
      {stale ? "stale · " : ""}
      {label} {ago(at, now)}
    </span>
  );
}

/** A value, or why it is missing: never a zero that stands for "unknown". */
export function Value({ loaded, children }: { loaded: Loaded<unknown>; children: ReactNode }) {
  if (loaded.at > 0) return <>{children}</>;
  if (loaded.error) return <span className="unavailable" title={loaded.error.message}>unavailable</span>;
  return <span className="loading">…</span>;
}

export function Problem({ error }: { error: ApiError | null }) {
  if (!error) return null;
  return (
    <div role="alert" className="problem">
      <strong>{error.status ? `${error.status} ${error.title}` : error.title}</strong>
      {error.detail && error.detail !== error.title ? <span>: {error.detail}</span> : null}
    </div>
  );
}

const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export const fmt = {
  n: (v: number) => number.format(v),
  usd: (v: number) => money.format(v),
  kw: (v: number) => `${number.format(v)} kW`,
  mwh: (v: number) => `${money.format(v)}/MWh`,
  time: (ms: number) => (ms ? new Date(ms).toLocaleString() : "—"),
};

export function Badge({ value }: { value: string }) {
  return <span className={`badge badge-${value.toLowerCase().replace(/[^a-z]+/g, "-")}`}>{value}</span>;
}

/** A titled panel. */
export function Card({ title, extra, children }: { title: string; extra?: ReactNode; children: ReactNode }) {
  return (
    <section className="card" aria-label={title}>
      <header>
        <h2>{title}</h2>
        {extra}
      </header>
      {children}
    </section>
  );
}

/** Enum names from proto3 JSON, shown plainly: RESOURCE_MODE_MINING → mining. */
export function plain(value: unknown, prefix: string): string {
  const s = String(value ?? "");
  return (s.startsWith(prefix) ? s.slice(prefix.length) : s).toLowerCase().replace(/_/g, " ") || "—";
}

/** A table's header row: one column header per title (none for a falsy one). */
export function Head({ columns }: { columns: (string | false)[] }) {
  return (
    <thead>
      <tr>
        {columns.filter(Boolean).map((c) => (
          <th key={c as string} scope="col">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}
