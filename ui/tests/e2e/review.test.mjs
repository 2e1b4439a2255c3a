// The reviewer's day in a real browser against a real identdesk-server with demo data.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createHmac } from "node:crypto";
import { startServer, token, apiGet, launchBrowser, clearHitCases, signIn as signInAs } from "./server.mjs";

const REVIEWER = "reviewer@demo.identdesk.test";
const REVIEWER2 = "reviewer2@demo.identdesk.test";
const SUPERVISOR = "supervisor@demo.identdesk.test";
const ADMIN = "admin@demo.identdesk.test";
let server;
let browser;
/** The case the first test rejects; the supervisor's test looks for it. */
let rejectedCase;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // Cases with watchlist hits need a word on each hit first (screening.test.mjs): decided here,
  // so that the keyboard run approves what "next case" hands out.
  await clearHitCases(server, REVIEWER2, SUPERVISOR);
});

after(async () => {
  await browser?.close();
  server?.stop();
});

/** With IDENTDESK_SCREENSHOTS=1 (`npm run screenshots`), the README's pictures are taken here. */
async function picture(page, name) {
  if (!process.env.IDENTDESK_SCREENSHOTS) return;
  await page.screenshot({ path: new URL(`../../../docs/screenshots/${name}.png`, import.meta.url).pathname });
}

const signIn = (page, email) => signInAs(page, server, email);

test("a reviewer claims a case and rejects it RETRY with two labels found by search and both comments", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await signIn(page, REVIEWER);
  await page.waitForSelector(".case-list .row[data-case]");
  await picture(page, "queue");
  await page.click("text=Start reviewing");
  await page.waitForSelector("aside.decision");
  const lease = await page.textContent("[data-testid=lease]");
  assert.match(lease, /Lease: \d+:\d\d left/);
  // The case's history, its claim by this reviewer last.
  await page.click("summary:has-text('History')");
  assert.match(await page.textContent("details.history li:last-child"), /case\.claimed/);

  await page.click("button.red");
  await page.check("input[name=rt] >> nth=1"); // RETRY
  // Suggested labels may be pre-selected: start from none.
  for (const chip of await page.$$(".chip")) await chip.click();
  await page.fill("#label-search", "back side");
  await page.press("#label-search", "Enter");
  await page.fill("#label-search", "low quality");
  await page.press("#label-search", "Enter");
  // One document asked for again, with the reason the applicant reads.
  const asked = await page.getAttribute("input[name=reupload] >> nth=0", "value");
  await page.check("input[name=reupload] >> nth=0");
  await page.fill(`input[name=reupload-reason-${asked}]`, "The photo is too dark to read.");
  await page.fill("textarea[name=moderationComment]", "Please upload the back side of your ID card.");
  await page.fill("textarea[name=clientComment]", "Back side missing; the front is blurred.");
  await page.waitForSelector(".doc img");
  await picture(page, "case");
  await page.click("text=Submit decision");
  await page.waitForSelector("text=Decided: RED · RETRY");

  // The API returns exactly that decision.
  const bearer = await token(server, REVIEWER);
  const mine = await apiGet(server, "/cases?state=decided&limit=200", bearer);
  const decided = [];
  for (const c of mine.body.items) {
    const detail = await apiGet(server, `/cases/${c.id}`, bearer);
    if (detail.body.decision?.moderationComment === "Please upload the back side of your ID card.") decided.push(detail.body);
  }
  assert.equal(decided.length, 1, "one decision with that comment");
  const d = decided[0].decision;
  assert.equal(d.answer, "RED");
  assert.equal(d.rejectType, "RETRY");
  assert.deepEqual(d.labels, ["BACK_SIDE_MISSING", "LOW_QUALITY"]);
  assert.equal(d.clientComment, "Back side missing; the front is blurred.");
  assert.equal(d.internalNote, null);
  assert.deepEqual(d.reupload, [{ documentId: asked, reason: "The photo is too dark to read." }]);
  rejectedCase = decided[0].case.id;

  // A second reviewer cannot decide the same case.
  const other = await token(server, REVIEWER2);
  const res = await fetch(`${server.url}/api/v1/cases/${decided[0].case.id}/decision`, {
    method: "POST",
    headers: { authorization: `Bearer ${other}`, "content-type": "application/json", "idempotency-key": "r2-1" },
    body: JSON.stringify({ answer: "GREEN", labels: [], version: decided[0].case.version }),
  });
  assert.equal(res.status, 409);
  assert.match((await res.json()).code, /CASE_ALREADY_DECIDED|LEASE_NOT_HELD|VERSION_CONFLICT/);
  await page.close();
});

test("a supervisor sees that decision in the log, and the chart counts it", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await signIn(page, SUPERVISOR);
  await page.click("text=Supervisor");
  await page.waitForSelector("table.decision-log tbody tr");
  await picture(page, "supervisor");
  await page.selectOption("select[name=label]", "BACK_SIDE_MISSING");
  await page.selectOption("select[name=answer]", "RED");
  // The demo's own decisions may use the same label: the row is found by its case. Reviewers
  // are named once the user list has arrived (a short id until then).
  const rowCss = `table.decision-log tbody tr:has-text("${rejectedCase.slice(0, 8)}")`;
  await page.waitForSelector(`${rowCss}:has-text("${REVIEWER}")`);
  const row = await page.textContent(rowCss);
  assert.match(row, /reviewer@demo\.identdesk\.test/);
  assert.match(row, /RED.*RETRY.*BACK_SIDE_MISSING, LOW_QUALITY/);

  // The chart counts every decision of the period, that one included.
  const bearer = await token(server, SUPERVISOR);
  const stats = (await apiGet(server, "/stats/reviewers", bearer)).body;
  const decided = stats.reduce((sum, s) => sum + s.decisions, 0);
  assert.ok(decided >= 1);
  assert.equal(Number(await page.textContent("[data-testid=chart-total]")), decided);
  const reviewer = stats.find((s) => s.email === REVIEWER);
  assert.ok(reviewer.labels.some((l) => l.label === "BACK_SIDE_MISSING"));

  await page.click("text=Verify the audit trail");
  await page.waitForSelector("text=The audit trail verifies");
  await page.close();
});

test("a reviewer reaches neither the supervisor nor the admin screens, nor their API", async () => {
  const page = await browser.newPage();
  await signIn(page, REVIEWER);
  assert.equal(await page.isVisible("nav >> text=Supervisor"), false);
  assert.equal(await page.isVisible("nav >> text=Admin"), false);
  await page.goto(server.url + "/#/supervisor");
  await page.waitForSelector("text=The reviewer role may not open the supervisor screens.");
  await page.goto(server.url + "/#/admin");
  await page.waitForSelector("text=The reviewer role may not open the admin screens.");
  const bearer = await token(server, REVIEWER);
  const paths = ["/decisions", "/decisions/export.csv", "/stats/reviewers", "/audit", "/audit/verify", "/users", "/api-keys"];
  for (const path of paths) {
    const res = await apiGet(server, path, bearer);
    assert.equal(res.status, 403, path);
    assert.equal(res.body.code, "FORBIDDEN", path);
  }
  for (const [path, body] of [
    ["/users", { email: "mallory@demo.identdesk.test", role: "admin" }],
    ["/api-keys", { environment: "production" }],
  ]) {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 403, path);
  }
  await page.close();
});

test("an admin adds a user who then signs in, and creates and revokes an API key", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(server.url + "/");
  await page.fill("input[name=email]", ADMIN);
  await page.fill("input[name=password]", server.passwords[ADMIN]);
  await page.click("button[type=submit]");
  await page.click("nav >> text=Admin");
  await page.fill("section.admin input[name=email]", "newcomer@demo.identdesk.test");
  await page.selectOption("section.admin select[name=role]", "reviewer");
  await page.click("text=Add user");
  const password = (await page.textContent("[data-testid=secret]")).trim();
  await page.waitForSelector("table.users >> text=newcomer@demo.identdesk.test");
  const res = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "newcomer@demo.identdesk.test", password }),
  });
  assert.equal(res.status, 200, "the new user signs in with the password shown once");

  await page.click("text=Done");
  await page.click("text=Create API key");
  const key = (await page.textContent("[data-testid=secret]")).trim();
  assert.match(key, /^idk_sandbox_/);
  const create = () =>
    fetch(`${server.url}/api/v1/applicants`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify({ externalUserId: "admin-e2e", info: { firstName: "Key", lastName: "Test" } }),
    });
  assert.equal((await create()).status, 201, "the key works");
  // The key's row, found by its id among the tenant's keys (the demo made one before).
  const keys = (await apiGet(server, "/api-keys", await token(server, ADMIN))).body;
  const created = keys.filter((k) => !k.revokedAtMs).sort((a, b) => b.createdAtMs - a.createdAtMs)[0];
  const row = `table.api-keys tbody tr:has-text("${created.id.slice(0, 8)}")`;
  await page.click(`${row} >> button:has-text("Revoke")`);
  await page.waitForSelector(`${row} >> text=revoked`);
  assert.equal((await create()).status, 401, "a revoked key is refused");

  // A key that may only read: it cannot create applicants.
  await page.click("text=Done");
  for (const p of ["applicants:write", "video:invite", "applicants:erase", "applicants:export"]) {
    await page.uncheck(`input[name=permission][value="${p}"]`);
  }
  await page.click("text=Create API key");
  const reader = (await page.textContent("[data-testid=secret]")).trim();
  await page.waitForSelector("table.api-keys td:text-is('applicants:read')");
  const refused = await fetch(`${server.url}/api/v1/applicants`, {
    method: "POST",
    headers: { "x-api-key": reader, "content-type": "application/json" },
    body: JSON.stringify({ info: { firstName: "Read", lastName: "Only" } }),
  });
  assert.equal(refused.status, 403, "a read-only key cannot create");
  await page.close();
});

test("an admin adds a webhook receiver; its deliveries are signed, logged and can be sent again", async () => {
  // The client system's receiver: takes everything, keeps what came.
  const received = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      received.push({ digest: req.headers["x-payload-digest"], body });
      res.end("ok");
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${receiver.address().port}/identdesk`;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signInAs(page, server, ADMIN);
  await page.click("nav >> text=Admin");
  await page.fill("section.admin input[name=webhook-url]", url);
  await page.click("text=Add receiver");
  const secret = (await page.textContent("[data-testid=secret]")).trim();
  assert.match(secret, /^[0-9a-f]{64}$/);
  await page.waitForSelector(`ul.endpoints >> text=${url}`);

  const res = await fetch(`${server.url}/api/v1/applicants`, {
    method: "POST",
    headers: { "x-api-key": server.apiKey, "content-type": "application/json" },
    body: JSON.stringify({ externalUserId: "hook-e2e", info: { firstName: "Hanna", lastName: "Hook" } }),
  });
  const applicant = await res.json();
  const row = `table.deliveries tbody tr[data-state=delivered]:has-text("applicantCreated"):has-text("${applicant.id.slice(0, 8)}")`;
  for (let i = 0; i < 50 && !(await page.locator(row).count()); i++) {
    await page.click("text=Refresh");
    await new Promise((r) => setTimeout(r, 200));
  }
  await page.waitForSelector(row);
  const first = received.find((r) => r.body.includes(applicant.id));
  assert.ok(first, "the receiver got applicantCreated");
  assert.equal(first.digest, createHmac("sha256", secret).update(first.body).digest("hex"), "the signature verifies");

  const before = received.length;
  await page.click(`${row} >> button:has-text("Resend")`);
  for (let i = 0; i < 50 && received.length === before; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(received.at(-1).body, first.body, "the resend carries the same body");
  await page.close();
  receiver.close();
});

test("keyboard only: three cases approved in a row", async () => {
  const page = await browser.newPage();
  await signIn(page, REVIEWER2);
  const bearer = await token(server, REVIEWER2);
  const before = (await apiGet(server, "/cases?state=decided&limit=1", bearer)).body.total;
  await page.keyboard.press("n");
  for (let i = 0; i < 3; i++) {
    await page.waitForSelector("aside.decision:not(.done)");
    await page.keyboard.press("a");
    await page.keyboard.press("Control+Enter");
    await page.waitForSelector("text=Decided: GREEN");
    if (i < 2) await page.keyboard.press("n");
  }
  const after = (await apiGet(server, "/cases?state=decided&limit=1", bearer)).body.total;
  assert.equal(after - before, 3);
  await page.close();
});

test("the help overlay lists the shortcuts", async () => {
  const page = await browser.newPage();
  await signIn(page, REVIEWER);
  await page.keyboard.press("?");
  await page.waitForSelector("text=Keyboard shortcuts");
  assert.ok(await page.isVisible("text=Submit the decision"));
  await page.keyboard.press("Escape");
  await page.close();
});

test("a supervisor opens a queued case from the list, assigns it to a reviewer, and releases it", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await signIn(page, SUPERVISOR);
  await page.selectOption("select[name=state]", "queued");
  await page.selectOption("select[name=kind]", "review");
  // Rows are reused as the list refills: wait until only the filtered cases show, then open
  // one by its id rather than by an element that may meanwhile show another case.
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll(".case-list .row[data-case]")];
    return rows.length > 0 && rows.every((r) => r.children[2].textContent === "queued" && r.children[1].textContent.startsWith("review"));
  });
  const caseId = await page.getAttribute(".case-list .row[data-case]", "data-case");
  await page.click(`.case-list .row[data-case="${caseId}"]`);
  await page.waitForSelector("select[name=assign]");
  const reviewer = (await apiGet(server, "/users", await token(server, SUPERVISOR))).body.find((u) => u.email === REVIEWER);
  await page.selectOption("select[name=assign]", reviewer.id);
  await page.waitForSelector(`text=held by ${REVIEWER}`);
  const bearer = await token(server, REVIEWER);
  const held = (await apiGet(server, `/cases/${caseId}`, bearer)).body.case;
  assert.equal(held.state, "claimed");
  assert.equal(held.holderId, reviewer.id);
  await page.click("text=Release to queue");
  await page.waitForSelector("text=Release to queue", { state: "detached" });
  assert.equal((await apiGet(server, `/cases/${caseId}`, bearer)).body.case.state, "queued");
  await page.close();
});
