// What a second look at a decision shows: for a four-eyes case, the staged decision it checks
// (and, once escalated, the checker's too); for a QA sample, that it is blind until decided.

import type { CaseDetail, Decision } from "../types";

const STATUS: Record<string, string> = {
  staged: "staged, waiting for a second reviewer",
  confirmed: "confirmed by a second reviewer",
  overruled: "overruled by a supervisor",
  voided: "void: the evidence changed after it was made",
  final: "counts",
};

export function decisionStatus(d: Decision): string {
  return STATUS[d.status ?? "final"] ?? d.status ?? "";
}

export function SecondLook({ detail }: { detail: CaseDetail }) {
  const { case: c, earlierDecisions } = detail;
  if (c.kind === "qa_sample") {
    return (
      <div class="second-look" data-testid="second-look">
        <h2>QA sample</h2>
        <p>
          {detail.decision
            ? "The decision this sample re-checked:"
            : "A decision already made is re-checked blind: decide as if you were first. You will see the other decision once yours is in."}
        </p>
        {earlierDecisions.map((d) => <EarlierDecision key={d.id} decision={d} title="Sampled decision" />)}
      </div>
    );
  }
  if (c.kind !== "four_eyes") return null;
  const [staged, ...checks] = earlierDecisions;
  const escalated = checks.length > 0;
  return (
    <div class="second-look" data-testid="second-look">
      <h2>{escalated ? "Escalated: the two reviewers disagree" : "Four-eyes check"}</h2>
      <p>
        {escalated
          ? "A supervisor settles it: your decision is the one the applicant gets."
          : "Confirm or contradict the first reviewer's decision. The same answer (and reject type) confirms it; a different one goes to a supervisor."}
      </p>
      {staged && <EarlierDecision decision={staged} title="First reviewer" />}
      {checks.map((d) => <EarlierDecision key={d.id} decision={d} title="Second reviewer" />)}
    </div>
  );
}

function EarlierDecision({ decision: d, title }: { decision: Decision; title: string }) {
  return (
    <dl class={`earlier ${d.answer === "GREEN" ? "green" : "red"}`}>
      <dt>{title}</dt>
      <dd>
        <strong>{d.answer}{d.rejectType ? ` · ${d.rejectType}` : ""}</strong> — {decisionStatus(d)}
      </dd>
      {d.labels.length > 0 && (<><dt>Labels</dt><dd>{d.labels.join(", ")}</dd></>)}
      {d.moderationComment && (<><dt>For the applicant</dt><dd>{d.moderationComment}</dd></>)}
      {d.internalNote && (<><dt>Internal note</dt><dd>{d.internalNote}</dd></>)}
      <dt>Decided</dt><dd><time>{new Date(d.decidedAtMs).toLocaleString()}</time></dd>
    </dl>
  );
}
