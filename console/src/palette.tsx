// The command palette (Ctrl+K or Cmd+K): go to any page, open a workload or a device by its
// id, submit a workload; arrows to choose, Enter to go, Escape to close.

import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { navigate } from "./router";
import { isPlatform, useMe } from "./session";

interface Command {
  label: string;
  to: string;
}

export function Palette({ pages }: { pages: { path: string; title: string }[] }) {
  const me = useMe();
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const before = useRef<Element | null>(null);

  useEffect(() => {
    const key = (e: globalThis.KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
        e.preventDefault();
        before.current = document.activeElement;
        setOpen((o) => !o);
        setText("");
        setActive(0);
      }
    };
    window.addEventListener("keydown", key);
    return () => window.removeEventListener("keydown", key);
  }, []);
  useEffect(() => {
    if (open) input.current?.focus();
    else if (before.current instanceof HTMLElement) before.current.focus();
  }, [open]);

  const commands = useMemo(() => {
    const all: Command[] = [
      ...pages.map((p) => ({ label: `Go to ${p.title}`, to: p.path })),
      { label: "Submit a workload", to: "/workloads/new" },
    ];
    const q = text.trim();
    if (q) {
      all.push({ label: `Open workload ${q}`, to: `/workloads/${encodeURIComponent(q)}` });
      if (isPlatform(me)) all.push({ label: `Open device ${q}`, to: `/resources/${encodeURIComponent(q)}` });
      all.push({ label: `Search workloads for "${q}"`, to: `/workloads?q=${encodeURIComponent(q)}` });
      if (isPlatform(me)) all.push({ label: `Search devices for "${q}"`, to: `/resources?q=${encodeURIComponent(q)}` });
    }
    const words = q.toLowerCase().split(/\s+/).filter(Boolean);
    const matching = all.filter((c) => words.every((w) => c.label.toLowerCase().includes(w)));
    return matching.length ? matching : all;
  }, [pages, text, me]);

  if (!open) return null;
  const go = (c: Command | undefined) => {
    if (!c) return;
    setOpen(false);
    navigate(c.to);
  };
  const keys = (e: KeyboardEvent) => {
    if (e.key === "Escape") setOpen(false);
    else if (e.key === "ArrowDown") {
      e.preventDefault();
      setActive((a) => Math.min(a + 1, commands.length - 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (e.key === "Enter") go(commands[active]);
  };
  return (
    <div className="scrim" onClick={() => setOpen(false)}>
      <div role="dialog" aria-modal="true" aria-label="Command palette" className="palette" onClick={(e) => e.stopPropagation()}>
        <input
          ref={input}
          aria-label="Command"
          role="combobox"
          aria-expanded="true"
          aria-controls="commands"
          aria-activedescendant={`command-${active}`}
          placeholder="Type a page, a command or an id…"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setActive(0);
          }}
          onKeyDown={keys}
        />
        <ul id="commands" role="listbox" aria-label="Commands">
          {commands.map((c, i) => (
            <li
              key={c.label}
              id={`command-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseEnter={() => setActive(i)}
              onClick={() => go(c)}
            >
              {c.label}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
