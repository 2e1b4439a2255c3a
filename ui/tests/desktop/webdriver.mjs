// A small W3C WebDriver client for the desktop tests: tauri-driver started in front of
// WebKitWebDriver, a session on the app, and the few calls the tests make.

import { spawn } from "node:child_process";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/** Starts tauri-driver with `env` added, and a session on `app`; returns the calls. */
export async function openApp(app, env) {
  const port = 4444 + Math.floor(Math.random() * 2000);
  const bin = process.env.TAURI_DRIVER ?? "tauri-driver";
  const driver = spawn(bin, ["--port", String(port)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const wd = async (method, path, body) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await res.json();
    if (answer.value?.error) throw new Error(`${answer.value.error}: ${answer.value.message}`);
    return answer.value;
  };
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/status`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const { sessionId } = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: app } } },
  });
  const at = (path) => `/session/${sessionId}${path}`;

  /** Waits for an element matching `css` (and containing `text`, if given); returns its id. */
  const waitFor = async (css, text, ms = 20000) => {
    const until = Date.now() + ms;
    for (;;) {
      try {
        const found = await wd("POST", at("/elements"), { using: "css selector", value: css });
        for (const el of found) {
          const id = el[ELEMENT];
          if (!text || (await wd("GET", at(`/element/${id}/text`))).includes(text)) return id;
        }
      } catch {
        // Not there yet.
      }
      if (Date.now() > until) throw new Error(`no ${css}${text ? ` with "${text}"` : ""} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return {
    waitFor,
    type: async (css, text) => wd("POST", at(`/element/${await waitFor(css)}/value`), { text }),
    click: async (css, text) => wd("POST", at(`/element/${await waitFor(css, text)}/click`), {}),
    screenshot: () => wd("GET", at("/screenshot")),
    /** Presses each character of `text` on the keyboard, as a user would (WebDriver actions). */
    keys: (text) =>
      wd("POST", at("/actions"), {
        actions: [{ type: "key", id: "keyboard", actions: [...text].flatMap((c) => [{ type: "keyDown", value: c }, { type: "keyUp", value: c }]) }],
      }),
    /** Runs `script` in the page; it calls its last argument with the result. */
    run: (script) => wd("POST", at("/execute/async"), { script, args: [] }),
    close: async () => {
      await wd("DELETE", at("")).catch(() => undefined);
      driver.kill();
    },
  };
}
