// The desktop app's memory with a large queue: a server with 50,000 cases, the app signed in
// through its window until its cache holds them all, then the resident memory of the app and
// of the WebKit processes it started, from /proc.
// Run: `xvfb-run -a node tests/desktop/memory.bench.mjs` (IDENTDESK_APP for another build).

import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "../e2e/server.mjs";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const APP = process.env.IDENTDESK_APP ?? join(root, "target/release/identdesk");
const CASES = Number(process.env.BENCH_CASES ?? 50_000);
const REVIEWER = "reviewer@demo.identdesk.test";
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const port = 5444 + Math.floor(Math.random() * 1000);
if (!existsSync(APP)) {
  console.error(`${APP} is missing: cargo build --release -p identdesk (or set IDENTDESK_APP)`);
  process.exit(2);
}

async function wd(method, path, body) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await res.json();
  if (answer.value?.error) throw new Error(`${answer.value.error}: ${answer.value.message}`);
  return answer.value;
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
const driver = spawn(join(process.env.HOME, ".cargo/bin/tauri-driver"), ["--port", String(port)], {
  env: { ...process.env, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, IDENTDESK_SERVER: server.url },
  stdio: ["ignore", "ignore", "inherit"],
});
try {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/status`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const { sessionId } = await wd("POST", "/session", { capabilities: { alwaysMatch: { "tauri:options": { application: APP } } } });
  const at = (p) => `/session/${sessionId}${p}`;
  const find = async (css) => (await wd("POST", at("/element"), { using: "css selector", value: css }))[ELEMENT];
  for (let i = 0; i < 100; i++) {
    try {
      await find("input[name=email]");
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const before = Date.now();
  await wd("POST", at(`/element/${await find("input[name=email]")}/value`), { text: REVIEWER });
  await wd("POST", at(`/element/${await find("input[name=password]")}/value`), { text: server.passwords[REVIEWER] });
  await wd("POST", at(`/element/${await find("button[type=submit]")}/click`), {});
    // Synced when the app's cursor has stopped moving for a second.
  let synced = false;
  let last = -1;
  let still = 0;
  for (let i = 0; i < 600 && !synced; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const status = await wd("POST", at("/execute/async"), {
      script: "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('desk_status', {}).then(done, () => done(null));",
      args: [],
    });
    const cursor = status?.lastSyncMs ? status.cursor : -1;
    still = cursor > 0 && cursor === last ? still + 1 : 0;
    last = cursor;
    synced = still >= 5;
  }
  const seconds = (Date.now() - before) / 1000;
  const app = Number(execFileSync("pgrep", ["-n", "-f", APP], { encoding: "utf8" }).trim());
  const { total, parts } = treeRss(app);
  console.log(`signed in and synced ${CASES.toLocaleString()} cases in ${seconds.toFixed(1)} s (${synced ? "complete" : "NOT complete"})`);
  console.log(`desktop app with them: ${Math.round(total / 1024)} MB resident (${parts.join(", ")})`);
  await wd("DELETE", at(""));
} finally {
  driver.kill();
  server.stop();
  rmSync(home, { recursive: true, force: true });
}
