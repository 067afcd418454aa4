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
 * Follows `/v1/events` (Server-Sent Events), read with fetch so that the key travels in the
 * Authorization header (EventSource cannot set one, and a key in the URL lands in proxies'
 * logs). It reconnects by itself, with a growing pause, resuming after the last position it
 * saw (`Last-Event-ID`), so nothing is missed. Returns the function that stops it.
 */
export function follow(query: Query, onEvent: (e: LiveEvent) => void, onState?: (live: boolean) => void): () => void {
  const stop = new AbortController();
  let after: string | null = null;
  const read = async (response: Response) => {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n/g, "\n");
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id: string | null = null;
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("id:")) id = line.slice(3).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (id) after = id;
        const event = data.length ? (safeJson(data.join("\n")) as LiveEvent) : null;
        if (event && typeof event === "object") onEvent({ ...event, position: Number(id) });
      }
    }
  };
  void (async () => {
    let pause = 500;
    while (!stop.signal.aborted) {
      try {
        const headers: Record<string, string> = { Accept: "text/event-stream" };
        const key = storedKey();
        if (key) headers.Authorization = `Bearer ${key}`;
        if (after) headers["Last-Event-ID"] = after;
        const response = await fetch(url("/v1/events", query), { headers, signal: stop.signal });
        if (response.ok && response.body) {
          onState?.(true);
          pause = 500;
          await read(response);
        }
      } catch {
        // Dropped or refused: try again after the pause (unless stopped).
      }
      if (stop.signal.aborted) return;
      onState?.(false);
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 10_000);
    }
  })();
  return () => stop.abort();
}

/** Unix microseconds (proto3 JSON sends 64-bit integers as strings) as milliseconds. */
export function micros(value: string | number | undefined): number {
  return value === undefined ? 0 : Number(value) / 1000;
}

/** Micro-dollars as dollars. */
export function usd(value: string | number | undefined): number {
  return value === undefined ? 0 : Number(value) / 1e6;
}
