// Client-side paths (the gateway answers index.html for any path outside /v1 and /assets):
// a link changes the URL without a reload, and back and forward work.

import { useEffect, useState, type MouseEvent, type ReactNode } from "react";

const listeners = new Set<() => void>();

export function navigate(to: string): void {
  if (to === location.pathname + location.search) return;
  history.pushState(null, "", to);
  listeners.forEach((l) => l());
  // A screen reader hears the new page: the title names it, focus goes to its content.
  requestAnimationFrame(() => {
    const heading = document.querySelector("main h1")?.textContent?.trim();
    document.title = heading ? `${heading} · HCP` : "HCP console";
    document.getElementById("main")?.focus({ preventScroll: true });
  });
}

export function usePath(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const changed = () => setTick((t) => t + 1);
    listeners.add(changed);
    window.addEventListener("popstate", changed);
    return () => {
      listeners.delete(changed);
      window.removeEventListener("popstate", changed);
    };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** Replaces the query string (filters kept in the URL, so a page can be shared and reloaded). */
export function setQuery(values: Record<string, string>): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) q.set(k, v);
  const s = q.toString();
  history.replaceState(null, "", s ? `${location.pathname}?${s}` : location.pathname);
  listeners.forEach((l) => l());
}

export function Link({ to, children, className, label }: { to: string; children: ReactNode; className?: string; label?: string }) {
  const click = (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(to);
  };
  const current = location.pathname === to || (to !== "/" && location.pathname.startsWith(`${to}/`));
  return (
    <a href={to} onClick={click} className={className} aria-label={label} aria-current={current ? "page" : undefined}>
      {children}
    </a>
  );
}
