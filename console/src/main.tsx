// The console's entry: sign in with an API key, then the pages the key's roles may see.

import { StrictMode, useEffect, useState, type FormEvent, type ReactElement } from "react";
import { createRoot } from "react-dom/client";
import { ApiError, get, storeKey, storedKey } from "./api";
import { Palette } from "./palette";
import { Link, navigate, usePath } from "./router";
import { Session, isPlatform, type Me } from "./session";
import { Problem } from "./ui";
import { Overview } from "./pages/overview";
import { Resources, ResourceDetail } from "./pages/resources";
import { Workloads, WorkloadDetail, SubmitWorkload } from "./pages/workloads";
import { Energy } from "./pages/energy";
import { Billing } from "./pages/billing";
import "./styles.css";

export interface Page {
  path: string;
  title: string;
  platform: boolean;
}

/** The pages in the navigation, and who sees them. */
export const PAGES: Page[] = [
  { path: "/", title: "Overview", platform: true },
  { path: "/resources", title: "Resources", platform: true },
  { path: "/workloads", title: "Workloads", platform: false },
  { path: "/energy", title: "Energy", platform: true },
  { path: "/billing", title: "Billing", platform: false },
];

function Login({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    storeKey(key.trim());
    try {
      onSignedIn(await get<Me>("/v1/me"));
    } catch (err) {
      storeKey(null);
      setError(err as ApiError);
    }
  };
  return (
    <main className="login">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>HCP</h1>
        <p>Sign in with an API key (`hcp up` prints the demo keys).</p>
        <label htmlFor="key">API key</label>
        <input
          id="key"
          type="password"
          autoComplete="off"
          placeholder="hcp_..."
          value={key}
          onChange={(e) => setKey(e.target.value)}
          required
          autoFocus
        />
        <button type="submit">Sign in</button>
        <Problem error={error} />
      </form>
    </main>
  );
}

function Forbidden() {
  return (
    <div role="alert" className="problem">
      This page is for the platform's operators; your key is a tenant's.
    </div>
  );
}

function Content({ me }: { me: Me }) {
  const { path } = usePath();
  const platform = isPlatform(me);
  const guard = (page: ReactElement) => (platform ? page : <Forbidden />);
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  };
  const parts = path.split("/").filter(Boolean).map(decode);
  switch (parts[0]) {
    case undefined:
      return platform ? <Overview /> : <Workloads />;
    case "resources":
      return guard(parts[1] ? <ResourceDetail id={parts[1]} /> : <Resources />);
    case "workloads":
      if (parts[1] === "new") return <SubmitWorkload />;
      return parts[1] ? <WorkloadDetail id={parts[1]} /> : <Workloads />;
    case "energy":
      return guard(<Energy />);
    case "billing":
      return <Billing />;
    default:
      return (
        <div role="alert" className="problem">
          No page at {path}. <Link to="/">Go to the start</Link>.
        </div>
      );
  }
}

function Shell({ me, signOut }: { me: Me; signOut: () => void }) {
  const platform = isPlatform(me);
  const pages = PAGES.filter((p) => platform || !p.platform);
  const [menu, setMenu] = useState(false);
  usePath();
  return (
    <Session.Provider value={me}>
      <a href="#main" className="skip">
        Skip to content
      </a>
      <header className="top">
        <strong className="brand">HCP</strong>
        <button className="menu" aria-expanded={menu} aria-controls="nav" onClick={() => setMenu(!menu)}>
          Menu
        </button>
        <nav id="nav" aria-label="Pages" className={menu ? "open" : ""} onClick={() => setMenu(false)}>
          {pages.map((p) => (
            <Link key={p.path} to={p.path}>
              {p.title}
            </Link>
          ))}
        </nav>
        <span className="who" title={me.roles.join(", ")}>
          {me.tenant ? `tenant ${me.tenant}` : "platform"} · {me.roles.join(", ")}
        </span>
        <kbd className="hint" title="Command palette">
          Ctrl K
        </kbd>
        <button onClick={signOut}>Sign out</button>
      </header>
      <main id="main" tabIndex={-1}>
        <Content me={me} />
      </main>
      <Palette pages={pages} />
    </Session.Provider>
  );
}

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(storedKey() !== null);
  useEffect(() => {
    if (!storedKey()) return;
    get<Me>("/v1/me")
      .then(setMe, () => storeKey(null))
      .finally(() => setChecking(false));
  }, []);
  if (checking) return <p className="loading">Signing in…</p>;
  if (!me) return <Login onSignedIn={setMe} />;
  return (
    <Shell
      me={me}
      signOut={() => {
        storeKey(null);
        setMe(null);
        navigate("/");
      }}
    />
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
