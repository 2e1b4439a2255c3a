// The desktop app's status line: online or offline, decisions waiting in the outbox, refused
// ones (conflicts), and when the queue was last synced. Shown only where there is a desk.

import { useEffect, useState } from "preact/hooks";
import type { Desk, DeskConflict, DeskStatus } from "../transport";
import type { DecisionInput } from "../types";

const EVERY_MS = 2000;

export function DeskStatusLine({ desk }: { desk: Desk }) {
  const [status, setStatus] = useState<DeskStatus | null>(null);
  const [keyring, setKeyring] = useState<string | null>(null);
  const [conflicts, setConflicts] = useState<DeskConflict[] | null>(null);
  const showConflicts = () => void desk.conflicts().then(setConflicts);
  useEffect(() => {
    let live = true;
    const read = () => void desk.status().then((s) => live && setStatus(s)).catch(() => live && setStatus(null));
    read();
    void desk.keyringProblem().then((p) => live && setKeyring(p));
    const timer = setInterval(read, EVERY_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [desk]);
  if (!status) return null;
  return (
    <span class="desk-status" data-testid="desk-status">
      <span class={status.online ? "ok" : "error"}>{status.online ? "online" : "offline"}</span>
      {" · "}
      {status.pending === 0 ? "all sent" : `${status.pending} waiting to send`}
      {status.conflicts > 0 && (
        <button class="link error" onClick={showConflicts}>
          {" "}· {status.conflicts} refused
        </button>
      )}
      {" · "}synced {status.lastSyncMs ? new Date(status.lastSyncMs).toLocaleTimeString() : "never"}
      {keyring && <span class="error" title={keyring}> · sign-in not kept (no keyring)</span>}
      {conflicts && (
        <Conflicts
          conflicts={conflicts}
          onDismiss={async (seq) => {
            await desk.dismissConflict(seq);
            setConflicts(await desk.conflicts());
          }}
          onClose={() => setConflicts(null)}
        />
      )}
    </span>
  );
}

const describe = (d: Pick<DecisionInput, "answer" | "rejectType" | "labels">) =>
  [d.answer, d.rejectType, (d.labels ?? []).join(", ")].filter(Boolean).join(" · ");

/** Each refused decision: what the reviewer decided here, and what the server holds. */
function Conflicts(props: { conflicts: DeskConflict[]; onDismiss: (seq: number) => void; onClose: () => void }) {
  return (
    <div class="overlay" role="dialog" aria-label="Refused decisions">
      <div class="panel conflicts">
        <h2>Decisions the server refused</h2>
        {props.conflicts.length === 0 && <p>None left.</p>}
        {props.conflicts.map((c) => {
          const theirs = c.server?.decision;
          return (
            <div class="conflict" key={c.item.seq}>
              <p>
                Case {c.item.caseId.slice(0, 8)}: {c.message}
              </p>
              <table>
                <tbody>
                  <tr>
                    <th>Yours</th>
                    <td>{describe(c.item.input)}</td>
                    <td>{new Date(c.item.createdAtMs).toLocaleString()}</td>
                  </tr>
                  <tr>
                    <th>On the server</th>
                    <td>{theirs ? describe(theirs) : `not decided (${c.server?.case.state ?? "unknown"})`}</td>
                    <td>{theirs ? new Date(theirs.decidedAtMs).toLocaleString() : ""}</td>
                  </tr>
                </tbody>
              </table>
              <button onClick={() => props.onDismiss(c.item.seq)}>Understood</button>
            </div>
          );
        })}
        <button class="primary" onClick={props.onClose}>Close</button>
      </div>
    </div>
  );
}
