// Video identification end to end: headless Chromium plays the applicant with a fake camera fed
// from the synthetic ID card; a real identdesk-server relays the signalling; the operator is the
// real media core (identdesk-operator, the crates/media peer) running the whole guided
// interview. Checks what an operator and a supervisor would: exact screenshots, the TAN round
// trip, the operator's audio at the applicant, the recording, and the audit trail.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, token, apiGet, signIn } from "../e2e/server.mjs";
import { OPERATOR_BIN, applicantBrowser, newApplicant, joinWaitingRoom, tanFor, psnrAgainstCard } from "./applicant.mjs";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const OPERATOR = "operator@demo.identdesk.test";
const SUPERVISOR = "supervisor@demo.identdesk.test";

let server;
let browser;
let work;

before(async () => {
  server = await startServer({ applicants: 10 });
  work = mkdtempSync(join(tmpdir(), "identdesk-video-"));
  browser = await applicantBrowser(work);
});

after(async () => {
  await browser?.close();
  server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function runOperator(out, extra = []) {
  const child = spawn(
    OPERATOR_BIN,
    ["interview", "--server", server.url, "--email", OPERATOR, "--out", out, ...extra],
    { env: { ...process.env, IDENTDESK_OPERATOR_PASSWORD: server.passwords[OPERATOR] }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise((resolveDone) => child.on("exit", (code) => resolveDone({ code, stderr })));
  return { child, done };
}

test("an operator runs the whole interview: exact screenshots, TAN, operator audio, recording, audit", async (t) => {
  const { invitation } = await newApplicant(server, "Complete");
  const page = await joinWaitingRoom(browser, server, invitation.link);
  const out = join(work, "complete");
  const operator = runOperator(out);

  // The TAN arrives during the call; the applicant types it in.
  await Promise.race([
    page.waitForSelector("#tan-entry:not(.hidden)", { timeout: 60_000 }),
    operator.done.then(({ code, stderr }) => assert.fail(`the operator stopped (${code}) before the TAN: ${stderr}`)),
  ]);
  const received = await page.evaluate(async () => {
    const stats = await window.identdesk.pc.getStats();
    let audio = null;
    stats.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") audio = { packets: s.packetsReceived, energy: s.totalAudioEnergy ?? 0 };
    });
    return audio;
  });
  assert.ok(received && received.packets > 50 && received.energy > 0, `the applicant hears the operator's audio: ${JSON.stringify(received)}`);
  const tan = await tanFor(server, invitation.sessionId);
  assert.match(tan ?? "", /^\d{6}$/);
  await page.fill("input[name=tan]", tan);
  await page.click("#tan-form button");
  const result = await operator.done;
  assert.equal(result.code, 0, result.stderr);
  await page.waitForSelector("text=identification is complete", { timeout: 10_000 });

  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));

  // Screenshots: full resolution, and the same picture the camera sent.
  const front = summary.screenshots.find((s) => s.tag === "id_front");
  assert.deepEqual([front.width, front.height], [1280, 720]);
  const compared = psnrAgainstCard(work, front.path);
  t.diagnostic(`screenshot PSNR ${compared.psnr.toFixed(1)} dB; first frame ${summary.firstFrameMs.toFixed(0)} ms after the answer; ` +
    `screenshot to stored ${summary.screenshotToStoredMs.map((m) => m.toFixed(0)).join("/")} ms; audio at applicant ${JSON.stringify(received)}`);
  assert.ok(compared.psnr >= 30, `PSNR ${compared.psnr.toFixed(1)} dB at (${compared.dx}, ${compared.dy})`);
  assert.deepEqual(
    summary.screenshots.map((s) => s.tag),
    ["id_front", "id_back", "security_feature_1", "security_feature_2", "security_feature_3", "face"],
  );

  // The recording: as long as the call, both directions.
  const rec = summary.recording;
  assert.ok(rec.videoFrames > 30, `video frames ${rec.videoFrames}`);
  assert.equal(rec.videoFrames, rec.videoFramesWritten, "every recorded frame decodes again from the file");
  assert.ok(Math.abs(rec.videoDurationMs - summary.callMs) < 2500, `video ${rec.videoDurationMs} ms, call ${summary.callMs} ms`);
  assert.ok(Math.abs(rec.applicantAudioMs - summary.callMs) < 2500, `applicant audio ${rec.applicantAudioMs} ms`);
  assert.ok(Math.abs(rec.operatorAudioMs - summary.callMs) < 2500, `operator audio ${rec.operatorAudioMs} ms`);

  // What a supervisor sees: the session, its evidence, the decision, and every step audited.
  const sup = await token(server, SUPERVISOR);
  const view = (await apiGet(server, `/video/sessions/${invitation.sessionId}`, sup)).body;
  assert.equal(view.session.state, "completed");
  assert.equal(view.case.state, "decided");
  const evidence = view.evidence.map((e) => `${e.kind}:${e.tag}`);
  for (const tag of ["screenshot:id_front", "screenshot:face", "recording:applicant_video", "recording:applicant_audio", "recording:operator_audio", "recording:call"]) {
    assert.ok(evidence.includes(tag), `${tag} in ${evidence}`);
  }
  const stored = view.evidence.find((e) => e.tag === "id_front");
  assert.equal(stored.sha256, front.sha256);
  const audit = (await apiGet(server, `/audit?limit=1000`, sup)).body;
  const events = (audit.items ?? audit).filter((e) => e.subject === `video:${invitation.sessionId}`).map((e) => e.action);
  for (const action of ["video.invited", "video.consent", "video.call_started", "video.screenshot", "video.read_out_confirmed",
    "video.tan_sent", "video.tan_confirmed", "video.completed", "video.recording_stored", "video.viewed"]) {
    assert.ok(events.includes(action), `${action} in ${events}`);
  }
  assert.equal(events.filter((a) => a === "video.screenshot").length, 6);
  await page.close();

  // In the browser UI, the supervisor opens the decided case and sees every screenshot.
  const ui = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await signIn(ui, server, SUPERVISOR);
  await ui.selectOption("select[name=state]", "decided");
  await ui.selectOption("select[name=kind]", "video_ident");
  await ui.click(`.case-list .row[data-case="${view.case.id}"]`);
  await ui.waitForSelector(".video-evidence figure[data-tag=face] img");
  assert.equal(await ui.locator(".video-evidence figure img").count(), 6);
  assert.equal(await ui.locator(".video-evidence .recording li").count(), 3);

  // The whole call plays in the browser (WebM: the applicant's VP8, both voices mixed in Opus),
  // as long as the call; the ID front step on its timeline jumps to that moment.
  await ui.waitForSelector("video.call-recording");
  const player = await ui.evaluate(async () => {
    const v = document.querySelector("video.call-recording");
    if (v.readyState < 1) {
      await new Promise((ok, fail) => {
        v.onloadedmetadata = ok;
        v.onerror = () => fail(new Error(v.error?.message ?? "the recording does not load"));
      });
    }
    v.muted = true;
    await v.play();
    await new Promise((r) => setTimeout(r, 1500));
    v.pause();
    return { duration: v.duration, width: v.videoWidth, height: v.videoHeight,
      audioBytes: v.webkitAudioDecodedByteCount, videoBytes: v.webkitVideoDecodedByteCount };
  });
  t.diagnostic(`playback: ${JSON.stringify(player)}`);
  assert.deepEqual([player.width, player.height], [1280, 720]);
  assert.ok(Math.abs(player.duration * 1000 - summary.callMs) < 2500, `playback ${player.duration} s, call ${summary.callMs} ms`);
  assert.ok(player.audioBytes > 0 && player.videoBytes > 0, `audio and video decode: ${JSON.stringify(player)}`);
  const mark = ui.locator(".timeline li", { hasText: "ID front" }).locator("button");
  const offsetMs = Number(await mark.getAttribute("data-offset-ms"));
  assert.ok(offsetMs > 0, "the ID front is some way into the call");
  await mark.click();
  const at = await ui.evaluate(async () => {
    const v = document.querySelector("video.call-recording");
    if (v.seeking) await new Promise((r) => (v.onseeked = r));
    return { time: v.currentTime, ready: v.readyState };
  });
  assert.ok(Math.abs(at.time * 1000 - offsetMs) < 100 && at.ready >= 2, `jumped to ${JSON.stringify(at)} for ${offsetMs} ms`);
  for (const step of ["Read-out confirmed", "TAN entered", "Completed"]) {
    assert.equal(await ui.locator(".timeline li", { hasText: step }).count(), 1, `${step} on the timeline`);
  }
  if (process.env.IDENTDESK_SCREENSHOTS) await ui.screenshot({ path: join(root, "docs/screenshots/video-evidence.png") });
  await ui.close();
});

test("the link works once; a second browser is told it was used", async () => {
  const { invitation } = await newApplicant(server, "Twice");
  const first = await joinWaitingRoom(browser, server, invitation.link);
  const second = await browser.newPage();
  await second.goto(server.url + invitation.link);
  await second.waitForSelector("text=This link was already used");
  await second.close();
  await first.close();
});

test("the applicant leaving mid-call ends the session as CONNECTION_INTERRUPTED and keeps the evidence", async () => {
  const { invitation } = await newApplicant(server, "Leaves");
  const page = await joinWaitingRoom(browser, server, invitation.link);
  const operator = runOperator(join(work, "leaves"));
  const sup = await token(server, SUPERVISOR);
  let view;
  for (let i = 0; i < 300; i++) {
    view = (await apiGet(server, `/video/sessions/${invitation.sessionId}`, sup)).body;
    if (view.evidence?.some((e) => e.tag === "id_front")) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(view.evidence.some((e) => e.tag === "id_front"), "the ID front was captured before the applicant left");
  await page.close();
  for (let i = 0; i < 100; i++) {
    view = (await apiGet(server, `/video/sessions/${invitation.sessionId}`, sup)).body;
    if (view.session.state === "aborted") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(view.session.state, "aborted");
  assert.equal(view.session.abortReason, "connection_lost");
  assert.equal(view.case.state, "decided");
  assert.ok(view.evidence.some((e) => e.tag === "id_front"), "what was captured is kept");
  const decision = (await apiGet(server, `/cases/${view.case.id}`, sup)).body.decision;
  assert.deepEqual(decision.labels, ["CONNECTION_INTERRUPTED"]);
  const result = await operator.done;
  assert.notEqual(result.code, 0, "the operator's interview does not complete");
});

test("on a phone-sized screen the applicant page fits, shows the camera and reaches the waiting room", async () => {
  const { invitation } = await newApplicant(server, "Phone");
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 });
  const page = await phone.newPage();
  await page.goto(server.url + invitation.link);
  await page.waitForFunction(() => document.querySelector("#preview")?.videoWidth > 0);
  const fits = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(fits.scroll <= fits.width, `no sideways scrolling: ${JSON.stringify(fits)}`);
  const preview = await page.locator("#preview").boundingBox();
  assert.ok(preview.width > 200 && preview.x >= 0 && preview.x + preview.width <= 390, `the preview fits: ${JSON.stringify(preview)}`);
  await page.tap("input[name=consent]");
  await page.tap("#start");
  await page.waitForSelector("text=waiting room");
  await phone.close();
});
