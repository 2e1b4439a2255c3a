// The desktop app's memory with a large queue: a server with 50,000 cases, the app signed in
// through its window until its cache holds them all, then the resident memory of the app and
// of the WebKit processes it started, from /proc.
// Run: `xvfb-run -a node tests/desktop/memory.bench.mjs` (IDENTDESK_APP for another build).

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "../e2e/server.mjs";
import { openApp } from "./webdriver.mjs";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const APP = process.env.IDENTDESK_APP ?? join(root, "target/release/identdesk");
const CASES = Number(process.env.BENCH_CASES ?? 50_000);
const REVIEWER = "reviewer@demo.identdesk.test";
if (!existsSync(APP)) {
  console.error(`${APP} is missing: cargo build --release -p identdesk (or set IDENTDESK_APP)`);
  process.exit(2);
}

/** Resident memory (kB) of a process and every process below it. */
function treeRss(pid) {
  let total = 0;
  const parts = [];
  const walk = (p) => {
    let status;
    try {
      status = readFileSync(`/proc/${p}/status`, "utf8");
    } catch {
      return;
    }
    const rss = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
    const name = status.match(/Name:\s+(\S+)/)?.[1] ?? "?";
    total += rss;
    parts.push(`${name} ${Math.round(rss / 1024)} MB`);
    for (const child of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = readFileSync(`/proc/${child}/stat`, "utf8");
        if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === p) walk(Number(child));
      } catch {
        // Gone meanwhile.
      }
    }
  };
  walk(pid);
  return { total, parts };
}

console.log(`seeding ${CASES.toLocaleString()} cases…`);
const server = await startServer({ applicants: 10, loadCases: CASES });
const home = mkdtempSync(join(tmpdir(), "identdesk-memory-"));
const app = await openApp(APP, { XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, IDENTDESK_SERVER: server.url });
try {
  const before = Date.now();
  await app.type("input[name=email]", REVIEWER);
  await app.type("input[name=password]", server.passwords[REVIEWER]);
  await app.click("button[type=submit]");
  // Synced when the app's cursor has stopped moving for a second.
  let synced = false;
  let last = -1;
  let still = 0;
  for (let i = 0; i < 600 && !synced; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const status = await app.run(
      "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('desk_status', {}).then(done, () => done(null));",
    );
    const cursor = status?.lastSyncMs ? status.cursor : -1;
    still = cursor > 0 && cursor === last ? still + 1 : 0;
    last = cursor;
    synced = still >= 5;
  }
  const seconds = (Date.now() - before) / 1000;
  const pid = Number(execFileSync("pgrep", ["-n", "-f", APP], { encoding: "utf8" }).trim());
  const { total, parts } = treeRss(pid);
  console.log(`signed in and synced ${CASES.toLocaleString()} cases in ${seconds.toFixed(1)} s (${synced ? "complete" : "NOT complete"})`);
  console.log(`desktop app with them: ${Math.round(total / 1024)} MB resident (${parts.join(", ")})`);
} finally {
  await app.close();
  server.stop();
  rmSync(home, { recursive: true, force: true });
}
