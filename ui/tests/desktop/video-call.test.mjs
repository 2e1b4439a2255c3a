// The video identification in the desktop app's real window under Xvfb: headless Chromium
// plays the applicant with the synthetic ID card as a fake camera; the operator signs in to
// the window, takes the applicant, sees the live video and call quality, takes the six
// screenshots with the S key (thumbnails appear), confirms the read-out, sends the TAN (the
// applicant types it) and finishes. The server then holds the exact screenshots and the
// recording. Needs target/debug/identdesk and identdesk-operator built.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, token, apiGet } from "../e2e/server.mjs";
import { applicantBrowser, newApplicant, joinWaitingRoom, tanFor, psnrAgainstCard } from "../video/applicant.mjs";
import { openApp } from "./webdriver.mjs";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const APP = process.env.IDENTDESK_APP ?? join(root, "target/debug/identdesk");
const OPERATOR = "operator@demo.identdesk.test";
const SUPERVISOR = "supervisor@demo.identdesk.test";

let server;
let home;
let app;
let browser;
let work;

before(async () => {
  if (!existsSync(APP)) throw new Error(`${APP} is missing: cargo build -p identdesk`);
  server = await startServer({ applicants: 5 });
  work = mkdtempSync(join(tmpdir(), "identdesk-desktop-video-"));
  browser = await applicantBrowser(work);
  home = mkdtempSync(join(tmpdir(), "identdesk-desktop-"));
  app = await openApp(APP, { XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, IDENTDESK_SERVER: server.url });
});

after(async () => {
  await app?.close();
  await browser?.close();
  server?.stop();
  for (const dir of [home, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The live view's picture, as the window shows it: size and how much of it is not black. */
const livePicture = () =>
  app.run(`const done = arguments[arguments.length - 1];
    const c = document.querySelector("canvas.live");
    if (!c || c.width < 2) return done(null);
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4 * 97) if (d[i] + d[i + 1] + d[i + 2] > 60) lit++;
    done({ width: c.width, height: c.height, lit: lit / (d.length / (4 * 97)) });`);

async function until(what, check, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("in the desktop window an operator runs the whole video identification", async (t) => {
  const { invitation } = await newApplicant(server, "Desktop");
  const page = await joinWaitingRoom(browser, server, invitation.link);

  await app.type("input[name=email]", OPERATOR);
  await app.type("input[name=password]", server.passwords[OPERATOR]);
  await app.click("button[type=submit]");
  await app.click("nav a", "Video");
  await app.click("button.primary", "Take the next applicant");
  await app.waitFor(`.video-call[data-session="${invitation.sessionId}"]`, undefined, 30000);

  // The applicant's camera, live in the window at full resolution, with the call's quality.
  const picture = await until("a live picture", async () => {
    const p = await livePicture();
    return p && p.lit > 0.3 ? p : null;
  });
  assert.deepEqual([picture.width, picture.height], [1280, 720]);
  await app.waitFor("[data-testid=call-quality]", "connected · 1280×720");
  await until("frames counted", async () => {
    const text = await app.run(`arguments[0](document.querySelector("[data-testid=call-quality]").textContent)`);
    return Number(text.match(/(\d+) frames/)?.[1] ?? 0) > 10;
  });
  // The operator's own microphone and loudspeaker (the test command's loop-back PulseAudio).
  if (process.env.IDENTDESK_REQUIRE_AUDIO) {
    await app.waitFor("[data-testid=call-audio]", "Microphone:");
    const audio = await app.run(`arguments[0](document.querySelector("[data-testid=call-audio]").textContent)`);
    assert.doesNotMatch(audio, /none/, `both audio devices open: ${audio}`);
    // M mutes the microphone, and says so; M again unmutes.
    await app.keys("m");
    await app.waitFor("[data-testid=call-muted]", "the applicant does not hear you");
    await app.waitFor("[data-testid=call-audio] button", "Unmute (M)");
    await app.keys("m");
    await app.waitFor("[data-testid=call-audio] button", "Mute (M)");
    assert.equal(await app.run(`arguments[0](document.querySelector("[data-testid=call-muted]"))`), null);
  }

  // Zoom on a region, then the six screenshots the checklist asks for, one S each.
  await app.keys("z");
  await app.waitFor("canvas.zoom");
  for (let n = 1; n <= 6; n++) {
    await app.keys("s");
    await until(`thumbnail ${n}`, async () => (await app.run(`arguments[0](document.querySelectorAll(".thumb img").length)`)) >= n);
  }
  await app.waitFor(".steps li.current", "Read-out");
  await app.keys("r");
  await app.waitFor(".steps li.current", "TAN");
  // The key counts once the screen is ready for it (not while the read-out is still saving).
  await app.waitFor(".call-actions button:not([disabled])", "Send TAN");
  await app.keys("t");
  await app.waitFor(".instruction", "The TAN is sent", 30000);
  const tan = await tanFor(server, invitation.sessionId, 15000);
  assert.match(tan ?? "", /^\d{6}$/);
  await page.waitForSelector("#tan-entry:not(.hidden)");
  await page.fill("input[name=tan]", tan);
  await page.click("#tan-form button");
  await app.waitFor(".steps li.done", "TAN entered");
  const shot = await app.screenshot();
  if (process.env.IDENTDESK_SCREENSHOTS) {
    writeFileSync(join(root, "docs/screenshots/desktop-video-call.png"), Buffer.from(shot, "base64"));
  }
  await app.click("button.primary", "Finish identification");
  await app.waitFor("[data-testid=call-ended]", "completed", 30000);
  await app.waitFor("button.primary", "Take the next applicant");
  await page.waitForSelector("text=identification is complete", { timeout: 10000 });
  await page.close();

  // On the server: completed, six screenshots and the recording; the ID front is the picture
  // the camera sent.
  const sup = await token(server, SUPERVISOR);
  const view = (await apiGet(server, `/video/sessions/${invitation.sessionId}`, sup)).body;
  assert.equal(view.session.state, "completed");
  const tags = view.evidence.map((e) => e.tag);
  for (const tag of ["id_front", "id_back", "security_feature_1", "security_feature_2", "security_feature_3", "face",
    "applicant_video", "applicant_audio", "operator_audio"]) {
    assert.ok(tags.includes(tag), `${tag} in ${tags}`);
  }
  const front = view.evidence.find((e) => e.tag === "id_front");
  const res = await fetch(`${server.url}/api/v1/video/evidence/${front.id}/content`, { headers: { authorization: `Bearer ${sup}` } });
  assert.equal(res.status, 200);
  const path = join(work, "front.png");
  writeFileSync(path, Buffer.from(await res.arrayBuffer()));
  const compared = psnrAgainstCard(work, path);
  t.diagnostic(`desktop screenshot PSNR ${compared.psnr.toFixed(1)} dB; live view ${picture.width}×${picture.height}`);
  assert.ok(compared.psnr >= 30, `PSNR ${compared.psnr.toFixed(1)} dB`);
  // The local copy of the recording (personal data) is gone once uploaded.
  const recordings = join(home, "org.identdesk.console", "recordings");
  assert.ok(existsSync(recordings), `${recordings} is where calls are recorded`);
  assert.ok(!existsSync(join(recordings, invitation.sessionId)), "the uploaded recording is not kept on the desk");
});
