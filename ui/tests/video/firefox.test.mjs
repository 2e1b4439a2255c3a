// The applicant's page in Firefox (Debian's firefox-esr, driven over WebDriver BiDi, which
// Firefox speaks itself): consent, camera preview, waiting room, the call with the real media
// core, the TAN typed in, the identification complete. Firefox's fake camera draws its own
// pattern, so the screenshots are checked for size, not against the card (Chromium's test does
// that).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../e2e/server.mjs";
import { OPERATOR_BIN, newApplicant, tanFor } from "./applicant.mjs";

const FIREFOX = process.env.FIREFOX ?? "/usr/bin/firefox-esr";
const OPERATOR = "operator@demo.identdesk.test";

let server;
let browser;
let work;

before(async () => {
  if (!existsSync(FIREFOX)) throw new Error(`${FIREFOX} is missing: apt-get install firefox-esr (scripts/test does)`);
  server = await startServer({ applicants: 10 });
  work = mkdtempSync(join(tmpdir(), "identdesk-firefox-"));
  const puppeteer = (await import("puppeteer-core")).default;
  browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: {
      // Fake camera and microphone, granted without asking (as the applicant clicking Allow).
      "media.navigator.streams.fake": true,
      "media.navigator.permission.disabled": true,
      // The media core and the browser share this machine: host candidates by address.
      "media.peerconnection.ice.obfuscate_host_addresses": false,
      "media.peerconnection.ice.loopback": true,
      "media.autoplay.default": 0,
    },
  });
});

after(async () => {
  await browser?.close();
  server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("in Firefox an applicant consents, waits, is interviewed and enters the TAN", async () => {
  const { invitation } = await newApplicant(server, "Firefox");
  const page = await browser.newPage();
  await page.goto(server.url + invitation.link);
  // The camera's picture shows before they agree.
  await page.waitForFunction(() => document.querySelector("#preview")?.videoWidth > 0, { timeout: 20_000 });
  await page.click("input[name=consent]");
  await page.click("#start");
  await page.waitForSelector("::-p-text(waiting room)", { timeout: 20_000 });

  const out = join(work, "call");
  const operator = spawn(OPERATOR_BIN, ["interview", "--server", server.url, "--email", OPERATOR, "--out", out], {
    env: { ...process.env, IDENTDESK_OPERATOR_PASSWORD: server.passwords[OPERATOR] },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  operator.stderr.on("data", (d) => (stderr += d));
  const done = new Promise((resolveDone) => operator.on("exit", (code) => resolveDone(code)));

  await Promise.race([
    page.waitForSelector("#tan-entry:not(.hidden)", { timeout: 60_000 }),
    done.then((code) => assert.fail(`the operator stopped (${code}) before the TAN: ${stderr}`)),
  ]);
  // Firefox receives the operator's voice.
  const audio = await page.evaluate(async () => {
    const stats = await window.identdesk.pc.getStats();
    let packets = 0;
    stats.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") packets = s.packetsReceived;
    });
    return packets;
  });
  assert.ok(audio > 50, `Firefox received ${audio} audio packets from the operator`);
  const tan = await tanFor(server, invitation.sessionId);
  assert.match(tan ?? "", /^\d{6}$/);
  await page.type("input[name=tan]", tan);
  await page.click("#tan-form button");
  assert.equal(await done, 0, stderr);
  await page.waitForSelector("::-p-text(identification is complete)", { timeout: 10_000 });

  // The operator took every screenshot from Firefox's video, at the size it was sent.
  const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
  assert.equal(summary.screenshots.length, 6);
  for (const shot of summary.screenshots) assert.ok(shot.width >= 320 && shot.height >= 240, JSON.stringify(shot));
});
