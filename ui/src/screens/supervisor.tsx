// The supervisor's screen: reviewer statistics with charts over a period, the decision log
// with filters and CSV export, and the audit trail's verification.

import { useEffect, useState } from "preact/hooks";
import type { Api } from "../transport";
import { ApiError } from "../transport";
import type { DecisionPage, LabelInfo, QaAgreement, ReviewerStats } from "../types";

const DAY_MS = 86_400_000;
const PAGE = 100;

export function Supervisor({ api }: { api: Api }) {
  const [days, setDays] = useState(7);
  const [stats, setStats] = useState<ReviewerStats[]>([]);
  const [qa, setQa] = useState<QaAgreement | null>(null);
  const [catalogue, setCatalogue] = useState<LabelInfo[]>([]);
  const [filter, setFilter] = useState<{ answer: string; label: string; reviewerId: string }>({
    answer: "",
    label: "",
    reviewerId: "",
  });
  const [offset, setOffset] = useState(0);
  const [log, setLog] = useState<DecisionPage>({ items: [], total: 0 });
  const [audit, setAudit] = useState<string | null>(null);
  const [to] = useState(() => Date.now() + 60_000);
  const from = to - days * DAY_MS;

  const query = (): Record<string, string | number> => {
    const q: Record<string, string | number> = { fromMs: from, toMs: to };
    for (const [k, v] of Object.entries(filter)) if (v) q[k] = v;
    return q;
  };

  useEffect(() => {
    void api.labels().then(setCatalogue);
  }, [api]);
  useEffect(() => {
    let current = true;
    void api.reviewerStats(from, to).then((s) => current && setStats(s));
    void api.qaAgreement(from, to).then((q) => current && setQa(q));
    return () => {
      current = false;
    };
  }, [api, from, to]);
  useEffect(() => {
    // Only the newest request's answer is shown: an older one arriving late is dropped.
    let current = true;
    void api.decisions({ ...query(), limit: PAGE, offset }).then((page) => current && setLog(page));
    return () => {
      current = false;
    };
  }, [api, from, to, filter, offset]);

  const email = (id: string) => stats.find((s) => s.reviewerId === id)?.email ?? id.slice(0, 8);
  const exportCsv = async () => {
    const blob = await api.exportDecisions(query());
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "decisions.csv";
    a.click();
    URL.revokeObjectURL(a.href);
  };
  const verify = async () => {
    try {
      const r = await api.verifyAudit();
      setAudit(`The audit trail verifies: ${r.verifiedEvents} events, head ${r.headHash.slice(0, 16)}…`);
    } catch (e) {
      setAudit(e instanceof ApiError ? `The audit trail does NOT verify: ${e.message}` : String(e));
    }
  };

  return (
    <section class="supervisor">
      <div class="filters">
        <label>
          Period
          <select value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>
            <option value={1}>last 24 hours</option>
            <option value={7}>last 7 days</option>
            <option value={30}>last 30 days</option>
          </select>
        </label>
        <button onClick={() => void verify()}>Verify the audit trail</button>
        {audit && <span class={audit.includes("NOT") ? "error" : "ok"} role="status">{audit}</span>}
      </div>
      <div class="charts">
        <PerHourChart stats={stats} />
        <LabelChart stats={stats} />
        {qa && <QaChart qa={qa} />}
      </div>
      <table class="cases">
        <thead>
          <tr><th>Reviewer</th><th>Decisions</th><th>Approved</th><th>Rejected</th><th>Median time to decision</th><th>Labels used most</th></tr>
        </thead>
        <tbody>
          {stats.map((s) => (
            <tr key={s.reviewerId}>
              <td>{s.email}</td>
              <td>{s.decisions}</td>
              <td>{s.green}</td>
              <td>{s.red}</td>
              <td>{duration(s.medianMsToDecision)}</td>
              <td>{s.labels.slice(0, 3).map((l) => `${l.label} (${l.count})`).join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Decision log</h2>
      <div class="filters">
        <label>
          Reviewer
          <select name="reviewerId" value={filter.reviewerId} onChange={(e) => { setOffset(0); setFilter({ ...filter, reviewerId: e.currentTarget.value }); }}>
            <option value="">all</option>
            {stats.map((s) => <option key={s.reviewerId} value={s.reviewerId}>{s.email}</option>)}
          </select>
        </label>
        <label>
          Answer
          <select name="answer" value={filter.answer} onChange={(e) => { setOffset(0); setFilter({ ...filter, answer: e.currentTarget.value }); }}>
            <option value="">all</option>
            <option value="GREEN">GREEN</option>
            <option value="RED">RED</option>
          </select>
        </label>
        <label>
          Label
          <select name="label" value={filter.label} onChange={(e) => { setOffset(0); setFilter({ ...filter, label: e.currentTarget.value }); }}>
            <option value="">all</option>
            {catalogue.map((l) => <option key={l.label} value={l.label}>{l.label}</option>)}
          </select>
        </label>
        <button onClick={() => void exportCsv()}>Export CSV</button>
        <span class="paging">
          {log.total} decisions
          <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>‹</button>
          <button disabled={offset + PAGE >= log.total} onClick={() => setOffset(offset + PAGE)}>›</button>
        </span>
      </div>
      <table class="cases decision-log">
        <thead>
          <tr><th>Decided</th><th>Reviewer</th><th>Answer</th><th>Type</th><th>Labels</th><th>Case</th></tr>
        </thead>
        <tbody>
          {log.items.map((d) => (
            <tr key={d.id}>
              <td>{new Date(d.decidedAtMs).toLocaleString()}</td>
              <td>{email(d.reviewerId)}</td>
              <td>{d.answer}</td>
              <td>{d.rejectType ?? ""}</td>
              <td>{d.labels.join(", ")}</td>
              <td>{d.caseId.slice(0, 8)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

/** Decisions per hour, all reviewers together: one bar per hour that had decisions. */
function PerHourChart({ stats }: { stats: ReviewerStats[] }) {
  const hours = new Map<number, number>();
  for (const s of stats) for (const h of s.perHour) hours.set(h.hourMs, (hours.get(h.hourMs) ?? 0) + h.decisions);
  const bars = [...hours.entries()].sort((a, b) => a[0] - b[0]);
  const total = bars.reduce((sum, [, n]) => sum + n, 0);
  const max = Math.max(1, ...bars.map(([, n]) => n));
  const w = 18;
  return (
    <figure class="chart">
      <figcaption>
        Decisions per hour · <span data-testid="chart-total">{total}</span> in all
      </figcaption>
      <svg width={Math.max(200, bars.length * w)} height={120} role="img" aria-label="Decisions per hour">
        {bars.map(([hour, n], i) => (
          <rect key={hour} x={i * w + 2} y={110 - (100 * n) / max} width={w - 4} height={(100 * n) / max} fill="#1f5fbf">
            <title>{`${new Date(hour).toLocaleString()}: ${n}`}</title>
          </rect>
        ))}
      </svg>
    </figure>
  );
}

/** How often each label was used, all reviewers together. */
function LabelChart({ stats }: { stats: ReviewerStats[] }) {
  const counts = new Map<string, number>();
  for (const s of stats) for (const l of s.labels) counts.set(l.label, (counts.get(l.label) ?? 0) + l.count);
  const rows = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
  const max = Math.max(1, ...rows.map(([, n]) => n));
  return (
    <figure class="chart">
      <figcaption>Labels used</figcaption>
      <svg width={320} height={rows.length * 18 + 4} role="img" aria-label="Labels used">
        {rows.map(([label, n], i) => (
          <g key={label}>
            <rect x={150} y={i * 18 + 2} width={(160 * n) / max} height={14} fill="#c62828" />
            <text x={146} y={i * 18 + 13} text-anchor="end" font-size="11">{label}</text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

/** QA sampling: how often a blind re-check gave the same outcome, per reviewer and per label. */
function QaChart({ qa }: { qa: QaAgreement }) {
  const pct = (agreed: number, of: number) => (of === 0 ? "—" : `${Math.round((100 * agreed) / of)} %`);
  const rows: { key: string; name: string; of: number; agreed: number; kind: string }[] = [
    ...qa.reviewers.map((r) => ({ key: `r-${r.reviewerId}`, name: r.email, of: r.sampled, agreed: r.agreed, kind: "reviewer" })),
    ...qa.labels.slice(0, 8).map((l) => ({ key: `l-${l.label}`, name: l.label, of: l.given, agreed: l.agreed, kind: "label" })),
  ];
  return (
    <figure class="chart" data-testid="qa-chart">
      <figcaption>
        QA agreement · <span data-testid="qa-total">{pct(qa.agreed, qa.sampled)}</span> of {qa.sampled} re-checks
      </figcaption>
      {qa.sampled === 0 ? (
        <p class="hint">No QA re-checks decided in this period.</p>
      ) : (
        <svg width={360} height={rows.length * 18 + 4} role="img" aria-label="QA agreement per reviewer and label">
          {rows.map((r, i) => (
            <g key={r.key}>
              <rect x={170} y={i * 18 + 2} width={140} height={14} fill="#eee" />
              <rect x={170} y={i * 18 + 2} width={r.of ? (140 * r.agreed) / r.of : 0} height={14}
                fill={r.kind === "reviewer" ? "#2e7d32" : "#1f5fbf"} />
              <text x={166} y={i * 18 + 13} text-anchor="end" font-size="11">{r.name}</text>
              <text x={314} y={i * 18 + 13} font-size="11">{pct(r.agreed, r.of)} of {r.of}</text>
            </g>
          ))}
        </svg>
      )}
    </figure>
  );
}
