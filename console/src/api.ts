// The public /v1 API, as the console calls it: the caller's key as a bearer token, RFC 9457
// problems turned into errors that keep the API's own words, and the live stream (SSE).

const KEY = "hcp.key";

/** The key this tab is signed in with (kept for the tab only, never in localStorage). */
export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, key);
}

/** An API error: the status and the problem's detail (which names the field at fault). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail || title);
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const q = params.toString();
  return q ? `${path}?${q}` : path;
}

async function call<T>(method: string, path: string, query?: Query, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const key = storedKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, "unreachable", `the gateway did not answer (${String(e)})`);
  }
  const text = await response.text();
  const json = text ? safeJson(text) : {};
  if (!response.ok) {
    const p = (json ?? {}) as { title?: string; detail?: string };
    throw new ApiError(response.status, p.title ?? response.statusText, p.detail ?? text);
  }
  return json as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text };
  }
}

export const get = <T>(path: string, query?: Query) => call<T>("GET", path, query);
export const post = <T>(path: string, body?: unknown, query?: Query) => call<T>("POST", path, query, body ?? {});

/** One event of the live stream, as the gateway sends it. */
export interface LiveEvent {
  position: number;
  stream: string;
  version?: number;
  type: string;
  data?: Record<string, unknown>;
  [field: string]: unknown;
}

/**
 * Follows `/v1/events` (Server-Sent Events; the browser reconnects by itself and resumes after
 * the last position it saw). Returns the function that stops it.
 */
export function follow(query: Query, onEvent: (e: LiveEvent) => void, onState?: (live: boolean) => void): () => void {
  const key = storedKey();
  const source = new EventSource(url("/v1/events", { ...query, access_token: key }));
  source.onopen = () => onState?.(true);
  source.onerror = () => onState?.(false);
  source.onmessage = (message) => {
    const event = safeJson(message.data) as LiveEvent;
    if (event && typeof event === "object") onEvent({ ...event, position: Number(message.lastEventId) });
  };
  return () => source.close();
}

/** Unix microseconds (proto3 JSON sends 64-bit integers as strings) as milliseconds. */
export function micros(value: string | number | undefined): number {
  return value === undefined ? 0 : Number(value) / 1000;
}

/** Micro-dollars as dollars. */
export function usd(value: string | number | undefined): number {
  return value === undefined ? 0 : Number(value) / 1e6;
}
