// The app: who is signed in, which screen is open, and the keys that work everywhere.

import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, makeApi, pickTransport } from "./transport";
import type { CaseDetail, Session } from "./types";
import { SignIn } from "./screens/sign-in";
import { Queue } from "./screens/queue";
import { CaseView } from "./screens/case-view";
import { HelpOverlay } from "./screens/help";
import { isTyping } from "./keys";
import { Supervisor } from "./screens/supervisor";
import { Admin } from "./screens/admin";
import { administers, audits, runsCalls } from "./roles";
import { VideoCall } from "./screens/video-call";
import { DeskStatusLine } from "./screens/desk-status";

type View = "queue" | "supervisor" | "admin" | "video";
const viewOf = (hash: string): View =>
  hash === "#/supervisor" ? "supervisor" : hash === "#/admin" ? "admin" : hash === "#/video" ? "video" : "queue";

const SESSION_KEY = "identdesk.session";

function savedSession(): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? "null") as Session | null;
    return s && s.expiresAtMs > Date.now() ? s : null;
  } catch {
    return null;
  }
}

export function App() {
  const [session, setSession] = useState<Session | null>(savedSession);
  const [expired, setExpired] = useState(false);
  const [open, setOpen] = useState<CaseDetail | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  const [view, setView] = useState<View>(viewOf(location.hash));
  useEffect(() => {
    const onHash = () => setView(viewOf(location.hash));
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  const api = useMemo(
    () =>
      makeApi(
        pickTransport(),
        () => session,
        () => setExpired(true),
      ),
    [session],
  );

  // The desktop app keeps the sign-in in the OS keyring: resumed at start.
  useEffect(() => {
    if (session || !api.desk) return;
    void api.desk.resume().then((s) => s && signedIn(s));
    // Once, at start.
  }, []);

  useEffect(() => {
    if (!session) return;
    // The session ends visibly: a banner when the token expires, never a silent failure.
    const left = session.expiresAtMs - Date.now();
    const timer = setTimeout(() => setExpired(true), Math.max(0, left));
    return () => clearTimeout(timer);
  }, [session]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "?" && !isTyping(e)) {
        e.preventDefault();
        setHelp((h) => !h);
      } else if (e.key === "Escape") {
        setHelp(false);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const signedIn = (s: Session) => {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
    setExpired(false);
    setSession(s);
  };
  const signOut = async () => {
    try {
      await api.logout();
    } catch {
      // Signing out of a session the server already ended is fine.
    }
    sessionStorage.removeItem(SESSION_KEY);
    setSession(null);
    setOpen(null);
  };

  /** Claims the next case (the server chooses) and opens it. */
  const next = async () => {
    setNotice(null);
    // With "case-interactive" (set by the case view), the time a reviewer waits for the next case.
    performance.mark("next-case");
    try {
      const claimed = await api.claim();
      if (!claimed) {
        setOpen(null);
        setNotice("The queue is empty: nothing to review right now.");
        return;
      }
      setOpen(await api.caseDetail(claimed.id));
    } catch (e) {
      setNotice(e instanceof ApiError ? e.message : String(e));
    }
  };

  if (!session) return <SignIn api={api} onSignedIn={signedIn} />;
  return (
    <div class="shell">
      <header class="top">
        <strong>IdentDesk</strong>
        <nav>
          <a href="#/" onClick={() => setOpen(null)}>
            Queue
          </a>
          {audits(session.user.role) && (
            <a href="#/supervisor" onClick={() => setOpen(null)}>
              Supervisor
            </a>
          )}
          {administers(session.user.role) && (
            <a href="#/admin" onClick={() => setOpen(null)}>
              Admin
            </a>
          )}
          {api.desk && runsCalls(session.user.role) && (
            <a href="#/video" onClick={() => setOpen(null)}>
              Video
            </a>
          )}
        </nav>
        {api.desk && <DeskStatusLine desk={api.desk} />}
        <span class="who">
          {session.user.email} · {session.user.role}
        </span>
        <button class="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      {expired && (
        <div class="banner error" role="alert">
          Your session has expired. What you typed is kept on this page;{" "}
          <button class="link" onClick={() => setSession(null)}>
            sign in again
          </button>{" "}
          to continue.
        </div>
      )}
      {notice && (
        <div class="banner" role="status">
          {notice}
        </div>
      )}
      <main>
        {view === "supervisor" ? (
          audits(session.user.role) ? (
            <Supervisor api={api} />
          ) : (
            <p class="error" role="alert">
              The {session.user.role} role may not open the supervisor screens.
            </p>
          )
        ) : view === "admin" ? (
          administers(session.user.role) ? (
            <Admin api={api} me={session.user.id} />
          ) : (
            <p class="error" role="alert">
              The {session.user.role} role may not open the admin screens.
            </p>
          )
        ) : view === "video" ? (
          api.desk && runsCalls(session.user.role) ? (
            <VideoCall call={api.desk.call} />
          ) : (
            <p class="error" role="alert">
              Video calls run in the desktop app, for video operators, supervisors and admins.
            </p>
          )
        ) : open ? (
          <CaseView
            key={open.case.id}
            api={api}
            user={session.user}
            detail={open}
            onNext={next}
            onClose={() => setOpen(null)}
            onChanged={async () => setOpen(await api.caseDetail(open.case.id))}
            onOpen={async (id) => setOpen(await api.caseDetail(id))}
          />
        ) : (
          <Queue api={api} user={session.user} onStart={next} onOpen={async (id) => setOpen(await api.caseDetail(id))} />
        )}
      </main>
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
    </div>
  );
}
