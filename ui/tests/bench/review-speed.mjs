// The reviewer's two waits, measured in a real browser against a release identdesk-server on
// loopback, and printed:
//   1. "next case" to an interactive case view with its four document images decoded
//      (User Timing marks "next-case" and "case-interactive", set by the app); goal ≤ 150 ms;
//   2. scrolling the list of 100,000 cases: long tasks (main thread busy > 50 ms) while
//      wheeling through it and jumping around; goal: none.
// Run: `scripts/bench-ui` (builds what it needs), or `npm run bench` with a release server.

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, launchBrowser, clearHitCases } from "../e2e/server.mjs";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const bin = process.env.IDENTDESK_SERVER_BIN ?? join(root, "target/release/identdesk-server");
if (!existsSync(bin)) {
  console.error(`${bin} is missing: build it with cargo build --release -p identdesk-server`);
  process.exit(2);
}
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 25);
const LOAD = Number(process.env.BENCH_CASES ?? 100_000);
const REVIEWER = "reviewer@demo.identdesk.test";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const ms = (x) => `${x.toFixed(1)} ms`;

console.log(`seeding: 150 demo applicants with images and ${LOAD.toLocaleString()} queued cases…`);
const t0 = Date.now();
const server = await startServer({ applicants: 150, loadCases: LOAD, bin });
console.log(`seeded and serving in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
// Cases with watchlist hits cannot be approved without a word on each: decided beforehand.
await clearHitCases(server, REVIEWER, "supervisor@demo.identdesk.test");
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  // Long tasks from the first moment on.
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ at: e.startTime, ms: e.duration });
    }).observe({ type: "longtask", buffered: true });
  });
  await page.goto(server.url + "/");
  await page.fill("input[name=email]", REVIEWER);
  await page.fill("input[name=password]", server.passwords[REVIEWER]);
  await page.click("button[type=submit]");
  await page.waitForSelector(".case-list .row[data-case]");

  // 2. The list: wheel through it, then jump around as a scrollbar drag would.
  const total = await page.textContent("[data-testid=list-total]");
  const box = await page.$("[data-testid=case-rows]");
  const area = await box.boundingBox();
  await page.mouse.move(area.x + area.width / 2, area.y + area.height / 2);
  const start = await page.evaluate(() => performance.now());
  const frames = [];
  for (let i = 0; i < 300; i++) {
    await page.mouse.wheel(0, 1200);
    await page.waitForTimeout(16);
  }
  console.log("list: wheeled through; jumping…");
  const jumps = [];
  for (let i = 0; i < 40; i++) {
    const fraction = (i * 0.618) % 1;
    const wait = await page.evaluate(async (fraction) => {
      const el = document.querySelector("[data-testid=case-rows]");
      const t = performance.now();
      el.scrollTop = fraction * (el.scrollHeight - el.clientHeight);
      // Rows in view are filled once their block has arrived.
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r));
        const rows = [...el.querySelectorAll(".row")].filter((r) => {
          const top = parseFloat(r.style.top);
          return top >= el.scrollTop && top < el.scrollTop + el.clientHeight;
        });
        if (rows.length > 0 && rows.every((r) => r.dataset.case)) return performance.now() - t;
      }
    }, fraction);
    jumps.push(wait);
  }
  console.log("list: jumped; next case…");
  const gaps = await page.evaluate(async () => {
    // Frame gaps while wheeling once more, measured in the page.
    const el = document.querySelector("[data-testid=case-rows]");
    const gaps = [];
    let last = performance.now();
    for (let i = 0; i < 120; i++) {
      el.scrollTop += 900;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }
    return gaps;
  });
  frames.push(...gaps);
  const longTasks = await page.evaluate((start) => window.__longTasks.filter((t) => t.at >= start), start);
  const rowsInPage = await page.evaluate(() => document.querySelectorAll(".case-list .row").length);

  // 1. Next case: from the key press to four decoded images, then approve and go on.
  await page.goto(server.url + "/#/");
  await page.waitForSelector("text=Start reviewing");
  const four = [];
  const other = [];
  await page.keyboard.press("n");
  for (let i = 0; i < SAMPLES * 4 && four.length < SAMPLES; i++) {
    const sample = await page.evaluate(async () => {
      for (;;) {
        const next = performance.getEntriesByName("next-case").at(-1);
        const ready = performance.getEntriesByName("case-interactive").at(-1);
        if (next && ready && ready.startTime > next.startTime) {
          return { ms: ready.startTime - next.startTime, images: ready.detail.images };
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    (sample.images === 4 ? four : other).push(sample.ms);
    await page.keyboard.press("a");
    await page.keyboard.press("Control+Enter");
    await page.waitForSelector("text=Decided: GREEN");
    await page.keyboard.press("n");
  }

  console.log(`\nnext case → interactive case view (four images decoded), ${four.length} cases:`);
  console.log(`  median ${ms(median(four))}, p95 ${ms(pct(four, 0.95))}, max ${ms(Math.max(...four))}  (goal ≤ 150 ms)`);
  if (other.length) console.log(`  (cases with fewer images: ${other.length}, median ${ms(median(other))})`);
  console.log(`\ncase list, ${total}:`);
  console.log(`  300 wheel steps of 1200 px, 40 jumps, 120 scripted scroll frames; ${rowsInPage} rows in the page`);
  console.log(`  long tasks over 50 ms: ${longTasks.length}${longTasks.length ? ` (longest ${ms(Math.max(...longTasks.map((t) => t.ms)))})` : ""}  (goal: none)`);
  console.log(`  frame gap median ${ms(median(frames))}, max ${ms(Math.max(...frames))}`);
  console.log(`  rows filled after a jump: median ${ms(median(jumps))}, p95 ${ms(pct(jumps, 0.95))}`);
} finally {
  await browser.close();
  server.stop();
}
