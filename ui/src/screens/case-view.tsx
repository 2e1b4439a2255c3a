// A case as a reviewer works it: the applicant, the documents, every check result, the
// lease, and the decision panel.

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type Api } from "../transport";
import type { CaseDetail, DocumentInfo, MrzReading, StaffUser, UserAccount, Verdict } from "../types";
import { DecisionPanel } from "./decision-panel";
import { supervises } from "../roles";
import { ScreeningHits } from "./screening-hits";
import { VideoEvidence } from "./video-evidence";
import { SecondLook } from "./second-look";
import { MaskTool } from "./mask-tool";
import { useBlobUrl } from "./blob-url";
import type { DuplicateMatch } from "../types";

const RENEW_EVERY_MS = 60_000;
/** The documents with the holder's photo, shown beside the selfie. */
const IDENTITY_DOCUMENTS: string[] = ["PASSPORT", "ID_CARD", "DRIVERS", "RESIDENCE_PERMIT"];

interface Props {
  api: Api;
  user: StaffUser;
  detail: CaseDetail;
  onNext: () => void;
  onClose: () => void;
  /** The case changed here (assigned, released): read it again. */
  onChanged: () => void;
  /** Opens another case (a duplicate's). */
  onOpen: (caseId: string) => void;
}

export function CaseView({ api, user, detail, onNext, onChanged, onOpen }: Props) {
  const { case: c, applicant, documents, verdict, history } = detail;
  // The identity document's photo side beside the selfie, for the face comparison.
  const idFront = documents.find((d) => IDENTITY_DOCUMENTS.includes(d.docType) && d.side !== "BACK");
  const selfie = documents.find((d) => d.docType === "SELFIE");
  const others = documents.filter((d) => d !== idFront && d !== selfie);
  const [leaseUntil, setLeaseUntil] = useState(c.leaseUntilMs);
  const [now, setNow] = useState(Date.now());
  // Every image on screen and decoded: the case is ready to work ("next-case" starts the clock).
  const shown = useRef(0);
  const interactive = () =>
    performance.mark("case-interactive", { detail: { caseId: c.id, images: documents.length } });
  const onShown = () => {
    shown.current += 1;
    if (shown.current === documents.length) interactive();
  };
  useEffect(() => {
    if (documents.length === 0) interactive();
    // Once per case: the view is keyed by the case.
  }, []);

  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    // The lease is renewed while the case is open.
    const renew = setInterval(() => {
      void api.renew(c.id).then((r) => setLeaseUntil(r.leaseUntilMs)).catch(() => undefined);
    }, RENEW_EVERY_MS);
    return () => {
      clearInterval(tick);
      clearInterval(renew);
    };
  }, [api, c.id]);

  const left = leaseUntil ? Math.max(0, Math.round((leaseUntil - now) / 1000)) : null;
  const info = applicant.info;
  return (
    <section class="case">
      <div class="case-head">
        <h1>
          {info.firstName} {info.middleName ?? ""} {info.lastName}
        </h1>
        {supervises(user.role) && c.state !== "decided" && <CaseControls api={api} detail={detail} onChanged={onChanged} />}
        <span class="lease" data-testid="lease">
          {c.state === "claimed" && left !== null ? `Lease: ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")} left` : c.state}
        </span>
      </div>
      <div class="case-body">
        <div class="evidence">
          <dl class="profile">
            <dt>Date of birth</dt><dd>{info.dob ?? "—"}</dd>
            <dt>Nationality</dt><dd>{info.nationality ?? "—"}</dd>
            <dt>Address</dt><dd>{info.address ?? "—"}</dd>
            <dt>Level</dt><dd>{applicant.level}</dd>
            <dt>Client's id</dt><dd>{applicant.externalUserId ?? "—"}</dd>
          </dl>
          <div class="documents compare">
            {idFront && <DocumentImage api={api} doc={idFront} onShown={onShown} onChanged={onChanged} />}
            {selfie && <DocumentImage api={api} doc={selfie} onShown={onShown} onChanged={onChanged} />}
          </div>
          {others.length > 0 && (
            <div class="documents">
              {others.map((d) => <DocumentImage key={d.id} api={api} doc={d} onShown={onShown} onChanged={onChanged} />)}
            </div>
          )}
          {verdict && <MrzDigits verdict={verdict} />}
          {verdict && (
            <div class="checks">
              <h2>Automated checks: {verdict.answer}</h2>
              <p>{verdict.reason}</p>
              <ul>
                {verdict.results.map((r, i) => (
                  <li key={i} class={r.outcome}>
                    <strong>{r.check}</strong> {r.outcome === "pass" ? "✓" : r.outcome === "fail" ? "✗" : "?"}{" "}
                    {r.findings.length > 0 ? r.findings.map((f) => f.explanation).join(" ") : r.summary}
                    {r.check === "duplicates" && <DuplicateLinks api={api} details={r.details} onOpen={onOpen} />}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <SecondLook detail={detail} />
          {c.kind === "video_ident" && <VideoEvidence api={api} caseId={c.id} />}
          <ScreeningHits
            api={api}
            detail={detail}
            editable={c.state === "claimed" && c.holderId === user.id}
          />
        </div>
        <DecisionPanel api={api} detail={detail} onNext={onNext} />
      </div>
      <details class="history">
        <summary>History ({history.length} events)</summary>
        <ol>
          {history.map((e) => (
            <li key={e.seq}>
              <time>{new Date(e.atMs).toLocaleString()}</time> {e.action} <span class="actor">{e.actor}</span>
            </li>
          ))}
        </ol>
      </details>
    </section>
  );
}

const FIELD_NAMES: Record<string, string> = {
  documentNumber: "Document number",
  dateOfBirth: "Date of birth",
  dateOfExpiry: "Date of expiry",
  personalNumber: "Personal number",
  optionalData: "Optional data",
  composite: "Composite",
};

/** Each MRZ check digit, ticked or crossed, with the digit found and expected. */
function MrzDigits({ verdict }: { verdict: Verdict }) {
  const mrz = verdict.results.find((r) => r.check === "mrz");
  const readings = Array.isArray(mrz?.details) ? (mrz.details as MrzReading[]) : [];
  if (readings.length === 0) return null;
  return (
    <div class="mrz">
      {readings.map((r) => (
        <table key={r.documentId}>
          <caption>MRZ {r.format}</caption>
          <tbody>
            {r.checks.map((c) => (
              <tr key={c.field} class={c.valid ? "ok" : "error"}>
                <td>{c.valid ? "✓" : "✗"}</td>
                <td>{FIELD_NAMES[c.field] ?? c.field}</td>
                <td>{c.valid ? `digit ${c.found}` : `digit ${c.found}, expected ${c.expected}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </div>
  );
}

/** Each duplicate applicant, opened with a click on its newest case. */
function DuplicateLinks({ api, details, onOpen }: { api: Api; details: unknown; onOpen: (id: string) => void }) {
  const matches = (details as { matches?: DuplicateMatch[] } | undefined)?.matches ?? [];
  const [missing, setMissing] = useState<string | null>(null);
  if (matches.length === 0) return null;
  const open = async (applicantId: string) => {
    const page = await api.cases({ applicantId, limit: 1 });
    if (page.items[0]) onOpen(page.items[0].id);
    else setMissing(applicantId);
  };
  return (
    <ul class="duplicates">
      {matches.map((m) => (
        <li key={m.applicantId}>
          <button class="link" onClick={() => void open(m.applicantId)}>
            applicant {m.applicantId.slice(0, 8)}
          </button>{" "}
          shares {m.shared.join(", ")}
          {missing === m.applicantId && " (no case to open: decided automatically)"}
        </li>
      ))}
    </ul>
  );
}

/** A supervisor's hold on a case: hand it to someone, or put it back in the queue. */
function CaseControls({ api, detail, onChanged }: { api: Api; detail: CaseDetail; onChanged: () => void }) {
  const c = detail.case;
  const [people, setPeople] = useState<UserAccount[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void api.users().then((all) => setPeople(all.filter((u) => !u.disabledAtMs && u.role !== "admin")));
  }, [api]);
  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      onChanged();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  const holder = people.find((p) => p.id === c.holderId);
  return (
    <span class="case-controls">
      {c.state === "claimed" && (
        <>
          held by {holder?.email ?? "someone"}{" "}
          <button onClick={() => void act(() => api.release(c.id))}>Release to queue</button>
        </>
      )}
      <select name="assign" value="" onChange={(e) => {
        const to = e.currentTarget.value;
        if (to) void act(() => api.assign(c.id, to));
      }}>
        <option value="">Assign to…</option>
        {people.map((p) => <option key={p.id} value={p.id}>{p.email} ({p.role})</option>)}
      </select>
      {error && <span class="error" role="alert">{error}</span>}
    </span>
  );
}

function DocumentImage({ api, doc, onShown, onChanged }: {
  api: Api;
  doc: DocumentInfo;
  onShown: () => void;
  /** The document changed here (masked): read the case again. */
  onChanged: () => void;
}) {
  // Keyed by the content's hash too: a masked image is a new picture under the same id.
  const url = useBlobUrl(() => api.documentImage(doc.id), [api, doc.id, doc.sha256]);
  const [zoom, setZoom] = useState(false);
  const [turn, setTurn] = useState(0);
  const [masking, setMasking] = useState(false);
  const img = useRef<HTMLImageElement>(null);
  return (
    <figure class={zoom || masking ? "doc zoomed" : "doc"}>
      {url ? (
        <div class="doc-image">
          <img ref={img} src={url} alt={`${doc.docType} ${doc.side ?? ""}`}
            style={{ transform: `rotate(${masking ? 0 : turn}deg)` }}
            onClick={() => !masking && setZoom(!zoom)}
            onLoad={(e) => void e.currentTarget.decode().then(onShown, onShown)} />
          {masking && img.current && (
            <MaskTool api={api} doc={doc} image={img.current}
              onDone={() => { setMasking(false); onChanged(); }} onCancel={() => setMasking(false)} />
          )}
        </div>
      ) : (
        <div class="placeholder">loading…</div>
      )}
      <figcaption>
        {doc.docType} {doc.side ?? ""} {doc.country ?? ""} · {doc.width}×{doc.height}
        <button class="link" onClick={() => setTurn((turn + 90) % 360)} title="Rotate">⟳</button>
        {!masking && <button class="link" onClick={() => setMasking(true)} title="Blur a region for good">Mask…</button>}
      </figcaption>
    </figure>
  );
}
