// Starts a real identdesk-server on a fresh data folder seeded with the demo, for the browser
// tests; returns its URL, the demo passwords and a stop function.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));

export async function startServer() {
  const bin = process.env.IDENTDESK_SERVER_BIN ?? join(root, "target/debug/identdesk-server");
  const data = mkdtempSync(join(tmpdir(), "identdesk-e2e-"));
  const demo = execFileSync(bin, ["--data-dir", data, "demo", "--applicants", "60"], { encoding: "utf8" });
  const passwords = {};
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

export async function launchBrowser() {
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
    ],
  });
}
