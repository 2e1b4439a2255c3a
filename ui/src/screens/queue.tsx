// The queue: counts by state and by SLA, my claimed cases, "Start reviewing", and every case,
// filtered, in one scrolling list.

import { useEffect, useLayoutEffect, useState } from "preact/hooks";
import type { Api } from "../transport";
import type { Case, CaseKind, CaseState, LabelInfo, StaffUser, UserAccount } from "../types";
import { isTyping } from "../keys";
import { CaseList } from "./case-list";
import { audits } from "../roles";

const STATES: CaseState[] = ["queued", "claimed", "decided", "escalated", "on_hold"];
const KINDS: CaseKind[] = ["review", "video_ident", "four_eyes", "qa_sample"];
/** "Due soon": the SLA ends within this time. */
const SOON_MS = 2 * 60 * 60 * 1000;

interface Props {
  api: Api;
  user: StaffUser;
  onStart: () => void;
  onOpen: (id: string) => void;
}

/** A date input's value ("2026-11-23") as the first millisecond of that day, local time. */
const dayStart = (value: string) => new Date(value + "T00:00").getTime();

export function Queue({ api, user, onStart, onOpen }: Props) {
  const [counts, setCounts] = useState<Partial<Record<CaseState, number>>>({});
  const [sla, setSla] = useState<{ late: number; soon: number } | null>(null);
  const [mine, setMine] = useState<Case[]>([]);
  const [state, setState] = useState<CaseState | "">("queued");
  const [kind, setKind] = useState<CaseKind | "">("");
  const [label, setLabel] = useState("");
  const [reviewer, setReviewer] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [labels, setLabels] = useState<LabelInfo[]>([]);
  const [staff, setStaff] = useState<UserAccount[]>([]);

  useEffect(() => {
    void Promise.all(STATES.map((s) => api.cases({ state: s, limit: 1 }).then((p) => [s, p.total] as const))).then(
      (pairs) => setCounts(Object.fromEntries(pairs)),
    );
    const now = Date.now();
    void Promise.all([
      api.cases({ undecided: "true", dueBeforeMs: now, limit: 1 }),
      api.cases({ undecided: "true", dueBeforeMs: now + SOON_MS, limit: 1 }),
    ]).then(([late, soon]) => setSla({ late: late.total, soon: soon.total - late.total }));
    void api.cases({ state: "claimed", holderId: user.id, limit: 20 }).then((p) => setMine(p.items));
    void api.labels().then(setLabels);
    if (audits(user.role)) void api.users().then(setStaff).catch(() => undefined);
  }, [api, user.id, user.role]);

  // Registered with the DOM update, so a key pressed as soon as the screen shows is not lost.
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "n" && !isTyping(e) && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        onStart();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onStart]);

  const query: Record<string, string | number> = {};
  if (state) query.state = state;
  if (kind) query.kind = kind;
  if (label) query.label = label;
  if (reviewer) query.reviewerId = reviewer;
  if (from) query.createdFromMs = dayStart(from);
  if (to) query.createdToMs = dayStart(to) + 24 * 60 * 60 * 1000;

  return (
    <section class="queue">
      <div class="counts">
        {STATES.map((s) => (
          <div class="count" key={s}>
            <span class="n">{counts[s] ?? "…"}</span>
            <span>{s.replace("_", " ")}</span>
          </div>
        ))}
        <div class="count late" data-testid="past-sla">
          <span class="n">{sla?.late ?? "…"}</span>
          <span>past SLA</span>
        </div>
        <div class="count soon">
          <span class="n">{sla?.soon ?? "…"}</span>
          <span>due within 2 h</span>
        </div>
        <button class="primary" onClick={onStart} title="n">
          Start reviewing
        </button>
      </div>
      {mine.length > 0 && (
        <div class="mine">
          <h2>My claimed cases</h2>
          <ul>
            {mine.map((c) => (
              <li key={c.id}>
                <button class="link" onClick={() => onOpen(c.id)}>
                  {c.kind} · {c.applicantId.slice(0, 8)}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      <div class="filters">
        <label>
          State
          <select name="state" value={state} onChange={(e) => setState(e.currentTarget.value as CaseState | "")}>
            <option value="">all</option>
            {STATES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>
          Kind
          <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as CaseKind | "")}>
            <option value="">all</option>
            {KINDS.map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </label>
        <label>
          Label
          <select name="label" value={label} onChange={(e) => setLabel(e.currentTarget.value)}>
            <option value="">any</option>
            {labels.map((l) => <option key={l.label} value={l.label}>{l.label}</option>)}
          </select>
        </label>
        <label>
          Reviewer
          <select name="reviewer" value={reviewer} onChange={(e) => setReviewer(e.currentTarget.value)}>
            <option value="">anyone</option>
            <option value={user.id}>me</option>
            {staff.filter((u) => u.id !== user.id).map((u) => <option key={u.id} value={u.id}>{u.email}</option>)}
          </select>
        </label>
        <label>
          Created from
          <input type="date" name="from" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          to
          <input type="date" name="to" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
        </label>
      </div>
      <CaseList api={api} query={query} onOpen={onOpen} />
    </section>
  );
}
