// The operator's call screen (desktop app only): the applicant's live video with a zoom on a
// region, call quality, the guided interview as a checklist the media core enforces, one key
// for the screenshot the interview asks for next, the thumbnails taken, the TAN, and the end
// of the call. Every step goes through `CallDesk`; the server keeps the record.

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../transport";
import type { CallDesk, CallScreen, CallStep } from "../transport";
import type { AbortReason, InterviewStep } from "../types";
import { isTyping } from "../keys";
import { useBlobUrl } from "./blob-url";

const ABORT_REASONS: [AbortReason, string][] = [
  ["bad_light", "Bad light"],
  ["bad_image", "Bad image"],
  ["bad_sound", "Bad sound"],
  ["applicant_not_alone", "Applicant not alone"],
  ["connection_lost", "Connection lost"],
  ["suspected_fraud", "Suspected fraud"],
  ["applicant_left", "Applicant left"],
];

/** Zoom: a region this share of the picture, shown magnified. */
const ZOOM_SHARE = 0.25;

function stepName(step: InterviewStep, screen: CallScreen): string {
  switch (step.step) {
    case "consent":
      return "Consent to the recording";
    case "id_front":
      return "ID document, front";
    case "id_back":
      return "ID document, back";
    case "security_feature": {
      const f = screen.features.find((x) => x.n === step.n);
      return `Security feature ${step.n}: ${f ? f.feature.replace(/_/g, " ") : ""}${f?.opticallyVariable ? " (tilt)" : ""}`;
    }
    case "face":
      return "Face";
    case "read_out":
      return `Read-out: ${screen.readOut}`;
    case "tan":
      return "TAN entered by the applicant";
  }
}

/** What the operator is asked to do at `step`. */
function instruction(step: InterviewStep, screen: CallScreen): string {
  switch (step.step) {
    case "consent":
      return "The applicant consents on their page.";
    case "id_front":
      return "Ask for the front of the ID document, filling the picture. Press S.";
    case "id_back":
      return "Ask for the back of the ID document. Press S.";
    case "security_feature":
      return `${screen.features.find((x) => x.n === step.n)?.instruction ?? ""} Press S while it shows.`;
    case "face":
      return "Ask the applicant to look into the camera. Press S.";
    case "read_out":
      return `Ask the applicant to read out "${screen.readOut}". Press R when it matches.`;
    case "tan":
      return screen.tanSent ? "The TAN is sent: the applicant types it on their page." : "Press T to send the TAN.";
  }
}

const sameStep = (a: InterviewStep | null, b: InterviewStep) =>
  !!a && a.step === b.step && (a.step !== "security_feature" || (b.step === "security_feature" && a.n === b.n));

export function VideoCall({ call }: { call: CallDesk }) {
  const [screen, setScreen] = useState<CallScreen | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [zoom, setZoom] = useState(false);
  const [reason, setReason] = useState<AbortReason>("bad_image");
  const live = useRef<HTMLCanvasElement>(null);
  const magnified = useRef<HTMLCanvasElement>(null);
  const shown = useRef<number | null>(null);
  const focus = useRef({ x: 0.5, y: 0.5 });
  const zoomOn = useRef(false);
  zoomOn.current = zoom;
  const running = !!screen && !screen.ended;

  /** Runs one step; the answer is the new screen, a refusal is shown as it is worded. */
  const act = async (step: () => Promise<CallScreen | null>, waiting?: string) => {
    if (busy) return;
    setBusy(true);
    setNotice(waiting ?? null);
    try {
      const next = await step();
      if (next === null) setNotice("Nobody is waiting in the waiting room right now.");
      else {
        setScreen(next);
        setNotice(null);
      }
    } catch (e) {
      setNotice(e instanceof ApiError ? `${e.message} (${e.code})` : String(e));
    } finally {
      setBusy(false);
    }
  };

  // The live view: pictures are pulled one after the other, so a slow screen skips frames
  // instead of falling behind the call.
  useEffect(() => {
    if (!screen || screen.ended) return;
    let stopped = false;
    void (async () => {
      let after: number | null = null;
      while (!stopped) {
        let frame;
        try {
          frame = await call.frame(after);
        } catch {
          return;
        }
        if (!frame || stopped) continue;
        const picture = await createImageBitmap(frame.jpeg);
        draw(picture);
        picture.close();
        after = frame.number;
        shown.current = frame.number;
      }
    })();
    return () => {
      stopped = true;
    };
  }, [screen?.sessionId, !!screen?.ended]);

  const draw = (picture: ImageBitmap) => {
    const canvas = live.current;
    if (!canvas) return;
    if (canvas.width !== picture.width || canvas.height !== picture.height) {
      canvas.width = picture.width;
      canvas.height = picture.height;
    }
    canvas.getContext("2d")?.drawImage(picture, 0, 0);
    const zoomCanvas = magnified.current;
    if (zoomOn.current && zoomCanvas) {
      const sw = picture.width * ZOOM_SHARE;
      const sh = picture.height * ZOOM_SHARE;
      const sx = Math.min(Math.max(focus.current.x * picture.width - sw / 2, 0), picture.width - sw);
      const sy = Math.min(Math.max(focus.current.y * picture.height - sh / 2, 0), picture.height - sh);
      zoomCanvas.getContext("2d")?.drawImage(picture, sx, sy, sw, sh, 0, 0, zoomCanvas.width, zoomCanvas.height);
    }
  };

  // Quality, the TAN and the applicant leaving arrive on their own: read once a second.
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => {
      call.screen().then(setScreen, () => undefined);
    }, 1000);
    return () => clearInterval(timer);
  }, [running, screen?.sessionId]);

  const capture = () => act(() => call.capture(shown.current ?? 0));
  const readOut = () => act(() => call.confirmReadOut());
  const sendTan = () => act(() => call.sendTan());
  const toggleMute = () => act(() => call.mute(!screen?.audio.muted));
  const finish = () => act(() => call.end({ how: "finish" }), "Finishing; the recording is uploaded…");
  const abort = () => act(() => call.end({ how: "abort", reason }), "Aborting; the recording is uploaded…");
  const close = () => act(() => call.end({ how: "close" }), "Closing; the recording is uploaded…");
  const next = () => {
    if (screen?.hungUp) setScreen(null);
    return act(() => call.next(), "Taking the next applicant and connecting… (up to 20 s while their page connects)");
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e) || e.ctrlKey || e.altKey || e.metaKey) return;
      const key = e.key.toLowerCase();
      const arrows: Record<string, [number, number]> = {
        arrowleft: [-0.05, 0],
        arrowright: [0.05, 0],
        arrowup: [0, -0.05],
        arrowdown: [0, 0.05],
      };
      if (!running) {
        if (key === "n" && (!screen || screen.hungUp)) void next();
      } else if (key === "s" || key === " ") void capture();
      else if (key === "r") void readOut();
      else if (key === "t") void sendTan();
      else if (key === "m" && screen?.audio.microphone) void toggleMute();
      else if (key === "z") setZoom((z) => !z);
      else if (zoomOn.current && arrows[key]) {
        const [dx, dy] = arrows[key];
        focus.current = {
          x: Math.min(Math.max(focus.current.x + dx, 0), 1),
          y: Math.min(Math.max(focus.current.y + dy, 0), 1),
        };
      } else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const onMove = (e: MouseEvent) => {
    const r = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    focus.current = { x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height };
  };

  const nextButton = (
    <button class="primary" disabled={busy} onClick={next}>
      Take the next applicant (N)
    </button>
  );
  const noticeLine = notice && (
    <p class="notice" role="status">
      {notice}
    </p>
  );
  if (!screen) {
    return (
      <section class="video-call idle">
        <h2>Video identification</h2>
        <p>Applicants who consented wait in the waiting room; the server hands them out at random.</p>
        {nextButton}
        {noticeLine}
      </section>
    );
  }

  const q = screen.quality;
  const complete = screen.nextStep === null;
  return (
    <section class="video-call" data-session={screen.sessionId}>
      <div class="call-main">
        <div class="live-wrap">
          <canvas ref={live} class="live" onMouseMove={onMove} aria-label="The applicant's live video" />
          {zoom && <canvas ref={magnified} class="zoom" width={640} height={360} aria-label="Zoom" />}
        </div>
        <p class="quality" data-testid="call-quality">
          <span data-connection={screen.connection}>{screen.connection}</span> · {q.width}×{q.height} ·{" "}
          {q.framesPerSecond.toFixed(0)} fps · {q.videoKbps.toFixed(0)} kbit/s · loss {(q.loss * 100).toFixed(1)}% · RTT{" "}
          {q.roundTripMs === null ? "–" : `${q.roundTripMs.toFixed(0)} ms`} · {q.framesDecoded} frames
        </p>
        <p class="audio-devices" data-testid="call-audio">
          Microphone: {screen.audio.microphone ?? "none"}
          {screen.audio.microphone && (
            <>
              {" "}
              <meter min={0} max={0.25} value={screen.audio.level} aria-label="Microphone level" />{" "}
              <button class="link" aria-pressed={screen.audio.muted} disabled={busy || !running} onClick={toggleMute}>
                {screen.audio.muted ? "Unmute (M)" : "Mute (M)"}
              </button>
            </>
          )}{" "}
          · Loudspeaker: {screen.audio.loudspeaker ?? "none"}
        </p>
        {screen.audio.muted && (
          <p class="banner warning" role="status" data-testid="call-muted">
            Muted: the applicant does not hear you.
          </p>
        )}
        {screen.audio.problems.map((p) => (
          <p key={p} class="banner warning" role="status">
            {p}
          </p>
        ))}
        <div class="thumbs">
          {screen.shots.map((s) => (
            <Thumb key={s.n} call={call} shot={s} />
          ))}
        </div>
      </div>
      <aside class="interview">
        <h2>Interview</h2>
        {screen.ended && (
          <p class="banner" role="status" data-testid="call-ended">
            The session ended: {screen.ended.replace(/_/g, " ")}.
          </p>
        )}
        <ol class="steps">
          {screen.steps.map((s: CallStep, i) => (
            <li key={i} class={s.done ? "done" : sameStep(screen.nextStep, s) ? "current" : ""}>
              {s.done ? "✓ " : ""}
              {stepName(s, screen)}
              {sameStep(screen.nextStep, s) && !screen.ended && <div class="instruction">{instruction(s, screen)}</div>}
            </li>
          ))}
        </ol>
        {running && (
          <div class="call-actions">
            <button disabled={busy || !screen.nextStep || screen.nextStep.step === "read_out" || screen.nextStep.step === "tan"}
              onClick={capture}>
              Screenshot (S)
            </button>
            <button disabled={busy || screen.nextStep?.step !== "read_out"} onClick={readOut}>
              Read-out matches (R)
            </button>
            <button disabled={busy || screen.nextStep?.step !== "tan"} onClick={sendTan}>
              {screen.tanSent ? "Send a new TAN (T)" : "Send TAN (T)"}
            </button>
            <button class="primary" disabled={busy || !complete} onClick={finish}>
              Finish identification
            </button>
            <label>
              Abort because{" "}
              <select name="abort-reason" value={reason} onChange={(e) => setReason(e.currentTarget.value as AbortReason)}>
                {ABORT_REASONS.map(([value, text]) => (
                  <option key={value} value={value}>
                    {text}
                  </option>
                ))}
              </select>
            </label>
            <button class="red" disabled={busy} onClick={abort}>
              Abort call
            </button>
            <p class="hint">
              Z zooms (move the mouse or the arrow keys); the screenshot is the frame on screen. M mutes your
              microphone.
            </p>
          </div>
        )}
        {screen.ended && !screen.hungUp && (
          <button class="primary" disabled={busy} onClick={close}>
            Hang up and upload the recording
          </button>
        )}
        {screen.hungUp && nextButton}
        {noticeLine}
      </aside>
    </section>
  );
}

function Thumb({ call, shot }: { call: CallDesk; shot: CallScreen["shots"][number] }) {
  const url = useBlobUrl(() => call.shot(shot.n), [shot.n, shot.sha256]);
  return (
    <figure class="thumb" data-tag={shot.tag}>
      {url ? <img src={url} alt={shot.tag} /> : <div class="placeholder" />}
      <figcaption>
        {shot.tag.replace(/_/g, " ")} · {new Date(shot.capturedAtMs).toLocaleTimeString()} ·{" "}
        <code title={shot.sha256}>{shot.sha256.slice(0, 10)}…</code>
      </figcaption>
    </figure>
  );
}
