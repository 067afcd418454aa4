// The console's figures, in Debian's Chromium against a running `hcp up`:
// - first load to interactive on the overview (a fresh browser context each time: nothing
//   cached; from navigation start to the first site's power tile showing kW), against the same
//   browser loading the gateway's bare /v1/health, the raw engine;
// - the JavaScript and CSS transferred on that load (bytes on the wire, compressed);
// - the delay from an event to the page showing it: a workload paused and resumed over the API
//   while its page is open; the event's recorded time against the moment the page's status
//   changed (one machine, one clock).
//
//   node tests/bench.mjs <gateway URL> <admin key> <developer key>
//
// Prints `bench: <name> = <value> <unit>` lines.

import { chromium } from "playwright-core";

const [base, adminKey, devKey] = process.argv.slice(2);
const LAUNCH = {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
};
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const print = (name, value, unit) => console.log(`bench: ${name} = ${value} ${unit}`);

async function api(method, path, key, body) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  return r.json();
}

const browser = await chromium.launch(LAUNCH);
try {
  // First load to interactive, and what it transfers.
  const loads = [];
  const raw = [];
  let js = 0;
  let css = 0;
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    await context.addInitScript((key) => sessionStorage.setItem("hcp.key", key), adminKey);
    const page = await context.newPage();
    const sizes = [];
    page.on("requestfinished", (request) => sizes.push(request));
    await page.goto(`${base}/`);
    await page.waitForFunction(() => document.querySelector(".tile .big")?.textContent?.includes("kW"));
    loads.push(await page.evaluate(() => performance.now()));
    if (i === 0) {
      for (const request of sizes) {
        const type = request.resourceType();
        if (type !== "script" && type !== "stylesheet") continue;
        const { responseBodySize, responseHeadersSize } = await request.sizes();
        if (type === "script") js += responseBodySize + responseHeadersSize;
        else css += responseBodySize + responseHeadersSize;
      }
    }
    await context.close();
    const bare = await browser.newContext();
    const health = await bare.newPage();
    await health.goto(`${base}/v1/health`);
    raw.push(await health.evaluate(() => performance.now()));
    await bare.close();
  }
  const p50 = quantile(loads, 0.5);
  print("console first load to interactive p50", p50.toFixed(0), "ms");
  print("console first load to interactive p90", quantile(loads, 0.9).toFixed(0), "ms");
  print("browser bare page load p50 (raw)", quantile(raw, 0.5).toFixed(0), "ms");
  print("console first load / bare page load", (p50 / quantile(raw, 0.5)).toFixed(1), "x");
  print("console JavaScript transferred", (js / 1024).toFixed(1), "KiB");
  print("console CSS transferred", (css / 1024).toFixed(1), "KiB");

  // Event to page.
  const context = await browser.newContext();
  await context.addInitScript((key) => sessionStorage.setItem("hcp.key", key), devKey);
  const page = await context.newPage();
  const created = await api("POST", "/v1/workloads", devKey, {
    kind: "WORKLOAD_KIND_TRAINING",
    gpu_model: "h100-sxm-80gb",
    gpu_count: 1,
    memory_mib: 1024,
    max_run_time_seconds: 3600,
  });
  const id = created.workloadId;
  await page.goto(`${base}/workloads/${id}`);
  await page.getByTestId("status").getByText("running").waitFor({ timeout: 30_000 });
  await page.getByText("● live").waitFor();
  const delays = [];
  for (let i = 0; i < RUNS; i++) {
    for (const [action, status, type] of [["pause", "paused", "workload.paused"], ["resume", "running", "workload.resumed"]]) {
      // The watch is in place before the change is asked for.
      await page.evaluate((want) => {
        window.__shown = new Promise((resolve) => {
          const check = () => {
            if (document.querySelector('[data-testid="status"] strong')?.textContent === want) resolve(Date.now());
          };
          new MutationObserver(check).observe(document.body, { subtree: true, childList: true, characterData: true });
        });
      }, status);
      // The bench acts with the admin's key: the page's own requests use the tenant's rate.
      await api("POST", `/v1/workloads/${id}/${action}`, adminKey);
      const at = await page.evaluate(() => window.__shown);
      const history = await api("GET", `/v1/workloads/${id}/history`, adminKey);
      if (!history.events) throw new Error(`history: ${JSON.stringify(history)}`);
      const event = history.events.filter((e) => e.eventType === type).at(-1);
      delays.push(at - Number(event.timeUnixMicros) / 1000);
    }
  }
  print("console event to page p50", quantile(delays, 0.5).toFixed(0), "ms");
  print("console event to page p99", quantile(delays, 0.99).toFixed(0), "ms");
  await api("POST", `/v1/workloads/${id}/cancel`, devKey);
} finally {
  await browser.close();
}
