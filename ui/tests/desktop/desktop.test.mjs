// The desktop app's real window, driven through WebDriver (tauri-driver in front of WebKit's
// WebKitWebDriver), against a real identdesk-server with demo data: sign in, claim a case,
// decide it; the decision is on the server, and the status line says "online".
// Run under a display, e.g. `xvfb-run -a npm run desktop`; needs target/debug/identdesk built.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, token, apiGet } from "../e2e/server.mjs";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const APP = process.env.IDENTDESK_APP ?? join(root, "target/debug/identdesk");
const REVIEWER = "reviewer@demo.identdesk.test";
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const port = 4444 + Math.floor(Math.random() * 1000);

let server;
let driver;
let home;
let session;

/** One W3C WebDriver call; an error answer throws with its message. */
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

const at = (path) => `/session/${session}${path}`;

/** Waits for an element matching `css` (and containing `text`, if given); returns its id. */
async function waitFor(css, text, ms = 20000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const found = await wd("POST", at("/elements"), { using: "css selector", value: css });
      for (const el of found) {
        const id = el[ELEMENT];
        if (!text || (await wd("GET", at(`/element/${id}/text`))).includes(text)) return id;
      }
    } catch {
      // Not there yet.
    }
    if (Date.now() > until) throw new Error(`no ${css}${text ? ` with "${text}"` : ""} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  if (!existsSync(APP)) throw new Error(`${APP} is missing: cargo build -p identdesk`);
  server = await startServer({ applicants: 20 });
  home = mkdtempSync(join(tmpdir(), "identdesk-desktop-"));
  driver = spawn("tauri-driver", ["--port", String(port)], {
    // The app's data (its cache) in a folder of its own; the server it signs in to.
    env: { ...process.env, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, IDENTDESK_SERVER: server.url },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/status`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const created = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: APP } } },
  });
  session = created.sessionId;
});

after(async () => {
  if (session) await wd("DELETE", at("")).catch(() => undefined);
  driver?.kill();
  server?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

test("in the desktop window a reviewer signs in, claims a case and decides it", async () => {
  await wd("POST", at(`/element/${await waitFor("input[name=email]")}/value`), { text: REVIEWER });
  await wd("POST", at(`/element/${await waitFor("input[name=password]")}/value`), { text: server.passwords[REVIEWER] });
  await wd("POST", at(`/element/${await waitFor("button[type=submit]")}/click`), {});
  await waitFor("[data-testid=desk-status]", "online");
  await wd("POST", at(`/element/${await waitFor("button.primary", "Start reviewing")}/click`), {});
  await waitFor("aside.decision");
  await waitFor(".doc img");
  // The case the window shows is the reviewer's one claim on the server.
  const bearer = await token(server, REVIEWER);
  const me = (await apiGet(server, "/auth/me", bearer)).body;
  const held = (await apiGet(server, `/cases?state=claimed&holderId=${me.id}`, bearer)).body.items;
  assert.equal(held.length, 1);
  await wd("POST", at(`/element/${await waitFor("button.green")}/click`), {});
  await wd("POST", at(`/element/${await waitFor("aside.decision button.primary", "Submit decision")}/click`), {});
  await waitFor("aside.decision h2", "Decided: GREEN");
  const shot = await wd("GET", at("/screenshot"));
  assert.ok(shot.length > 1000, "the window was drawn");
  if (process.env.IDENTDESK_SCREENSHOTS) {
    writeFileSync(join(root, "docs/screenshots/desktop.png"), Buffer.from(shot, "base64"));
  }
  const decided = (await apiGet(server, `/cases/${held[0].id}`, bearer)).body.decision;
  assert.equal(decided.answer, "GREEN");
  assert.equal(decided.reviewerId, me.id);
  await waitFor("[data-testid=desk-status]", "all sent");
});
