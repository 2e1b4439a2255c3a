// Watchlist hits and MRZ check digits in a real browser: the demo's screened applicants, run
// through the automated checks by the server, reviewed by a reviewer a supervisor assigned them to.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, token, apiGet, apiPost, hitCases, launchBrowser, signIn as signInAs } from "./server.mjs";

const REVIEWER = "reviewer@demo.identdesk.test";
const SUPERVISOR = "supervisor@demo.identdesk.test";
let server;
let browser;

before(async () => {
  server = await startServer({ applicants: 20 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

const signIn = (page, email) => signInAs(page, server, email);

test("a namesake's hit is dismissed before approving; a confirmed hit cannot be approved", async () => {
  const sup = await token(server, SUPERVISOR);
  const rev = await token(server, REVIEWER);
  const me = (await apiGet(server, "/auth/me", rev)).body;
  const hits = await hitCases(server, sup);
  const namesake = hits.SANCTIONS[0];
  const listed = hits.BLACKLIST[0];
  for (const c of [namesake, listed]) {
    assert.equal((await apiPost(server, `/cases/${c.id}/assign`, sup, { userId: me.id })).status, 200);
  }

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, REVIEWER);
  await page.click(`.mine button:has-text("${namesake.applicantId.slice(0, 8)}")`);
  const hit = await page.waitForSelector(".hit");
  // The list entry beside the applicant: a date of birth 19 years apart, marked as differing.
  assert.match(await hit.textContent(), /Tarquin Ashcombe-Villiers/);
  assert.match(await page.textContent(".hit tr.differs"), /1990-02-11.*1971-07-30/);
  await page.keyboard.press("a");
  await page.keyboard.press("Control+Enter");
  await page.waitForSelector("aside.decision .error >> text=confirm or dismiss every screening hit");
  await page.fill("input[name=hit-note]", "Born 19 years after the listed person");
  await page.click(".hit button.dismiss");

  await page.waitForSelector("text=Dismissed: someone else — Born 19 years after the listed person");
  await page.keyboard.press("Control+Enter");
  await page.waitForSelector("text=Decided: GREEN");
  const detail = (await apiGet(server, `/cases/${namesake.id}`, rev)).body;
  assert.equal(detail.decision.answer, "GREEN");
  assert.deepEqual(
    detail.hitReviews.map((r) => [r.resolution, r.note]),
    [["dismissed", "Born 19 years after the listed person"]],
  );
  assert.ok(detail.history.some((e) => e.action === "screening.hit_dismissed"));

  await page.click("nav >> text=Queue");
  await page.click(`.mine button:has-text("${listed.applicantId.slice(0, 8)}")`);
  await page.waitForSelector(".hit >> text=Viktor Hallgrimsson");
  await page.click(".hit button.confirm");
  await page.waitForSelector("text=Confirmed: the applicant is the listed person");
  await page.keyboard.press("a");
  await page.keyboard.press("Control+Enter");
  await page.waitForSelector("aside.decision .error >> text=cannot be approved");
  await page.click("button.red");
  await page.check("input[name=rt] >> nth=0"); // FINAL
  for (const chip of await page.$$(".chip")) await chip.click();
  await page.fill("#label-search", "blacklist");
  await page.press("#label-search", "Enter");
  await page.click("text=Submit decision");
  await page.waitForSelector("text=Decided: RED · FINAL");
  const decision = (await apiGet(server, `/cases/${listed.id}`, rev)).body.decision;
  assert.deepEqual(decision.labels, ["BLACKLIST"]);
  await page.close();
});

test("a broken MRZ check digit is crossed, with the digit found and the one expected", async () => {
  // The demo's broken MRZ is Greta Lindqvist's (demo-screened-3); other FORGERY cases (the
  // demo's second looks at its own FORGERY decisions) have no MRZ of their own.
  const rev = await token(server, REVIEWER);
  let target;
  for (let i = 0; i < 200 && !target; i++) {
    for (const c of (await apiGet(server, "/cases?label=FORGERY&undecided=true&limit=100", rev)).body.items) {
      const detail = (await apiGet(server, `/cases/${c.id}`, rev)).body;
      if (detail.applicant?.externalUserId === "demo-screened-3") target = c;
    }
    if (!target) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(target, "the broken MRZ's case is in the queue");
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, REVIEWER);
  // Filtered down to a few rows, so that the case is in view in the scrolling list.
  await page.selectOption("select[name=state]", target.state);
  await page.selectOption("select[name=kind]", target.kind);
  await page.selectOption("select[name=label]", "FORGERY");
  // The filtered list, not the one before it: its row shows the label.
  await page.click(`.case-list .row[data-case="${target.id}"]:has-text('FORGERY')`);
  await page.waitForSelector(".mrz");
  const crossed = await page.$$eval(".mrz tr.error", (rows) => rows.map((r) => r.textContent));
  assert.equal(crossed.length, 2, "the date of birth and the composite");
  assert.match(crossed[0], /✗Date of birthdigit \d, expected \d/);
  assert.match(crossed[1], /✗Compositedigit \d, expected \d/);
  assert.ok((await page.$$(".mrz tr.ok")).length >= 3, "the other digits are ticked");
  await page.close();
});

test("a duplicate links to the other applicant's case", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, REVIEWER);
  await page.selectOption("select[name=state]", "");
  await page.selectOption("select[name=label]", "DUPLICATE");
  await page.click(".case-list .row[data-case]:has-text('DUPLICATE')");
  // The second of the two applicants with one passport is the duplicate; the link opens the first.
  const clientId = () => page.textContent("dl.profile dt:has-text(\"Client's id\") + dd");
  await page.waitForSelector("ul.duplicates");
  assert.equal(await clientId(), "demo-screened-6");
  assert.match(await page.textContent("ul.duplicates"), /shares documentNumber, nameAndDob/);
  await page.click("ul.duplicates button");
  await page.waitForFunction(() => !document.querySelector("ul.duplicates"));
  assert.equal(await clientId(), "demo-screened-5");
  assert.match(await page.textContent(".case-head h1"), /Marta\s+Kowalczyk/);
  await page.close();
});
