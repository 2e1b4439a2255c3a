// The desktop app's status line: online or offline, decisions waiting in the outbox, refused
// ones (conflicts), and when the queue was last synced. Shown only where there is a desk.

import { useEffect, useState } from "preact/hooks";
import type { Desk, DeskStatus } from "../transport";

const EVERY_MS = 2000;

export function DeskStatusLine({ desk }: { desk: Desk }) {
  const [status, setStatus] = useState<DeskStatus | null>(null);
  const [keyring, setKeyring] = useState<string | null>(null);
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
      {status.conflicts > 0 && <strong class="error"> · {status.conflicts} refused</strong>}
      {" · "}synced {status.lastSyncMs ? new Date(status.lastSyncMs).toLocaleTimeString() : "never"}
      {keyring && <span class="error" title={keyring}> · sign-in not kept (no keyring)</span>}
    </span>
  );
}
