// The desktop app's real window, driven through WebDriver (tauri-driver in front of WebKit's
// WebKitWebDriver), against a real identdesk-server with demo data: sign in, claim a case,
// decide it; the decision is on the server, and the status line says "online". Then a
// decision made while the server is out of reach, on a case a supervisor decides meanwhile:
// refused, shown with both versions, the supervisor's left standing.
// Run under a display, e.g. `xvfb-run -a npm run desktop`; needs target/debug/identdesk built.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, token, apiGet, apiPost } from "../e2e/server.mjs";
import { startRelay } from "./proxy.mjs";
import { openApp } from "./webdriver.mjs";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const APP = process.env.IDENTDESK_APP ?? join(root, "target/debug/identdesk");
const REVIEWER = "reviewer@demo.identdesk.test";
const SUPERVISOR = "supervisor@demo.identdesk.test";

let server;
let relay;
let home;
let app;

before(async () => {
  if (!existsSync(APP)) throw new Error(`${APP} is missing: cargo build -p identdesk`);
  server = await startServer({ applicants: 20 });
  relay = await startRelay(server.url);
  home = mkdtempSync(join(tmpdir(), "identdesk-desktop-"));
  // The app's data (its cache) in a folder of its own; the server it signs in to, through the relay.
  app = await openApp(APP, { XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, IDENTDESK_SERVER: relay.url });
});

after(async () => {
  await app?.close();
  relay?.close();
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

test("a decision made offline on a case decided meanwhile is refused and shown with both versions", async () => {
  const sup = await token(server, SUPERVISOR);
  const bearer = await token(server, REVIEWER);
  const me = (await apiGet(server, "/auth/me", bearer)).body;
  const boss = (await apiGet(server, "/auth/me", sup)).body;
  // A queued review case without watchlist hits, so that approving it is allowed.
  const queued = (await apiGet(server, "/cases?state=queued&kind=review&limit=50", sup)).body.items;
  let target;
  for (const c of queued) {
    const detail = (await apiGet(server, `/cases/${c.id}`, sup)).body;
    const screening = detail.verdict?.results.find((r) => r.check === "screening");
    if (!screening?.details?.hits?.length) {
      target = c;
      break;
    }
  }
  assert.ok(target, "the demo has a queued case without hits");
  assert.equal((await apiPost(server, `/cases/${target.id}/assign`, sup, { userId: me.id })).status, 200);

  // The case reaches the window through the push channel; the reviewer opens it.
  await app.click("nav a", "Queue");
  await app.click(".mine button", target.applicantId.slice(0, 8));
  await app.waitFor("aside.decision");

  relay.cut();
  await app.waitFor("[data-testid=desk-status]", "offline");
  await app.click("button.green");
  await app.click("aside.decision button.primary", "Submit decision");
  await app.waitFor("[data-testid=desk-status]", "1 waiting to send");

  // Meanwhile the supervisor takes the case back and rejects it.
  const taken = await apiPost(server, `/cases/${target.id}/assign`, sup, { userId: boss.id });
  assert.equal(taken.status, 200);
  const rejection = { answer: "RED", rejectType: "RETRY", labels: ["BAD_SELFIE"], version: taken.body.version };
  const decided = await apiPost(server, `/cases/${target.id}/decision`, sup, rejection, { "idempotency-key": "desk-conflict" });
  assert.equal(decided.status, 201);

  relay.mend();
  await app.click("[data-testid=desk-status] button", "1 refused", 30000);
  await app.waitFor("[role=dialog]", "Decisions the server refused");
  await app.waitFor(".conflict tr", "Yours");
  const mine = await app.waitFor(".conflict tr", "GREEN");
  const theirs = await app.waitFor(".conflict tr", "RED · RETRY · BAD_SELFIE");
  assert.notEqual(mine, theirs, "two rows: the reviewer's and the server's");
  await app.waitFor(".conflict tr", "On the server");
  if (process.env.IDENTDESK_SCREENSHOTS) {
    writeFileSync(join(root, "docs/screenshots/desktop-conflict.png"), Buffer.from(await app.screenshot(), "base64"));
  }
  // On top of everything: what is drawn where each row's heading is belongs to the dialog.
  const covered = await app.run(`
    const done = arguments[arguments.length - 1];
    done([...document.querySelectorAll(".conflict th")].filter((th) => {
      const r = th.getBoundingClientRect();
      return !document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)?.closest(".conflicts");
    }).map((th) => th.textContent));`);
  assert.deepEqual(covered, [], "no row heading of the dialog is hidden");
  // Nothing overwritten: the server keeps the supervisor's decision.
  const after = (await apiGet(server, `/cases/${target.id}`, sup)).body.decision;
  assert.equal(after.answer, "RED");
  assert.equal(after.reviewerId, boss.id);
  await app.waitFor("[data-testid=desk-status]", "all sent");
});
