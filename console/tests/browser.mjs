// The console in a real browser (Debian's Chromium driven by playwright-core) against a running
// `hcp up`: sign in with a key, see the fleet, search and sort devices, open a device, preview a
// curtailment, use the command palette, see what a spec would cost as it is written, submit a
// workload (a bad one first: the API's message, by field) and watch it reach running without a
// reload; a customer's key cannot see the operator's pages; a phone's width. Screenshots of
// each page go to $OUT.
//
//   node tests/browser.mjs <gateway URL> <admin key> <tenant developer key> <screenshot dir>
//
// Exits non-zero, naming the check, at the first that fails.

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const [base, adminKey, devKey, out] = process.argv.slice(2);
/** Dollars as the console writes them. */
const dollars = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
if (!base || !adminKey || !devKey || !out) {
  console.error("usage: node tests/browser.mjs <gateway URL> <admin key> <developer key> <screenshot dir>");
  process.exit(2);
}
mkdirSync(out, { recursive: true });

export const LAUNCH = {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

let step = "start";
/** The page the current step is on (its text is printed when a check fails). */
let current = null;
function check(ok, what) {
  if (!ok) throw new Error(`${step}: ${what}`);
}

async function shot(page, name) {
  await page.screenshot({ path: `${out}/${name}.png`, fullPage: true });
}

async function signIn(page, key) {
  await page.goto(base);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** Every control has an accessible name. */
async function named(page) {
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll("button, input, select, a[href]")]
      .filter((el) => {
        const label = el.getAttribute("aria-label") || (el.labels && el.labels.length ? "l" : "") || el.textContent?.trim();
        return !label;
      })
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  check(unnamed.length === 0, `controls without an accessible name: ${unnamed.join(" | ")}`);
}

async function api(method, path, key, body) {
  for (;;) {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (r.status === 429) {
      // The key's rate: wait as told, then again.
      await new Promise((resolve) => setTimeout(resolve, 1000 * Number(r.headers.get("retry-after") ?? 1)));
      continue;
    }
    return { status: r.status, json: await r.json().catch(() => null) };
  }
}

const errors = [];
const logs = [];
/** Every URL the console asked for: a key must never be in one (proxies log URLs). */
const urls = [];
const browser = await chromium.launch(LAUNCH);
try {
  // The operator.
  const operator = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await operator.newPage();
  current = page;
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on("request", (r) => urls.push(r.url()));

  step = "sign in (operator)";
  await signIn(page, adminKey);
  check(await page.getByText("platform · admin").isVisible(), "the header names the platform admin");

  step = "overview";
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  const site = page.locator("section.card").first();
  await site.waitFor();
  await page.getByRole("heading", { name: /^Site / }).first().waitFor();
  await page.waitForFunction(() => document.querySelector(".tile .big")?.textContent?.includes("kW"));
  // Every tile has its value (or says why not): nothing still loading.
  await page.waitForFunction(() => {
    const card = document.querySelector("section.card");
    return card && !card.textContent.includes("…") && card.textContent.includes("/MWh");
  });
  const tiles = await site.locator(".tile").allTextContents();
  check(tiles.some((t) => /Power now \/ cap[\s\S]*kW[\s\S]*\/[\s\S]*kW/.test(t)), `power against the cap: ${tiles.join(" | ")}`);
  check(tiles.some((t) => t.includes("$") && t.includes("/MWh")), `the price: ${tiles.join(" | ")}`);
  await page.waitForFunction(() => document.body.textContent?.includes("Breakeven by model"));
  await page.waitForFunction(() => document.querySelectorAll('[aria-label^="Fleet health at"]').length > 0);
  check(!(await site.textContent()).includes("NaN"), "no NaN on the overview");
  await named(page);
  await shot(page, "overview");

  step = "resources";
  await page.getByRole("link", { name: "Resources" }).click();
  await page.getByRole("heading", { name: "Resources" }).waitFor();
  await page.waitForSelector("table.rows tbody tr");
  const count = await page.locator("p.count").textContent();
  check(/\d+ devices, 1–50 shown/.test(count ?? ""), `a page of 50 and the total: ${count}`);
  await page.getByRole("searchbox", { name: "Search" }).fill("gpu-host-0");
  await page.waitForFunction(() => /^\d+ devices/.test(document.querySelector("p.count")?.textContent ?? "") && [...document.querySelectorAll("table.rows tbody tr td:first-child")].every((td) => td.textContent?.startsWith("gpu-")));
  await page.getByRole("searchbox", { name: "Search" }).fill("");
  await page.getByRole("button", { name: "Sort by Power" }).click();
  await page.getByRole("button", { name: "Sort by Power" }).click();
  await page.waitForFunction(() => new URL(location.href).searchParams.get("sort") === "-power");
  await page.waitForFunction(() => {
    const watts = [...document.querySelectorAll("table.rows tbody tr td:nth-child(7)")].map((td) => parseFloat((td.textContent ?? "").replace(/,/g, "")) || 0);
    return watts.length > 1 && watts.every((w, i) => i === 0 || w <= watts[i - 1]) && watts[0] > 1000;
  });
  await page.getByRole("button", { name: "Next" }).click();
  await page.waitForFunction(() => / 51–\d+ shown/.test(document.querySelector("p.count")?.textContent ?? ""));
  await named(page);
  await shot(page, "resources");

  step = "a device";
  const first = page.locator("table.rows tbody tr td:first-child a").first();
  const deviceId = await first.textContent();
  await first.click();
  await page.getByRole("heading", { name: deviceId }).waitFor();
  await page.getByRole("img", { name: /^Power/ }).waitFor();
  await page.waitForSelector(".timeline li");
  check((await page.locator(".timeline").textContent()).includes("resource.registered"), "its history starts with its registration");
  await shot(page, "resource");

  step = "energy";
  await page.getByRole("link", { name: "Energy" }).click();
  await page.getByRole("img", { name: /Power price and mining share/ }).waitFor();
  await page.getByRole("button", { name: "Preview curtail" }).click();
  await page.getByText(/Curtailing would move \d+ miners/).waitFor();
  await named(page);
  await shot(page, "energy");
  await page.getByRole("button", { name: "Discard" }).click();

  step = "command palette";
  await page.keyboard.press("Control+k");
  await page.getByRole("dialog", { name: "Command palette" }).waitFor();
  await page.getByRole("combobox", { name: "Command" }).fill("billing");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/billing$/);
  await page.getByRole("heading", { name: "Billing" }).waitFor();
  await page.keyboard.press("Control+k");
  await page.keyboard.press("Escape");
  check((await page.getByRole("dialog").count()) === 0, "Escape closes the palette");

  step = "phone width";
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/`);
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  check(await page.getByRole("button", { name: "Menu" }).isVisible(), "a menu button on a phone");
  check(!(await page.getByRole("link", { name: "Resources" }).isVisible()), "the pages fold into the menu");
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  check(wide <= 390, `nothing wider than the phone (${wide}px)`);
  await page.waitForFunction(() => document.querySelector(".tile .big")?.textContent?.includes("kW"));
  await shot(page, "overview-phone");
  await page.getByRole("button", { name: "Menu" }).click();
  await page.getByRole("link", { name: "Resources" }).click();
  await page.getByRole("heading", { name: "Resources" }).waitFor();
  check(errors.length === 0, `no script errors: ${errors.join("; ")}`);

  // The customer.
  const customer = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const cpage = await customer.newPage();
  current = cpage;
  cpage.on("pageerror", (e) => errors.push(String(e)));
  cpage.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  cpage.on("request", (r) => urls.push(r.url()));

  step = "sign in (customer)";
  await cpage.goto(base);
  await cpage.getByLabel("API key").fill("hcp_not_a_key");
  await cpage.getByRole("button", { name: "Sign in" }).click();
  await cpage.getByRole("alert").waitFor();
  check((await cpage.getByRole("alert").textContent()).includes("401"), "a wrong key is refused, saying so");
  await signIn(cpage, devKey);
  await cpage.getByRole("heading", { name: /^Workloads/ }).waitFor();
  const nav = await cpage.getByRole("navigation", { name: "Pages" }).textContent();
  check(!nav.includes("Overview") && !nav.includes("Resources") && !nav.includes("Energy"), `no operator pages in a customer's menu: ${nav}`);
  await cpage.goto(`${base}/resources`);
  await cpage.getByText("This page is for the platform's operators").waitFor();
  const refused = await api("GET", "/v1/resources", devKey);
  check(refused.status === 403, `the API refuses a customer the fleet too (${refused.status})`);

  step = "live list";
  await cpage.goto(`${base}/workloads`);
  await cpage.getByText("● live").waitFor();
  await cpage.evaluate(() => (window.__sameDocument = true));
  const submitted = await api("POST", "/v1/workloads", devKey, {
    kind: "WORKLOAD_KIND_BATCH_INFERENCE",
    gpu_model: "h100-sxm-80gb",
    gpu_count: 1,
    memory_mib: 1024,
    max_run_time_seconds: 600,
  });
  check(submitted.status === 201, `submitted over the API (${submitted.status})`);
  const row = cpage.locator("tr", { hasText: submitted.json.workloadId });
  await row.waitFor({ timeout: 10_000 });
  await row.getByText("running").waitFor({ timeout: 15_000 });
  check(await cpage.evaluate(() => window.__sameDocument === true), "the list updated without a reload");

  step = "submit form";
  await cpage.getByRole("link", { name: "Submit a workload" }).click();
  await cpage.getByRole("heading", { name: "Submit a workload" }).waitFor();
  const form = { kind: "WORKLOAD_KIND_TRAINING", gpu_model: "h100-sxm-80gb", memory_mib: 1024, max_run_time_seconds: 3600, priority: 5, preemptible: true };
  const estimated = async (gpus) => {
    const priced = await api("POST", "/v1/estimate", devKey, { spec: { ...form, gpu_count: gpus } });
    check(priced.status === 200, `estimated over the API (${priced.status}: ${JSON.stringify(priced.json)})`);
    const total = dollars.format(Number(priced.json.totalUsdMicros ?? 0) / 1e6);
    await cpage.getByTestId("estimate").getByText(total).waitFor({ timeout: 5_000 });
    return total;
  };
  const one = await estimated(1);
  await cpage.getByLabel("GPUs").fill("3");
  const three = await estimated(3);
  check(one !== three, `the estimate follows the form (${one} for one GPU, ${three} for three)`);
  await cpage.getByLabel("GPUs").fill("0");
  await cpage.getByTestId("estimate").getByText(/No estimate: .*gpu_count/).waitFor({ timeout: 5_000 });
  await cpage.getByRole("button", { name: "Submit" }).click();
  await cpage.getByRole("alert").waitFor();
  const message = await cpage.getByRole("alert").textContent();
  check(message.includes("gpu_count"), `the API's message names the field: ${message}`);
  check((await cpage.getByLabel("GPUs").getAttribute("aria-invalid")) === "true", "the field is marked invalid");
  await named(cpage);
  await shot(cpage, "submit");
  await cpage.getByLabel("GPUs").fill("2");
  await cpage.evaluate(() => (window.__sameDocument = true));
  await cpage.getByRole("button", { name: "Submit" }).click();
  await cpage.waitForURL(/\/workloads\/[0-9a-f-]{36}$/);
  await cpage.getByTestId("status").getByText("running").waitFor({ timeout: 30_000 });
  check(await cpage.evaluate(() => window.__sameDocument === true), "its page followed it without a reload");
  await cpage.waitForFunction(() => (document.querySelector(".timeline")?.textContent ?? "").includes("workload.started"), null, { timeout: 10_000 });
  await shot(cpage, "workload");

  step = "pause and resume";
  await cpage.getByRole("button", { name: "Pause" }).click();
  await cpage.getByTestId("status").getByText("paused").waitFor({ timeout: 15_000 });
  await cpage.getByRole("button", { name: "Resume" }).click();
  await cpage.getByTestId("status").getByText(/running|queued/).waitFor({ timeout: 15_000 });
  await cpage.getByRole("button", { name: "Cancel" }).click();
  await cpage.getByTestId("status").getByText("cancelled").waitFor({ timeout: 15_000 });

  step = "workload list";
  await cpage.getByRole("link", { name: "← Workloads" }).click();
  await cpage.waitForSelector("table.rows tbody tr");
  await named(cpage);
  await shot(cpage, "workloads");

  step = "billing";
  await cpage.getByRole("link", { name: "Billing" }).click();
  await cpage.getByRole("heading", { name: "This period so far (preview)" }).waitFor();
  await cpage.waitForFunction(() => document.body.textContent?.includes("Total"));
  await shot(cpage, "billing");

  step = "more workloads";
  // Past one page of the API's (100): the list offers the next.
  const listed = (await api("GET", "/v1/workloads?page_size=1000", devKey)).json.workloads.length;
  for (let i = listed; i < 105; i++) {
    const more = await api("POST", "/v1/workloads", adminKey, {
      tenant: "demo",
      kind: "WORKLOAD_KIND_BATCH_INFERENCE",
      gpu_model: "l40s-48gb",
      gpu_count: 1,
      memory_mib: 1024,
      max_run_time_seconds: 60,
      priority: 0,
    });
    check(more.status === 201, `submitted (${more.status}: ${JSON.stringify(more.json)})`);
  }
  await cpage.getByRole("link", { name: "Workloads" }).click();
  await cpage.getByRole("button", { name: "More workloads" }).waitFor();
  check((await cpage.locator("table.rows tbody tr").count()) === 100, "one page of 100 first");
  await cpage.getByRole("button", { name: "More workloads" }).click();
  await cpage.waitForFunction(() => document.querySelectorAll("table.rows tbody tr").length >= 105);
  check((await cpage.getByRole("button", { name: "More workloads" }).count()) === 0, "no more after the last page");
  check(errors.length === 0, `no script errors: ${errors.join("; ")}`);
  step = "keys";
  const leaked = urls.filter((u) => u.includes(adminKey) || u.includes(devKey) || u.includes("access_token"));
  check(urls.some((u) => u.includes("/v1/events")), "the live stream was followed");
  check(leaked.length === 0, `a key in a URL: ${leaked.join(" ")}`);
  console.log(`browser: every check passed; screenshots in ${out}`);
} catch (e) {
  console.error(`browser check failed at "${step}": ${e.message ?? e}`);
  const text = await current?.evaluate(() => document.body.innerText).catch(() => "");
  console.error(`the page (${current?.url()}) showed:\n${(text ?? "").slice(0, 3000)}`);
  console.error(`script errors: ${errors.join("; ") || "none"}; console: ${logs.slice(-20).join(" | ") || "nothing"}`);
  await current?.screenshot({ path: `${out}/failure.png`, fullPage: true }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
