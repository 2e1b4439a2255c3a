// Starts a real identdesk-server on a fresh data folder seeded with the demo, for the browser
// tests; returns its URL, the demo passwords and a stop function.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));

/** `applicants`: the demo's size; `loadCases`: extra queued cases without documents. */
export async function startServer({ applicants = 60, loadCases = 0, bin } = {}) {
  bin ??= process.env.IDENTDESK_SERVER_BIN ?? join(root, "target/debug/identdesk-server");
  const data = mkdtempSync(join(tmpdir(), "identdesk-e2e-"));
  const demo = execFileSync(
    bin,
    ["--data-dir", data, "demo", "--applicants", String(applicants), "--load-cases", String(loadCases)],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  const passwords = {};
  const apiKey = demo.match(/Sandbox API key[^\n]*\n\s*(\S+)/)?.[1];
  for (const line of demo.split("\n")) {
    const m = line.trim().match(/^(\S+)\s+(\S+@demo\.identdesk\.test)\s+(\S+)$/);
    if (m) passwords[m[2]] = m[3];
  }
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = spawn(
    bin,
    ["--data-dir", data, "serve", "--listen", `127.0.0.1:${port}`, "--ui-dir", join(root, "ui/dist")],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  server.stderr.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/api/v1/openapi.json`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    data,
    apiKey,
    passwords,
    log: () => log,
    stop: () => {
      server.kill();
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** Signs in through the API; returns the bearer token. */
export async function token(server, email) {
  const res = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: server.passwords[email] }),
  });
  if (!res.ok) throw new Error(`login ${email}: ${res.status}`);
  return (await res.json()).token;
}

export async function apiGet(server, path, bearer) {
  const res = await fetch(`${server.url}/api/v1${path}`, { headers: { authorization: `Bearer ${bearer}` } });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Headless Chromium as this machine runs it; `extraArgs` add flags (a fake camera, say). */
export async function launchBrowser(extraArgs = []) {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
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
      ...extraArgs,
    ],
  });
}

export async function apiPost(server, path, bearer, body, headers = {}) {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body ?? {}),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

const HIT_LABELS = ["SANCTIONS", "PEP", "BLACKLIST"];

/** Waits for the checks to run on the demo's screened applicants (the server does that when it
 * starts); returns their open cases with a watchlist hit, by label. */
export async function hitCases(server, bearer) {
  for (let i = 0; i < 200; i++) {
    const found = {};
    for (const label of HIT_LABELS) {
      const page = (await apiGet(server, `/cases?label=${label}&undecided=true`, bearer)).body;
      found[label] = page.items;
    }
    if (HIT_LABELS.every((l) => found[l].length > 0)) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the demo's screened applicants were not checked within 20 s");
}

/** Decides the open cases with watchlist hits through the API (assigned to `reviewer`, hits
 * dismissed, approved), so that "next case" hands out only cases that may be approved. */
export async function clearHitCases(server, reviewer, supervisor) {
  const sup = await token(server, supervisor);
  const rev = await token(server, reviewer);
  const me = (await apiGet(server, "/auth/me", rev)).body;
  for (const cases of Object.values(await hitCases(server, sup))) {
    for (const c of cases) {
      await apiPost(server, `/cases/${c.id}/assign`, sup, { userId: me.id });
      const detail = (await apiGet(server, `/cases/${c.id}`, rev)).body;
      const screening = detail.verdict.results.find((r) => r.check === "screening");
      for (const hit of screening.details.hits) {
        await apiPost(server, `/cases/${c.id}/hits`, rev, { entityId: hit.entityId, resolution: "dismissed" });
      }
      const decided = await apiPost(server, `/cases/${c.id}/decision`, rev, { answer: "GREEN", labels: [], version: detail.case.version }, { "idempotency-key": `clear-${c.id}` });
      if (decided.status !== 201) throw new Error(`clearing ${c.id}: ${JSON.stringify(decided.body)}`);
      // A watchlist hit needs four eyes: the supervisor confirms the staged approval.
      if (decided.body.status === "staged") await confirmStaged(server, sup, c.applicantId);
    }
  }
}

/** The supervisor takes the applicant's open four-eyes case and confirms the staged approval. */
async function confirmStaged(server, sup, applicantId) {
  const me = (await apiGet(server, "/auth/me", sup)).body;
  const open = (await apiGet(server, `/cases?applicantId=${applicantId}&kind=four_eyes&undecided=true`, sup)).body;
  for (const f of open.items) {
    const held = await apiPost(server, `/cases/${f.id}/assign`, sup, { userId: me.id });
    const body = { answer: "GREEN", labels: [], version: held.body.version };
    const confirmed = await apiPost(server, `/cases/${f.id}/decision`, sup, body, { "idempotency-key": `confirm-${f.id}` });
    if (confirmed.status !== 201) throw new Error(`confirming ${f.id}: ${JSON.stringify(confirmed.body)}`);
  }
}

/** Signs in through the sign-in screen of `page` and waits for the queue. */
export async function signIn(page, server, email) {
  await page.goto(server.url + "/");
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", server.passwords[email]);
  await page.click("button[type=submit]");
  await page.waitForSelector("text=Start reviewing");
}
