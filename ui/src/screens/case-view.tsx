// A case as a reviewer works it: the applicant, the documents, every check result, the
// lease, and the decision panel.

import { useEffect, useState } from "preact/hooks";
import type { Api } from "../transport";
import type { CaseDetail, DocumentInfo } from "../types";
import { DecisionPanel } from "./decision-panel";

const RENEW_EVERY_MS = 60_000;

interface Props {
  api: Api;
  detail: CaseDetail;
  onNext: () => void;
  onClose: () => void;
}

export function CaseView({ api, detail, onNext }: Props) {
  const { case: c, applicant, documents, verdict } = detail;
  const [leaseUntil, setLeaseUntil] = useState(c.leaseUntilMs);
  const [now, setNow] = useState(Date.now());

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
          <div class="documents">
            {documents.map((d) => <DocumentImage key={d.id} api={api} doc={d} />)}
          </div>
          {verdict && (
            <div class="checks">
              <h2>Automated checks: {verdict.answer}</h2>
              <p>{verdict.reason}</p>
              <ul>
                {verdict.results.map((r, i) => (
                  <li key={i} class={r.outcome}>
                    <strong>{r.check}</strong> {r.outcome === "pass" ? "✓" : r.outcome === "fail" ? "✗" : "?"}{" "}
                    {r.findings.length > 0 ? r.findings.map((f) => f.explanation).join(" ") : r.summary}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
        <DecisionPanel api={api} detail={detail} onNext={onNext} />
      </div>
    </section>
  );
}

function DocumentImage({ api, doc }: { api: Api; doc: DocumentInfo }) {
  const [url, setUrl] = useState<string | null>(null);
  const [zoom, setZoom] = useState(false);
  const [turn, setTurn] = useState(0);
  useEffect(() => {
    let made: string | null = null;
    void api.documentImage(doc.id).then((blob) => {
      made = URL.createObjectURL(blob);
      setUrl(made);
    });
    return () => {
      if (made) URL.revokeObjectURL(made);
    };
  }, [api, doc.id]);
  return (
    <figure class={zoom ? "doc zoomed" : "doc"}>
      {url ? (
        <img src={url} alt={`${doc.docType} ${doc.side ?? ""}`} style={{ transform: `rotate(${turn}deg)` }}
          onClick={() => setZoom(!zoom)} />
      ) : (
        <div class="placeholder">loading…</div>
      )}
      <figcaption>
        {doc.docType} {doc.side ?? ""} {doc.country ?? ""} · {doc.width}×{doc.height}
        <button class="link" onClick={() => setTurn((turn + 90) % 360)} title="Rotate">⟳</button>
      </figcaption>
    </figure>
  );
}
