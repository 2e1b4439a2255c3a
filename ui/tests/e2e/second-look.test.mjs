// A four-eyes check and a mask in a real browser: a second reviewer sees the first one's staged
// rejection, blurs a region of the passport, and the staged decision becomes void.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, token, apiGet, apiPost, launchBrowser, clearHitCases, signIn } from "./server.mjs";

const REVIEWER = "reviewer@demo.identdesk.test";
const REVIEWER2 = "reviewer2@demo.identdesk.test";
const SUPERVISOR = "supervisor@demo.identdesk.test";
let server;
let browser;

before(async () => {
  server = await startServer({ applicants: 30 });
  browser = await launchBrowser();
  await clearHitCases(server, REVIEWER2, SUPERVISOR);
});

after(async () => {
  await browser?.close();
  server?.stop();
});

test("a checker sees the staged rejection, masks the passport, and the staged decision is void", async () => {
  // The first reviewer rejects a case for forgery: the tenant wants four eyes on that.
  const first = await token(server, REVIEWER2);
  const claimed = await apiPost(server, "/cases/claim?kind=review", first);
  assert.equal(claimed.status, 200);
  const rejection = { answer: "RED", rejectType: "FINAL", labels: ["FORGERY"], version: claimed.body.version,
                      moderationComment: "The document is not genuine." };
  const staged = await apiPost(server, `/cases/${claimed.body.id}/decision`, first, rejection, { "idempotency-key": "e2e-staged" });
  assert.equal(staged.status, 201);
  assert.equal(staged.body.status, "staged");

  // The checker puts down what the demo left them holding: the check is the most urgent case.
  const checker = await token(server, REVIEWER);
  const me = (await apiGet(server, "/auth/me", checker)).body;
  for (const held of (await apiGet(server, `/cases?holderId=${me.id}&state=claimed`, checker)).body.items) {
    assert.equal((await apiPost(server, `/cases/${held.id}/release`, checker)).status, 200);
  }

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, server, REVIEWER);
  await page.click("text=Start reviewing");
  await page.waitForSelector("[data-testid=second-look]");
  const panel = await page.textContent("[data-testid=second-look]");
  assert.match(panel, /Four-eyes check/);
  assert.match(panel, /First reviewer\s*RED · FINAL — staged, waiting for a second reviewer/);
  assert.match(panel, /FORGERY/);

  // The passport shows a national number the tenant may not keep: drag over it and blur it.
  const doc = page.locator("figure.doc", { hasText: "PASSPORT" }).or(page.locator("figure.doc", { hasText: "ID_CARD" })).first();
  await doc.locator("img").waitFor();
  await doc.locator("button", { hasText: "Mask…" }).click();
  const canvas = doc.locator("[data-testid=mask-canvas]");
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.3);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.6, { steps: 5 });
  await page.mouse.up();
  await doc.locator("input[name=mask-reason]").fill("national number the tenant may not process");
  const before = (await apiGet(server, `/cases/${claimed.body.id}`, await token(server, SUPERVISOR))).body;
  await doc.locator("button", { hasText: "Blur 1 region for good" }).click();
  await page.waitForSelector("text=void: the evidence changed after it was made");

  // Deciding now says why there is nothing to confirm.
  await page.click("button.green");
  await page.click("text=Submit decision");
  await page.waitForSelector("text=that decision is void and the applicant is back in review");

  // On the server: a new image, the staged decision void, and both in the audit trail.
  const sup = await token(server, SUPERVISOR);
  const after = (await apiGet(server, `/cases/${claimed.body.id}`, sup)).body;
  assert.equal(after.decision.status, "voided");
  const changed = after.documents.filter((d, i) => d.sha256 !== before.documents[i].sha256);
  assert.equal(changed.length, 1, "exactly the masked document changed");
  const trail = (await apiGet(server, "/audit?limit=1000", sup)).body.map((e) => e.action);
  assert.ok(trail.includes("document.masked") && trail.includes("decision.voided"), trail.slice(-10).join(", "));
  await page.close();
});

test("a blind QA re-check that disagrees shows on the supervisor's agreement chart", async () => {
  // Every decision is sampled from now on; the first reviewer approves a case.
  const admin = await token(server, "admin@demo.identdesk.test");
  const policy = { fourEyesLabels: ["SANCTIONS", "PEP", "FORGERY"], fourEyesPercent: 0, qaSamplePercent: 100 };
  const put = await fetch(`${server.url}/api/v1/review-policy`, {
    method: "PUT",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify(policy),
  });
  assert.equal(put.status, 200);
  const first = await token(server, REVIEWER2);
  const review = await apiPost(server, "/cases/claim?kind=review", first);
  const approved = await apiPost(server, `/cases/${review.body.id}/decision`, first, { answer: "GREEN", labels: [], version: review.body.version }, { "idempotency-key": "e2e-sampled" });
  assert.equal(approved.status, 201);

  // The second reviewer re-checks a sample blind and disagrees (the opposite answer).
  const second = await token(server, REVIEWER);
  const sample = await apiPost(server, "/cases/claim?kind=qa_sample", second);
  assert.equal(sample.status, 200, "the demo left QA samples");
  const blind = (await apiGet(server, `/cases/${sample.body.id}`, second)).body;
  assert.deepEqual(blind.earlierDecisions, [], "blind");
  const sup = await token(server, SUPERVISOR);
  const sampled = (await apiGet(server, `/decisions?limit=200`, sup)).body.items.find((d) => d.id === sample.body.checksDecisionId);
  const opposite = sampled.answer === "GREEN"
    ? { answer: "RED", rejectType: "RETRY", labels: ["LOW_QUALITY"] }
    : { answer: "GREEN", labels: [] };
  const res = await apiPost(server, `/cases/${sample.body.id}/decision`, second, { ...opposite, version: sample.body.version }, { "idempotency-key": "e2e-qa" });
  assert.equal(res.status, 201);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, server, SUPERVISOR);
  await page.click("nav >> text=Supervisor");
  await page.waitForSelector("[data-testid=qa-chart] svg");
  assert.equal((await page.textContent("[data-testid=qa-total]")).trim(), "0 %");
  const chart = await page.textContent("[data-testid=qa-chart]");
  assert.match(chart, /of 1 re-checks/);
  assert.match(chart, /@demo\.identdesk\.test0 % of 1/, "the sampled reviewer's row");
  await page.close();
});
