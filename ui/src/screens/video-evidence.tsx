// A video identification's evidence, for the reviewer and supervisor: the session's outcome,
// the security features checked, each screenshot (tag, time, SHA-256) as a thumbnail that
// opens full size, and the recording's parts.

import { useEffect, useRef, useState } from "preact/hooks";
import type { Api } from "../transport";
import type { CallView, Evidence } from "../types";
import { useBlobUrl } from "./blob-url";

const TAG_NAMES: Record<string, string> = { id_front: "ID front", id_back: "ID back", face: "Face" };

function tagName(tag: string, view: CallView): string {
  const feature = tag.match(/^security_feature_(\d+)$/);
  if (feature) {
    const f = view.features.find((x) => x.n === Number(feature[1]));
    return `Security feature ${feature[1]}${f ? `: ${f.feature.replace(/_/g, " ")}` : ""}`;
  }
  return TAG_NAMES[tag] ?? tag.replace(/_/g, " ");
}

export function VideoEvidence({ api, caseId }: { api: Api; caseId: string }) {
  const [view, setView] = useState<CallView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.caseVideo(caseId).then(setView, (e: Error) => setError(e.message));
  }, [api, caseId]);
  if (error) return <p class="error">{error}</p>;
  if (!view) return <p>Loading the video identification…</p>;
  const { session } = view;
  const shots = view.evidence.filter((e) => e.kind === "screenshot");
  const parts = view.evidence.filter((e) => e.kind === "recording" && e.tag !== "call");
  const call = view.evidence.find((e) => e.kind === "recording" && e.tag === "call");
  const started = session.callStartedAtMs ?? session.createdAtMs;
  return (
    <section class="video-evidence">
      <h2>
        Video identification: {session.state.replace("_", " ")}
        {session.abortReason ? ` (${session.abortReason.replace(/_/g, " ")})` : ""}
      </h2>
      <p>
        Consent {session.consentAtMs ? `given ${new Date(session.consentAtMs).toLocaleString()}` : "not given"}
        {session.consentTextVersion ? ` to ${session.consentTextVersion}` : ""}.
      </p>
      {call && <CallPlayer api={api} call={call} view={view} />}
      <div class="documents screenshots">
        {shots.map((e) => <Screenshot key={e.id} api={api} evidence={e} name={tagName(e.tag, view)} startedMs={started} />)}
      </div>
      {parts.length > 0 && (
        <ul class="recording">
          {parts.map((e) => (
            <li key={e.id}>
              Recording, {e.tag.replace(/_/g, " ")}: {((e.durationMs ?? 0) / 1000).toFixed(1)} s,{" "}
              {(e.bytes / 1024).toFixed(0)} KiB <code title="SHA-256">{e.sha256.slice(0, 16)}…</code>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** What each step of the timeline is called. */
const STEP_WORDS: Record<string, string> = {
  call_started: "Call started",
  read_out_confirmed: "Read-out confirmed",
  tan_sent: "TAN sent",
  tan_confirmed: "TAN entered",
  completed: "Completed",
  aborted: "Aborted",
};

const clock = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

/** The call's recording (video and both voices) with the interview's steps on its timeline;
 * a step jumps the player to its moment. */
function CallPlayer({ api, call, view }: { api: Api; call: Evidence; view: CallView }) {
  const url = useBlobUrl(() => api.evidenceContent(call.id), [api, call.id]);
  const player = useRef<HTMLVideoElement>(null);
  const origin = call.capturedAtMs;
  const length = Math.max(call.durationMs ?? 0, 1);
  const shots = view.evidence.filter((e) => e.kind === "screenshot");
  const marks = [
    ...shots.map((e) => ({ atMs: e.capturedAtMs, label: tagName(e.tag, view), step: "screenshot" })),
    ...view.timeline.filter((m) => m.step !== "screenshot").map((m) => ({ ...m, label: STEP_WORDS[m.step] ?? m.step })),
  ]
    .map((m) => ({ ...m, offset: Math.min(Math.max(0, m.atMs - origin), length) }))
    .sort((a, b) => a.offset - b.offset);
  const seek = (offset: number) => {
    const v = player.current;
    if (!v) return;
    v.currentTime = offset / 1000;
    v.focus();
  };
  return (
    <div class="call-player">
      {url ? (
        <video ref={player} class="call-recording" src={url} controls preload="metadata" />
      ) : (
        <div class="placeholder">Loading the recording…</div>
      )}
      <div class="timeline-bar" aria-hidden="true">
        {marks.map((m, i) => (
          <span key={i} class={`tick ${m.step}`} style={{ left: `${(m.offset / length) * 100}%` }} title={m.label} />
        ))}
      </div>
      <ol class="timeline">
        {marks.map((m, i) => (
          <li key={i}>
            <button class="link" data-offset-ms={m.offset} onClick={() => seek(m.offset)}>
              {clock(m.offset)}
            </button>{" "}
            {m.label}
          </li>
        ))}
      </ol>
    </div>
  );
}

function Screenshot({ api, evidence, name, startedMs }: { api: Api; evidence: Evidence; name: string; startedMs: number }) {
  const url = useBlobUrl(() => api.evidenceContent(evidence.id), [api, evidence.id]);
  const [zoom, setZoom] = useState(false);
  const at = Math.max(0, Math.round((evidence.capturedAtMs - startedMs) / 1000));
  return (
    <figure class={zoom ? "doc zoomed" : "doc"} data-tag={evidence.tag}>
      {url ? <img src={url} alt={name} onClick={() => setZoom(!zoom)} /> : <div class="placeholder">loading…</div>}
      <figcaption>
        {name} · {Math.floor(at / 60)}:{String(at % 60).padStart(2, "0")} into the call · {evidence.width}×{evidence.height}
        <br />
        <code title="SHA-256">{evidence.sha256.slice(0, 16)}…</code>
      </figcaption>
    </figure>
  );
}
