// The queue: counts by state, my claimed cases, "Start reviewing", and every case, filtered and paged.

import { useEffect, useLayoutEffect, useState } from "preact/hooks";
import type { Api } from "../transport";
import type { Case, CaseKind, CaseState, StaffUser } from "../types";
import { isTyping } from "../keys";

const STATES: CaseState[] = ["queued", "claimed", "decided", "escalated", "on_hold"];
const KINDS: CaseKind[] = ["review", "video_ident", "four_eyes", "qa_sample"];
const PAGE = 50;

interface Props {
  api: Api;
  user: StaffUser;
  onStart: () => void;
  onOpen: (id: string) => void;
}

export function Queue({ api, user, onStart, onOpen }: Props) {
  const [counts, setCounts] = useState<Partial<Record<CaseState, number>>>({});
  const [mine, setMine] = useState<Case[]>([]);
  const [state, setState] = useState<CaseState | "">("queued");
  const [kind, setKind] = useState<CaseKind | "">("");
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<{ items: Case[]; total: number }>({ items: [], total: 0 });

  useEffect(() => {
    void Promise.all(STATES.map((s) => api.cases({ state: s, limit: 1 }).then((p) => [s, p.total] as const))).then(
      (pairs) => setCounts(Object.fromEntries(pairs)),
    );
    void api.cases({ state: "claimed", holderId: user.id, limit: 20 }).then((p) => setMine(p.items));
  }, [api, user.id]);

  useEffect(() => {
    const query: Record<string, string | number> = { limit: PAGE, offset };
    if (state) query.state = state;
    if (kind) query.kind = kind;
    // Only the newest request's answer is shown: an older one arriving late is dropped.
    let current = true;
    void api.cases(query).then((p) => current && setPage({ items: p.items, total: p.total }));
    return () => {
      current = false;
    };
  }, [api, state, kind, offset]);

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

  const now = Date.now();
  return (
    <section class="queue">
      <div class="counts">
        {STATES.map((s) => (
          <div class="count" key={s}>
            <span class="n">{counts[s] ?? "…"}</span>
            <span>{s.replace("_", " ")}</span>
          </div>
        ))}
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
          <select value={state} onChange={(e) => { setOffset(0); setState(e.currentTarget.value as CaseState | ""); }}>
            <option value="">all</option>
            {STATES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>
          Kind
          <select value={kind} onChange={(e) => { setOffset(0); setKind(e.currentTarget.value as CaseKind | ""); }}>
            <option value="">all</option>
            {KINDS.map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </label>
        <span class="paging">
          {page.total === 0 ? 0 : offset + 1}–{Math.min(offset + PAGE, page.total)} of {page.total}
          <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>‹</button>
          <button disabled={offset + PAGE >= page.total} onClick={() => setOffset(offset + PAGE)}>›</button>
        </span>
      </div>
      <table class="cases">
        <thead>
          <tr><th>Case</th><th>Kind</th><th>State</th><th>Priority</th><th>Due</th><th>Labels suggested</th></tr>
        </thead>
        <tbody>
          {page.items.map((c) => (
            <tr key={c.id} class={c.dueAtMs < now && c.state !== "decided" ? "late" : ""}>
              <td>{c.id.slice(0, 8)}</td>
              <td>{c.kind}{c.fourEyes ? " · four-eyes" : ""}</td>
              <td>{c.state}</td>
              <td>{c.priority}</td>
              <td>{new Date(c.dueAtMs).toLocaleString()}</td>
              <td>{c.suggestedLabels.join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
