// The applicant's side of a video identification, for the tests that run one: the synthetic ID
// card as a fake camera, Chromium launched to use it, an applicant invited through the API,
// their waiting-room page, and the TAN the demo's log sender "sent" them.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser } from "../e2e/server.mjs";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
export const OPERATOR_BIN = process.env.IDENTDESK_OPERATOR_BIN ?? join(root, "target/debug/identdesk-operator");

/** Writes the synthetic card (`card.y4m`, and its source frame `card.png`) into `work` and
 * launches Chromium with it as the camera. */
export async function applicantBrowser(work) {
  execFileSync(OPERATOR_BIN, ["fake-camera", "--out", join(work, "card.y4m"), "--png", join(work, "card.png"), "--frames", "10"]);
  return launchBrowser([
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-video-capture=${join(work, "card.y4m")}`,
    "--autoplay-policy=no-user-gesture-required",
    // The media core and the browser share this machine: host candidates by address.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
  ]);
}

/** A new applicant with a video-ident invitation (`invitation.link`, `invitation.sessionId`). */
export async function newApplicant(server, lastName) {
  const headers = { "x-api-key": server.apiKey, "content-type": "application/json" };
  const res = await fetch(`${server.url}/api/v1/applicants`, {
    method: "POST",
    headers,
    body: JSON.stringify({ externalUserId: `video-${lastName}`, info: { firstName: "Vera", lastName } }),
  });
  const applicant = JSON.parse(await res.text());
  assert.equal(res.status, 201, JSON.stringify(applicant));
  const invite = await fetch(`${server.url}/api/v1/applicants/${applicant.id}/video-ident`, {
    method: "POST",
    headers,
    body: JSON.stringify({ tanDestination: "+4915112345678" }),
  });
  const invitation = JSON.parse(await invite.text());
  assert.equal(invite.status, 201, JSON.stringify(invitation));
  return { applicant, invitation };
}

/** Opens the link, consents and waits in the waiting room; returns the page. */
export async function joinWaitingRoom(browser, server, link) {
  const page = await browser.newPage();
  await page.goto(server.url + link);
  // As a person would: the camera's picture shows before they agree.
  await page.waitForFunction(() => document.querySelector("#preview")?.videoWidth > 0);
  await page.check("input[name=consent]");
  await page.click("#start");
  await page.waitForSelector("text=waiting room");
  return page;
}

/** The TAN last sent for the session (the demo's sender writes it to the data folder). */
export async function tanFor(server, sessionId, waitMs = 5000) {
  const path = join(server.data, "tan-outbox.log");
  for (const until = Date.now() + waitMs; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    if (!existsSync(path)) continue;
    const line = readFileSync(path, "utf8").trim().split("\n").reverse().find((l) => l.startsWith(sessionId + " "));
    if (line) return line.split(" ")[1];
  }
  return null;
}

/** PSNR (dB) of a screenshot against the card's source frame, at the best alignment. */
export function psnrAgainstCard(work, screenshot) {
  return JSON.parse(execFileSync(OPERATOR_BIN, ["compare", screenshot, join(work, "card.png")], { encoding: "utf8" }));
}
