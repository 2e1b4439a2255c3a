// The desktop app's real window, driven through WebDriver (tauri-driver in front of WebKit's
// WebKitWebDriver), against a real identdesk-server with demo data: sign in, claim a case,
// decide it; the decision is on the server, and the status line says "online".
// Run under a display, e.g. `xvfb-run -a npm run desktop`; needs target/debug/identdesk built.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, token, apiGet } from "../e2e/server.mjs";
import { openApp } from "./webdriver.mjs";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const APP = process.env.IDENTDESK_APP ?? join(root, "target/debug/identdesk");
const REVIEWER = "reviewer@demo.identdesk.test";

let server;
let home;
let app;

before(async () => {
  if (!existsSync(APP)) throw new Error(`${APP} is missing: cargo build -p identdesk`);
  server = await startServer({ applicants: 20 });
  home = mkdtempSync(join(tmpdir(), "identdesk-desktop-"));
  // The app's data (its cache) in a folder of its own; the server it signs in to.
  app = await openApp(APP, { XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, IDENTDESK_SERVER: server.url });
});

after(async () => {
  await app?.close();
  server?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

test("in the desktop window a reviewer signs in, claims a case and decides it", async () => {
  await app.type("input[name=email]", REVIEWER);
  await app.type("input[name=password]", server.passwords[REVIEWER]);
  await app.click("button[type=submit]");
  await app.waitFor("[data-testid=desk-status]", "online");
  await app.click("button.primary", "Start reviewing");
  await app.waitFor("aside.decision");
  await app.waitFor(".doc img");
  // The case the window shows is the reviewer's one claim on the server.
  const bearer = await token(server, REVIEWER);
  const me = (await apiGet(server, "/auth/me", bearer)).body;
  const held = (await apiGet(server, `/cases?state=claimed&holderId=${me.id}`, bearer)).body.items;
  assert.equal(held.length, 1);
  await app.click("button.green");
  await app.click("aside.decision button.primary", "Submit decision");
  await app.waitFor("aside.decision h2", "Decided: GREEN");
  const shot = await app.screenshot();
  assert.ok(shot.length > 1000, "the window was drawn");
  if (process.env.IDENTDESK_SCREENSHOTS) {
    writeFileSync(join(root, "docs/screenshots/desktop.png"), Buffer.from(shot, "base64"));
  }
  const decided = (await apiGet(server, `/cases/${held[0].id}`, bearer)).body.decision;
  assert.equal(decided.answer, "GREEN");
  assert.equal(decided.reviewerId, me.id);
  await app.waitFor("[data-testid=desk-status]", "all sent");
});
