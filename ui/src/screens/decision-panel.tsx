// Approve or reject, with reject type, labels and the three texts. A lost lease or a decision
// made elsewhere is said plainly, and what was typed stays.

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Api } from "../transport";
import { ApiError } from "../transport";
import type { Answer, CaseDetail, Decision, LabelInfo, RejectLabel, RejectType } from "../types";
import { isTyping } from "../keys";
import { LabelPicker } from "./label-picker";
import { decisionStatus } from "./second-look";

const CONFLICTS: Record<string, string> = {
  LEASE_NOT_HELD: "You no longer hold this case (your lease ran out or it was released). Your input is kept.",
  VERSION_CONFLICT: "The case changed since you opened it. Reopen it to see the changes; your input is kept.",
  CASE_ALREADY_DECIDED: "Someone else decided this case. Your input is kept below.",
  SELF_CHECK: "This case checks your own decision: a second person must decide it.",
  STAGED_DECISION_VOIDED:
    "The evidence changed after the first decision was made: that decision is void and the applicant is back in review. Nothing to confirm here.",
  EVIDENCE_CHANGED: "The evidence changed since this case was opened. Reopen it; your input is kept.",
};

export function DecisionPanel({ api, detail, onNext }: { api: Api; detail: CaseDetail; onNext: () => void }) {
  const c = detail.case;
  const [catalogue, setCatalogue] = useState<LabelInfo[]>([]);
  const [answer, setAnswerState] = useState<Answer | null>(null);
  const [rejectType, setRejectTypeState] = useState<RejectType>("RETRY");
  // Keys can follow each other faster than a render: the choices are kept where a handler
  // reads them at once ("a" then Ctrl+Enter submits the approval).
  const chosen = useRef<{ answer: Answer | null; rejectType: RejectType }>({ answer: null, rejectType: "RETRY" });
  const setAnswer = (a: Answer) => {
    chosen.current.answer = a;
    setAnswerState(a);
  };
  const setRejectType = (t: RejectType) => {
    chosen.current.rejectType = t;
    setRejectTypeState(t);
  };
  const [labels, setLabels] = useState<RejectLabel[]>(c.suggestedLabels);
  const [moderation, setModeration] = useState("");
  const [client, setClient] = useState("");
  const [note, setNote] = useState("");
  // For a RETRY: document id → the reason the applicant reads.
  const [reupload, setReupload] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<Decision | null>(detail.decision ?? null);
  // One key per decision attempt: a retry after a lost answer is not a second decision.
  const key = useRef(crypto.randomUUID());

  useEffect(() => {
    void api.labels().then(setCatalogue);
  }, [api]);

  const submit = async () => {
    const { answer, rejectType } = chosen.current;
    if (!answer) {
      setError("Choose approve (a) or reject (r) first.");
      return;
    }
    if (answer === "RED" && labels.length === 0) {
      setError("A rejection needs at least one label.");
      return;
    }
    const asked = Object.entries(reupload);
    if (answer === "RED" && rejectType === "RETRY" && asked.some(([, reason]) => !reason.trim())) {
      setError("Each document asked for again needs a reason for the applicant.");
      return;
    }
    setError(null);
    try {
      const input = {
        answer,
        labels: answer === "RED" ? labels : [],
        version: c.version,
        ...(answer === "RED" ? { rejectType } : {}),
        ...(moderation.trim() ? { moderationComment: moderation.trim() } : {}),
        ...(client.trim() ? { clientComment: client.trim() } : {}),
        ...(note.trim() ? { internalNote: note.trim() } : {}),
        ...(answer === "RED" && rejectType === "RETRY" && asked.length > 0
          ? { reupload: asked.map(([documentId, reason]) => ({ documentId, reason: reason.trim() })) }
          : {}),
      };
      setDone(await api.decide(c.id, input, key.current));
    } catch (e) {
      setError(e instanceof ApiError ? (CONFLICTS[e.code] ?? e.message) : String(e));
    }
  };

  // Registered with the DOM update, so a key pressed as soon as the screen shows is not lost.
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        if (done) onNext();
        else void submit();
        return;
      }
      if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      const actions: Record<string, () => void> = {
        a: () => setAnswer("GREEN"),
        r: () => setAnswer("RED"),
        f: () => setRejectType("FINAL"),
        t: () => setRejectType("RETRY"),
        n: () => done && onNext(),
        "/": () => document.getElementById("label-search")?.focus(),
      };
      const action = actions[e.key];
      if (action) {
        e.preventDefault();
        action();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  if (done) {
    return (
      <aside class="decision done" role="status">
        <h2>Decided: {done.answer}{done.rejectType ? ` · ${done.rejectType}` : ""}</h2>
        {done.status === "staged" && (
          <p class="staged" data-testid="staged">Staged: a second reviewer confirms it before the applicant gets it (four-eyes).</p>
        )}
        {done.status && done.status !== "staged" && done.status !== "final" && <p>This decision is {decisionStatus(done)}.</p>}
        {"pending" in done && (
          <p class="pending">Saved on this computer; it is sent when the server can be reached.</p>
        )}
        {done.labels.length > 0 && <p>{done.labels.join(", ")}</p>}
        {(done.reupload ?? []).length > 0 && (
          <p>Asked for again: {(done.reupload ?? []).length} document{(done.reupload ?? []).length > 1 ? "s" : ""}</p>
        )}
        <button class="primary" onClick={onNext} title="n or Ctrl+Enter">Next case</button>
      </aside>
    );
  }
  return (
    <aside class="decision">
      <h2>Decision</h2>
      <div class="answers" role="radiogroup">
        <button class={answer === "GREEN" ? "green on" : "green"} onClick={() => setAnswer("GREEN")} title="a">
          Approve
        </button>
        <button class={answer === "RED" ? "red on" : "red"} onClick={() => setAnswer("RED")} title="r">
          Reject
        </button>
      </div>
      {answer === "RED" && (
        <>
          <div class="reject-type">
            <label><input type="radio" name="rt" checked={rejectType === "FINAL"} onChange={() => setRejectType("FINAL")} /> FINAL</label>
            <label><input type="radio" name="rt" checked={rejectType === "RETRY"} onChange={() => setRejectType("RETRY")} /> RETRY</label>
          </div>
          <LabelPicker catalogue={catalogue} picked={labels} onChange={setLabels} />
          {rejectType === "RETRY" && detail.documents.length > 0 && (
            <fieldset class="reupload">
              <legend>Ask for again</legend>
              {detail.documents.map((d) => {
                const asked = d.id in reupload;
                return (
                  <div key={d.id} class="reupload-doc">
                    <label>
                      <input
                        type="checkbox"
                        name="reupload"
                        value={d.id}
                        checked={asked}
                        onChange={() => {
                          const next = { ...reupload };
                          if (asked) delete next[d.id];
                          else next[d.id] = "";
                          setReupload(next);
                        }}
                      />{" "}
                      {d.docType} {d.side ?? ""}
                    </label>
                    {asked && (
                      <input
                        name={`reupload-reason-${d.id}`}
                        placeholder="Why, for the applicant (e.g. the photo is blurred)"
                        value={reupload[d.id]}
                        onInput={(e) => setReupload({ ...reupload, [d.id]: e.currentTarget.value })}
                      />
                    )}
                  </div>
                );
              })}
            </fieldset>
          )}
        </>
      )}
      <label>
        Comment for the applicant
        <textarea name="moderationComment" value={moderation} onInput={(e) => setModeration(e.currentTarget.value)} />
      </label>
      <label>
        Comment for the client only
        <textarea name="clientComment" value={client} onInput={(e) => setClient(e.currentTarget.value)} />
      </label>
      <label>
        Internal note
        <textarea name="internalNote" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      {error && <p class="error" role="alert">{error}</p>}
      <button class="primary" onClick={() => void submit()} title="Ctrl+Enter">Submit decision</button>
    </aside>
  );
}
