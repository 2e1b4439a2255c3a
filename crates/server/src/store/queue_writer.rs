//! The queue's writer: claims and decisions from many reviewers, committed together.
//!
//! One task per `Store` takes every claim and decision waiting at that moment and commits them
//! in one transaction with set-based statements: one locked read of the cases, one chain-head
//! update per tenant, one multi-row insert of the audit events, one `UPDATE … FROM (VALUES …)`
//! of the cases. The tenant's chain lock, the round trips and the commit (an fsync on both
//! engines) are paid once per batch instead of once per reviewer. When idle, a batch holds one
//! request, so latency stays that of a single transaction.
//!
//! A batch that fails as a whole is retried one request at a time, so one bad request never
//! fails the others.

use std::collections::{HashMap, HashSet};

use identdesk_domain::{
    agrees, Answer, AuditEvent, CaseKind, CaseState, DecisionInput, DecisionStatus, FourEyesReason, RejectType,
    ReviewPolicy,
};
use rand::Rng;
use serde_json::json;
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use identdesk_domain::Role;

use super::accounts::StaffUser;
use super::audit::{chain_writes, seal, NewEvent};
use super::bulk::{self, json_in, BulkWrite, Col};
use super::cases::{case_from_row, decision_from_row, lease_check, Case, Decision, NewCase, CASE_COLUMNS};
use super::hit_reviews::HitsRefusal;
use super::review_policy::{policy_from_row, POLICY_COLUMNS};
use super::{new_id, now_ms, placeholders, Backend, Store, Tx};
use crate::error::{Error, Result};

/// The most requests one transaction takes.
const MAX_BATCH: usize = 256;
/// Claims choose at random among this many of the most urgent cases, so nobody picks cases.
const CLAIM_CANDIDATES: usize = 8;
pub(crate) struct ClaimRequest {
    pub user: StaffUser,
    pub kinds: Vec<CaseKind>,
    pub lease_ms: i64,
    pub reply: oneshot::Sender<Result<Option<Case>>>,
}

pub(crate) struct DecideRequest {
    pub user: StaffUser,
    pub case_id: String,
    pub key: String,
    pub request_hash: String,
    pub input: DecisionInput,
    pub reply: oneshot::Sender<Result<Decision>>,
}

pub(crate) enum QueueRequest {
    Claim(ClaimRequest),
    Decide(DecideRequest),
}

impl QueueRequest {
    /// The tenant whose queue the request works on. A tenant's requests all go to one writer, so
    /// its batches never wait on each other for the chain head, and each user's requests stay
    /// in order; different tenants are written in parallel.
    pub fn tenant_id(&self) -> &str {
        match self {
            QueueRequest::Claim(c) => &c.user.tenant_id,
            QueueRequest::Decide(d) => &d.user.tenant_id,
        }
    }
}

/// Starts one writer for `store` (which must not itself send to a writer).
pub(crate) fn spawn(store: Store) -> mpsc::Sender<QueueRequest> {
    let (tx, mut rx) = mpsc::channel::<QueueRequest>(4 * MAX_BATCH);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            run_batch(&store, batch).await;
        }
    });
    tx
}

async fn run_batch(store: &Store, batch: Vec<QueueRequest>) {
    let (mut claims, mut decides) = (Vec::new(), Vec::new());
    for request in batch {
        match request {
            QueueRequest::Claim(c) => claims.push(c),
            QueueRequest::Decide(d) => decides.push(d),
        }
    }
    let result = commit(store, &claims, &decides).await;
    match result {
        Ok(results) => reply_all(claims, decides, results),
        Err(e) if claims.len() + decides.len() == 1 => {
            if let Some(c) = claims.pop() {
                let _ = c.reply.send(Err(e));
            } else if let Some(d) = decides.pop() {
                let _ = d.reply.send(Err(e));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, requests = claims.len() + decides.len(), "queue batch failed; retrying one by one");
            for c in claims {
                match commit(store, std::slice::from_ref(&c), &[]).await {
                    Ok((mut r, _)) => drop(c.reply.send(r.remove(0))),
                    Err(e) => drop(c.reply.send(Err(e))),
                }
            }
            for d in decides {
                match commit(store, &[], std::slice::from_ref(&d)).await {
                    Ok((_, mut r)) => drop(d.reply.send(r.remove(0))),
                    Err(e) => drop(d.reply.send(Err(e))),
                }
            }
        }
    }
}

fn reply_all(claims: Vec<ClaimRequest>, decides: Vec<DecideRequest>, (claimed, decided): BatchResults) {
    // A requester that gave up (its connection closed) simply gets no answer.
    for (c, r) in claims.into_iter().zip(claimed) {
        let _ = c.reply.send(r);
    }
    for (d, r) in decides.into_iter().zip(decided) {
        let _ = d.reply.send(r);
    }
}

type BatchResults = (Vec<Result<Option<Case>>>, Vec<Result<Decision>>);

/// Commits one batch. An `Err` means nothing of the batch was written.
async fn commit(store: &Store, claims: &[ClaimRequest], decides: &[DecideRequest]) -> Result<BatchResults> {
    let now = now_ms();
    let mut tx = store.begin().await?;
    let mut events: Vec<NewEvent> = Vec::new();

    // Decisions first, so that claims in the same batch see their cases decided.
    let mut decided: Vec<Decided> = Vec::new();
    let mut opened: Vec<(usize, String, NewCase)> = Vec::new();
    let mut decide_answers: Vec<Result<usize>> = Vec::with_capacity(decides.len());
    if !decides.is_empty() {
        let mut cases = lock_cases(store, &mut tx, decides).await?;
        let checked = checked_decisions(store, &mut tx, cases.values()).await?;
        let mut batch_keys = HashSet::new();
        for (r, d) in decides.iter().enumerate() {
            let accepted = accept(d, &mut cases, &checked, &mut batch_keys, now);
            decide_answers.push(accepted.map(|(decision, step, locked)| {
                let slot = decided.len();
                decided.push(record(r, decision, step, locked, &d.user, now, &mut events, &mut opened));
                slot
            }));
        }
    }
    let just_decided: HashSet<String> = decided.iter().map(|d| d.decision.case_id.clone()).collect();

    // Claims: a user who holds a live case gets it back; the others get fresh cases.
    let mut claim_answers: Vec<ClaimAnswer> = Vec::with_capacity(claims.len());
    let mut claimed: Vec<(usize, Case)> = Vec::new();
    if !claims.is_empty() {
        let held = held_cases(store, &mut tx, claims, now).await?;
        // Supervisors also take escalated cases; everyone else only queued ones.
        let mut groups: HashMap<(&str, &[CaseKind], bool), Vec<usize>> = HashMap::new();
        for (i, c) in claims.iter().enumerate() {
            let mine = held.iter().find(|h| {
                h.holder_id.as_deref() == Some(&c.user.id) && c.kinds.contains(&h.kind) && !just_decided.contains(&h.id)
            });
            claim_answers.push(match mine {
                _ if c.kinds.is_empty() => ClaimAnswer::Nothing,
                Some(case) => ClaimAnswer::Held(Box::new(case.clone())),
                None => {
                    let escalated = c.user.role == Role::Supervisor;
                    groups.entry((c.user.tenant_id.as_str(), c.kinds.as_slice(), escalated)).or_default().push(i);
                    ClaimAnswer::Nothing
                }
            });
        }
        let mut given: HashMap<&str, usize> = HashMap::new();
        let mut taken: HashSet<String> = HashSet::new();
        for ((tenant_id, kinds, escalated), members) in groups {
            let wanted = members.len() + taken.len();
            let mut candidates = queued_candidates(store, &mut tx, tenant_id, kinds, escalated, wanted, None).await?;
            let full = candidates.len() >= wanted + CLAIM_CANDIDATES - 1;
            candidates.retain(|c| !taken.contains(&c.id));
            for i in members {
                let c = &claims[i];
                // The same user twice in one batch gets the one case.
                if let Some(&slot) = given.get(c.user.id.as_str()) {
                    claim_answers[i] = ClaimAnswer::Fresh(slot);
                    continue;
                }
                // Nobody gets a case that checks their own decision. When every case at hand
                // does, look further for this user alone.
                let mut mine: Vec<usize> =
                    (0..candidates.len()).filter(|&k| !candidates[k].excluded_user_ids.contains(&c.user.id)).collect();
                if mine.is_empty() && full {
                    let more = queued_candidates(store, &mut tx, tenant_id, kinds, escalated, wanted, Some(&c.user.id))
                        .await?;
                    let known: HashSet<String> = candidates.iter().map(|k| k.id.clone()).collect();
                    candidates.extend(more.into_iter().filter(|m| !taken.contains(&m.id) && !known.contains(&m.id)));
                    mine = (0..candidates.len())
                        .filter(|&k| !candidates[k].excluded_user_ids.contains(&c.user.id))
                        .collect();
                }
                let Some(&first) = mine.first() else { continue };
                // At random among the most urgent, never passing over a higher priority.
                let top = mine.iter().take_while(|&&k| candidates[k].priority == candidates[first].priority).count();
                let pick = mine[rand::thread_rng().gen_range(0..top.min(CLAIM_CANDIDATES))];
                let mut case = candidates.remove(pick);
                taken.insert(case.id.clone());
                case.state = CaseState::Claimed;
                case.holder_id = Some(c.user.id.clone());
                case.lease_until_ms = Some(now + c.lease_ms);
                case.version += 1;
                case.updated_at_ms = now;
                events.push(NewEvent {
                    tenant_id: c.user.tenant_id.clone(),
                    actor: format!("user:{}", c.user.id),
                    action: "case.claimed",
                    subject: format!("case:{}", case.id),
                    detail: json!({"leaseUntilMs": case.lease_until_ms}).to_string(),
                });
                given.insert(c.user.id.as_str(), claimed.len());
                claim_answers[i] = ClaimAnswer::Fresh(claimed.len());
                claimed.push((events.len() - 1, case));
            }
        }
    }

    // The chain: one head update per tenant reserves the numbers; then every write of the
    // batch, events included, in one statement per table (one round trip on PostgreSQL).
    let sealed = seal(&mut tx, &events).await?;
    for d in decided.iter_mut() {
        d.decision.change_seq = sealed[d.event].seq;
    }
    for (event, case) in claimed.iter_mut() {
        case.change_seq = sealed[*event].seq;
    }
    let [events_write, head_write] = chain_writes(&sealed);
    let writes = [
        events_write,
        head_write,
        decisions_write(decides, &decided),
        cases_write(&decided, &claimed, now),
        opened_write(&opened, &sealed),
        settled_write(&decided, &sealed),
    ]
    .into_iter()
    .chain(applicants_write(&decided))
    .collect::<Vec<_>>();
    bulk::execute(&mut tx, &writes).await?;
    tx.commit().await?;

    let claim_results = claim_answers
        .into_iter()
        .map(|a| match a {
            ClaimAnswer::Nothing => Ok(None),
            ClaimAnswer::Held(case) => Ok(Some(*case)),
            ClaimAnswer::Fresh(slot) => Ok(Some(claimed[slot].1.clone())),
        })
        .collect();
    let decide_results = decide_answers.into_iter().map(|a| a.map(|slot| decided[slot].decision.clone())).collect();
    Ok((claim_results, decide_results))
}

/// What a claim request gets from its batch.
enum ClaimAnswer {
    Nothing,
    /// The live case the user holds already.
    Held(Box<Case>),
    /// The index of a case claimed in this batch.
    Fresh(usize),
}

/// A case locked for a decision, with what deciding it needs to know.
struct Locked {
    case: Case,
    /// Why it may not be approved while its screening hits stand (asked only when a request of
    /// the batch approves it).
    hits_refusal: Option<HitsRefusal>,
    /// The state it waits in unclaimed: `escalated` marks a disagreement for a supervisor.
    unclaimed_state: CaseState,
    /// The applicant's evidence now.
    evidence_hash: String,
    policy: ReviewPolicy,
}

/// Locks the cases the requests decide (in id order, so batches never deadlock) with their
/// applicants' evidence hashes, their tenants' review policies and, for approvals, their
/// applicants' check results, whose screening hits must all be dismissed first.
async fn lock_cases(store: &Store, tx: &mut Tx, decides: &[DecideRequest]) -> Result<HashMap<String, Locked>> {
    let ids: Vec<&str> = decides.iter().map(|d| d.case_id.as_str()).collect::<HashSet<_>>().into_iter().collect();
    let approved: Vec<&str> =
        decides.iter().filter(|d| d.input.answer == Answer::Green).map(|d| d.case_id.as_str()).collect();
    let postgres = store.backend() == Backend::Postgres;
    let policy = POLICY_COLUMNS
        .split(", ")
        .map(|c| format!("(SELECT {c} FROM tenants t WHERE t.id = cases.tenant_id) AS {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {CASE_COLUMNS}, unclaimed_state, {policy}, \
         (SELECT evidence_hash FROM applicants a WHERE a.id = cases.applicant_id) AS evidence_hash, \
         CASE WHEN {} THEN (SELECT results FROM verdicts v WHERE v.applicant_id = cases.applicant_id) END \
           AS verdict_results \
         FROM cases WHERE {} ORDER BY id{}",
        json_in(postgres, "id", 2),
        json_in(postgres, "id", 1),
        store.lock_for_update()
    );
    let query = sqlx::query(&sql).bind(json!(ids).to_string()).bind(json!(approved).to_string());
    let mut out = HashMap::new();
    for row in query.fetch_all(&mut **tx).await? {
        let case = case_from_row(&row)?;
        let evidence: Option<String> = row.try_get("evidence_hash")?;
        // Applicants without documents (load tests) are decided on the hash of nothing.
        let evidence_hash = evidence.unwrap_or_else(|| super::applicants::evidence_hash(vec![]));
        let unclaimed_state = row.try_get::<String, _>("unclaimed_state")?.parse()?;
        let policy = policy_from_row(&row)?;
        let hits_refusal = match row.try_get::<Option<String>, _>("verdict_results")? {
            Some(results) => store.hits_refusal(&case.tenant_id, &case.id, &results).await?,
            None => None,
        };
        out.insert(case.id.clone(), Locked { case, hits_refusal, unclaimed_state, evidence_hash, policy });
    }
    Ok(out)
}

/// The decisions the locked cases check (four-eyes, escalations, QA samples), by id. Their
/// status changes only with a lock on the case that checks them, which this batch holds.
async fn checked_decisions<'a>(
    store: &Store,
    tx: &mut Tx,
    cases: impl Iterator<Item = &'a Locked>,
) -> Result<HashMap<String, Decision>> {
    let ids: Vec<&str> = cases.filter_map(|l| l.case.checks_decision_id.as_deref()).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!("SELECT * FROM decisions WHERE {}", json_in(store.backend() == Backend::Postgres, "id", 1));
    let rows = sqlx::query(&sql).bind(json!(ids).to_string()).fetch_all(&mut **tx).await?;
    rows.iter().map(|row| decision_from_row(row).map(|d| (d.id.clone(), d))).collect()
}

/// What an accepted decision sets off.
enum Step {
    /// It counts: the applicant gets its answer.
    Counts,
    /// Four-eyes: staged until a second person confirms it.
    Staged(FourEyesReason),
    /// A checker agrees with the staged decision, which now counts.
    Confirms(Decision),
    /// A checker disagrees with the staged decision: a supervisor decides.
    Escalates(Decision),
    /// A supervisor settles a disagreement: their decision counts.
    Settles(Decision),
    /// A blind QA re-decision: measured, changes nothing for the applicant.
    Samples(Decision),
}

/// An accepted decision, as the batch writes it.
struct Decided {
    /// The event that decides the case.
    event: usize,
    request: usize,
    decision: Decision,
    /// The answer the applicant gets now, if the decision settles the applicant.
    completes: Option<(Answer, Option<RejectType>)>,
    /// A staged decision this one confirms, overrules or leaves staged for a supervisor.
    settles: Option<(String, DecisionStatus)>,
}

/// Checks one decision request against its locked case; on success the case is decided (for
/// later requests of the batch too) and the decision is returned with what it sets off.
fn accept<'r, 'c>(
    d: &'r DecideRequest,
    cases: &'c mut HashMap<String, Locked>,
    checked: &HashMap<String, Decision>,
    batch_keys: &mut HashSet<(&'r str, &'r str)>,
    now: i64,
) -> Result<(Decision, Step, &'c Locked)> {
    let locked =
        cases.get_mut(&d.case_id).filter(|l| l.case.tenant_id == d.user.tenant_id).ok_or(Error::NotFound("case"))?;
    if let Some(refusal) = locked.hits_refusal.as_ref().filter(|_| d.input.answer == Answer::Green) {
        return Err(refusal.error());
    }
    let case = &locked.case;
    if case.excluded_user_ids.contains(&d.user.id) {
        return Err(Error::SelfCheck(match case.kind {
            CaseKind::QaSample => "this QA sample re-checks your own decision; another reviewer takes it".into(),
            _ => "this four-eyes case checks your own decision; a second person must decide it".into(),
        }));
    }
    // A key used twice in one batch answers with its first decision, looked up after the
    // commit. A key used in an earlier batch meets the unique index: the batch fails, is
    // retried request by request, and that request's replay answers.
    if !batch_keys.insert((&d.user.id, &d.key)) {
        return Err(Error::IdempotencyKeyReused);
    }
    let checked = match &case.checks_decision_id {
        Some(id) => Some(checked.get(id).cloned().ok_or_else(|| Error::Internal(format!("decision {id} is gone")))?),
        None => None,
    };
    // Said before the lease: the checker's case was closed by the void, and why matters more.
    if case.kind == CaseKind::FourEyes && checked.as_ref().is_some_and(|c| c.status == DecisionStatus::Voided) {
        return Err(Error::StagedDecisionVoided);
    }
    lease_check(case, &d.user.id, now, d.input.version)?;
    let step = match (case.kind, checked) {
        (CaseKind::FourEyes, Some(staged)) => {
            if staged.evidence_hash != locked.evidence_hash {
                return Err(Error::EvidenceChanged);
            }
            if locked.unclaimed_state == CaseState::Escalated {
                Step::Settles(staged)
            } else if agrees((staged.answer, staged.reject_type), (d.input.answer, d.input.reject_type)) {
                Step::Confirms(staged)
            } else {
                Step::Escalates(staged)
            }
        }
        (CaseKind::QaSample, Some(sampled)) => Step::Samples(sampled),
        (CaseKind::Review, _) => {
            let roll = rand::thread_rng().gen_range(0..100);
            match locked.policy.four_eyes(case.four_eyes, &d.input.labels, roll) {
                Some(reason) => Step::Staged(reason),
                None => Step::Counts,
            }
        }
        _ => Step::Counts,
    };
    let decision = Decision {
        id: new_id(),
        case_id: case.id.clone(),
        applicant_id: case.applicant_id.clone(),
        reviewer_id: d.user.id.clone(),
        answer: d.input.answer,
        reject_type: d.input.reject_type,
        labels: d.input.labels.clone(),
        moderation_comment: d.input.moderation_comment.clone(),
        client_comment: d.input.client_comment.clone(),
        internal_note: d.input.internal_note.clone(),
        evidence_hash: locked.evidence_hash.clone(),
        reupload: d.input.reupload.clone(),
        case_version: case.version,
        change_seq: 0,
        decided_at_ms: now,
        status: if matches!(step, Step::Staged(_)) { DecisionStatus::Staged } else { DecisionStatus::Final },
    };
    // Later requests in this batch see the case as it will be.
    locked.case.state = CaseState::Decided;
    locked.case.version += 1;
    Ok((decision, step, locked))
}

/// Priorities of the cases second looks open: a staged decision holds up the applicant's
/// answer, so it goes before new reviews, and a disagreement before that; QA waits for slack.
const FOUR_EYES_PRIORITY: i64 = 15;
const ESCALATED_PRIORITY: i64 = 20;
const QA_PRIORITY: i64 = -10;
/// A QA sample's due time: a week.
const QA_DUE_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Writes the events of an accepted decision and opens the cases it sets off.
#[allow(clippy::too_many_arguments)]
fn record(
    request: usize,
    decision: Decision,
    step: Step,
    locked: &Locked,
    user: &StaffUser,
    now: i64,
    events: &mut Vec<NewEvent>,
    opened: &mut Vec<(usize, String, NewCase)>,
) -> Decided {
    let event = |action, detail: serde_json::Value| NewEvent {
        tenant_id: user.tenant_id.clone(),
        actor: format!("user:{}", user.id),
        action,
        subject: format!("case:{}", decision.case_id),
        detail: detail.to_string(),
    };
    let own = json!({"decisionId": decision.id, "answer": decision.answer, "rejectType": decision.reject_type,
                     "labels": decision.labels});
    let mut decided =
        Decided { event: events.len(), request, decision: decision.clone(), completes: None, settles: None };
    let mut open = |case: NewCase, events: &mut Vec<NewEvent>| {
        events.push(NewEvent {
            tenant_id: user.tenant_id.clone(),
            actor: format!("user:{}", user.id),
            action: "case.created",
            subject: format!("case:{}", case.id),
            detail: json!({"kind": case.kind, "state": case.state, "applicantId": case.applicant_id,
                           "checksDecisionId": case.checks_decision_id})
            .to_string(),
        });
        opened.push((events.len() - 1, user.tenant_id.clone(), case));
    };
    let second_look = |kind, state, priority, due_at_ms, checks: &Decision, excluded: Vec<String>| NewCase {
        kind,
        state,
        priority,
        due_at_ms,
        four_eyes: true,
        suggested_labels: checks.labels.clone(),
        checks_decision_id: Some(checks.id.clone()),
        excluded_user_ids: excluded,
        ..NewCase::review(&checks.applicant_id, now)
    };
    match step {
        Step::Counts => {
            events.push(event("case.decided", own));
            decided.completes = Some((decision.answer, decision.reject_type));
            let roll = rand::thread_rng().gen_range(0..100);
            if locked.case.kind == CaseKind::Review && locked.policy.qa_sample(roll) {
                let mut qa = second_look(
                    CaseKind::QaSample,
                    CaseState::Queued,
                    QA_PRIORITY,
                    now + QA_DUE_MS,
                    &decision,
                    vec![user.id.clone()],
                );
                // Blind: the checks' suggestions, not the sampled decision's labels.
                qa.suggested_labels = locked.case.suggested_labels.clone();
                qa.four_eyes = false;
                open(qa, events);
            }
        }
        Step::Staged(reason) => {
            let four_eyes = second_look(
                CaseKind::FourEyes,
                CaseState::Queued,
                FOUR_EYES_PRIORITY,
                locked.case.due_at_ms,
                &decision,
                vec![user.id.clone()],
            );
            let mut detail = own;
            detail["reason"] = json!(reason.describe());
            detail["fourEyesCaseId"] = json!(four_eyes.id);
            events.push(event("decision.staged", detail));
            open(four_eyes, events);
        }
        Step::Confirms(staged) => {
            events.push(event(
                "decision.confirmed",
                json!({"decisionId": decision.id, "confirms": staged.id, "answer": staged.answer,
                       "rejectType": staged.reject_type, "labels": staged.labels}),
            ));
            decided.completes = Some((staged.answer, staged.reject_type));
            decided.settles = Some((staged.id, DecisionStatus::Confirmed));
        }
        Step::Escalates(staged) => {
            let escalation = second_look(
                CaseKind::FourEyes,
                CaseState::Escalated,
                ESCALATED_PRIORITY,
                locked.case.due_at_ms,
                &staged,
                vec![staged.reviewer_id.clone(), user.id.clone()],
            );
            events.push(event(
                "case.escalated",
                json!({"decisionId": decision.id, "checksDecisionId": staged.id, "makerAnswer": staged.answer,
                       "makerRejectType": staged.reject_type, "checkerAnswer": decision.answer,
                       "checkerRejectType": decision.reject_type, "escalatedTo": escalation.id}),
            ));
            open(escalation, events);
        }
        Step::Settles(staged) => {
            let upheld = agrees((staged.answer, staged.reject_type), (decision.answer, decision.reject_type));
            let status = if upheld { DecisionStatus::Confirmed } else { DecisionStatus::Overruled };
            let mut detail = own;
            detail["settles"] = json!(staged.id);
            detail["stagedDecision"] = json!(status);
            events.push(event("case.decided", detail));
            decided.completes = Some((decision.answer, decision.reject_type));
            decided.settles = Some((staged.id, status));
        }
        Step::Samples(sampled) => {
            let agree = agrees((sampled.answer, sampled.reject_type), (decision.answer, decision.reject_type));
            events.push(event(
                "qa.reviewed",
                json!({"decisionId": decision.id, "checksDecisionId": sampled.id, "agrees": agree,
                       "labels": decision.labels}),
            ));
        }
    }
    decided
}

/// The live cases the claiming users hold, looked up by holder. On PostgreSQL one plain index
/// scan per user: until vacuum, the old version of every case claimed since stays in the holder
/// index; a plain index scan marks those it finds dead and later scans step over them, where the
/// planner's one bitmap scan for all users (which never marks them) visited them all on every
/// batch (measured: 2.9 ms a batch after 20,000 cases, 0.15 ms this way). SQLite keeps no old
/// versions.
async fn held_cases(store: &Store, tx: &mut Tx, claims: &[ClaimRequest], now: i64) -> Result<Vec<Case>> {
    let users: HashSet<&str> = claims.iter().map(|c| c.user.id.as_str()).collect();
    let sql = match store.backend() {
        // `OFFSET 0` keeps the planner from merging the lookups into one scan.
        Backend::Postgres => format!(
            "SELECT held.* FROM json_array_elements_text(CAST($1 AS json)) AS u(id) CROSS JOIN LATERAL \
             (SELECT {CASE_COLUMNS} FROM cases WHERE holder_id = u.id AND state = 'claimed' \
              AND lease_until_ms > $2 OFFSET 0) AS held"
        ),
        Backend::Sqlite => format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE {} AND state = 'claimed' AND lease_until_ms > $2",
            json_in(false, "holder_id", 1)
        ),
    };
    let query = sqlx::query(&sql).bind(json!(users).to_string()).bind(now);
    query.fetch_all(&mut **tx).await?.iter().map(case_from_row).collect()
}

/// The most urgent queued cases (and escalated ones, for supervisors), `wanted` plus the
/// random choice's margin of them, locked where the engine has row locks; rows other writers
/// hold are skipped, never waited for. With `excluding`, only cases that user may decide.
async fn queued_candidates(
    store: &Store,
    tx: &mut Tx,
    tenant_id: &str,
    kinds: &[CaseKind],
    escalated: bool,
    wanted: usize,
    excluding: Option<&str>,
) -> Result<Vec<Case>> {
    let states = if escalated { "state IN ('queued', 'escalated')" } else { "state = 'queued'" };
    let limit = kinds.len() + 2;
    let exclusion = match excluding {
        Some(_) => format!(" AND excluded_user_ids NOT LIKE ${}", limit + 1),
        None => String::new(),
    };
    // The limit is bound, not written in: one statement text for every batch size.
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE tenant_id = $1 AND {states} AND kind IN ({}){exclusion} \
         ORDER BY priority DESC, due_at_ms LIMIT ${limit}{}",
        placeholders(2, kinds.len()),
        store.lock_skip_locked()
    );
    let mut query = sqlx::query(&sql).bind(tenant_id);
    for k in kinds {
        query = query.bind(k.as_str());
    }
    let mut query = query.bind((wanted + CLAIM_CANDIDATES - 1) as i64);
    if let Some(user_id) = excluding {
        query = query.bind(format!("%\"{user_id}\"%"));
    }
    query.fetch_all(&mut **tx).await?.iter().map(case_from_row).collect()
}

fn decisions_write(decides: &[DecideRequest], decided: &[Decided]) -> BulkWrite {
    BulkWrite {
        head: "INSERT INTO decisions (id, tenant_id, case_id, applicant_id, reviewer_id, answer, reject_type, labels, \
               moderation_comment, client_comment, internal_note, evidence_hash, idempotency_key, request_hash, \
               case_version, change_seq, decided_at_ms, reupload, status) \
               SELECT v.id, v.tenant_id, v.case_id, v.applicant_id, v.reviewer_id, v.answer, v.reject_type, v.labels, \
               v.moderation_comment, v.client_comment, v.internal_note, v.evidence_hash, v.idempotency_key, \
               v.request_hash, v.case_version, v.change_seq, v.decided_at_ms, v.reupload, v.status FROM ",
        columns: &[
            ("id", Col::Text),
            ("tenant_id", Col::Text),
            ("case_id", Col::Text),
            ("applicant_id", Col::Text),
            ("reviewer_id", Col::Text),
            ("answer", Col::Text),
            ("reject_type", Col::Text),
            ("labels", Col::Text),
            ("moderation_comment", Col::Text),
            ("client_comment", Col::Text),
            ("internal_note", Col::Text),
            ("evidence_hash", Col::Text),
            ("idempotency_key", Col::Text),
            ("request_hash", Col::Text),
            ("case_version", Col::Int),
            ("change_seq", Col::Int),
            ("decided_at_ms", Col::Int),
            ("reupload", Col::Text),
            ("status", Col::Text),
        ],
        key: None,
        rows: decided
            .iter()
            .map(|Decided { request, decision: d, .. }| {
                let r = &decides[*request];
                json!({"id": d.id, "tenant_id": r.user.tenant_id, "case_id": d.case_id,
                       "applicant_id": d.applicant_id, "reviewer_id": d.reviewer_id, "answer": d.answer.as_str(),
                       "reject_type": d.reject_type.map(|t| t.as_str()),
                       "labels": serde_json::to_string(&d.labels).expect("labels serialise"),
                       "moderation_comment": d.moderation_comment, "client_comment": d.client_comment,
                       "internal_note": d.internal_note, "evidence_hash": d.evidence_hash,
                       "idempotency_key": r.key, "request_hash": r.request_hash,
                       "case_version": d.case_version, "change_seq": d.change_seq,
                       "decided_at_ms": d.decided_at_ms,
                       "reupload": serde_json::to_string(&d.reupload).expect("requests serialise"),
                       "status": d.status.as_str()})
            })
            .collect(),
    }
}

/// Decided cases leave the queue; claimed ones get their holder and lease. A case is never
/// both in one batch (decided cases are not claimable), so one statement does both.
fn cases_write(decided: &[Decided], claimed: &[(usize, Case)], now: i64) -> BulkWrite {
    let decided = decided.iter().map(|Decided { decision: d, .. }| {
        json!({"id": d.case_id, "state": CaseState::Decided.as_str(), "holder_id": d.reviewer_id,
               "lease_until_ms": null, "change_seq": d.change_seq})
    });
    let claimed = claimed.iter().map(|(_, c)| {
        json!({"id": c.id, "state": CaseState::Claimed.as_str(), "holder_id": c.holder_id,
               "lease_until_ms": c.lease_until_ms, "change_seq": c.change_seq})
    });
    BulkWrite {
        head: "UPDATE cases SET state = v.state, holder_id = v.holder_id, lease_until_ms = v.lease_until_ms, \
               version = version + 1, change_seq = v.change_seq, updated_at_ms = v.updated_at_ms FROM ",
        columns: &[
            ("id", Col::Text),
            ("state", Col::Text),
            ("holder_id", Col::Text),
            ("lease_until_ms", Col::Int),
            ("change_seq", Col::Int),
            ("updated_at_ms", Col::Int),
        ],
        key: Some(("cases.id", "id")),
        rows: decided
            .chain(claimed)
            .map(|mut row| {
                row["updated_at_ms"] = json!(now);
                row
            })
            .collect(),
    }
}

/// The four-eyes, escalation and QA cases the batch's decisions open, each as the change of
/// the event that created it.
fn opened_write(opened: &[(usize, String, NewCase)], sealed: &[AuditEvent]) -> BulkWrite {
    BulkWrite {
        head: "INSERT INTO cases (id, tenant_id, applicant_id, kind, state, priority, due_at_ms, version, change_seq, \
               created_at_ms, updated_at_ms, suggested_labels, four_eyes, checks_decision_id, excluded_user_ids, \
               unclaimed_state) \
               SELECT v.id, v.tenant_id, v.applicant_id, v.kind, v.state, v.priority, v.due_at_ms, 1, v.change_seq, \
               v.created_at_ms, v.created_at_ms, v.suggested_labels, v.four_eyes, v.checks_decision_id, \
               v.excluded_user_ids, v.unclaimed_state FROM ",
        columns: &[
            ("id", Col::Text),
            ("tenant_id", Col::Text),
            ("applicant_id", Col::Text),
            ("kind", Col::Text),
            ("state", Col::Text),
            ("priority", Col::Int),
            ("due_at_ms", Col::Int),
            ("change_seq", Col::Int),
            ("created_at_ms", Col::Int),
            ("suggested_labels", Col::Text),
            ("four_eyes", Col::Int),
            ("checks_decision_id", Col::Text),
            ("excluded_user_ids", Col::Text),
            ("unclaimed_state", Col::Text),
        ],
        key: None,
        rows: opened
            .iter()
            .map(|(event, tenant_id, c)| {
                json!({"id": c.id, "tenant_id": tenant_id, "applicant_id": c.applicant_id, "kind": c.kind.as_str(),
                       "state": c.state.as_str(), "priority": c.priority, "due_at_ms": c.due_at_ms,
                       "change_seq": sealed[*event].seq, "created_at_ms": c.created_at_ms,
                       "suggested_labels": serde_json::to_string(&c.suggested_labels).expect("labels serialise"),
                       "four_eyes": i64::from(c.four_eyes), "checks_decision_id": c.checks_decision_id,
                       "excluded_user_ids": serde_json::to_string(&c.excluded_user_ids).expect("ids serialise"),
                       "unclaimed_state": c.unclaimed_state().as_str()})
            })
            .collect(),
    }
}

/// Staged decisions confirmed or overruled by this batch, as changes of the deciding events.
fn settled_write(decided: &[Decided], sealed: &[AuditEvent]) -> BulkWrite {
    BulkWrite {
        head: "UPDATE decisions SET status = v.status, change_seq = v.change_seq FROM ",
        columns: &[("id", Col::Text), ("status", Col::Text), ("change_seq", Col::Int)],
        key: Some(("decisions.id", "id")),
        rows: decided
            .iter()
            .filter_map(|d| {
                let (id, status) = d.settles.as_ref()?;
                Some(json!({"id": id, "status": status.as_str(), "change_seq": sealed[d.event].seq}))
            })
            .collect(),
    }
}

/// Decisions that settle their applicant give it its answer.
fn applicants_write(decided: &[Decided]) -> Option<BulkWrite> {
    // One row per applicant: PostgreSQL updates a row once per statement.
    let mut completing: HashMap<&str, (&Decision, Answer, Option<RejectType>)> = HashMap::new();
    for d in decided {
        if let Some((answer, reject_type)) = d.completes {
            completing.insert(&d.decision.applicant_id, (&d.decision, answer, reject_type));
        }
    }
    if completing.is_empty() {
        return None;
    }
    Some(BulkWrite {
        head: "UPDATE applicants SET status = 'completed', review_answer = v.answer, reject_type = v.reject_type, \
               updated_at_ms = v.decided_at_ms FROM ",
        columns: &[("id", Col::Text), ("answer", Col::Text), ("reject_type", Col::Text), ("decided_at_ms", Col::Int)],
        key: Some(("applicants.id", "id")),
        rows: completing
            .into_values()
            .map(|(d, answer, reject_type)| {
                json!({"id": d.applicant_id, "answer": answer.as_str(),
                       "reject_type": reject_type.map(|t| t.as_str()), "decided_at_ms": d.decided_at_ms})
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use identdesk_domain::{Region, Role};

    use super::*;
    use crate::store::accounts::Tenant;
    use crate::store::applicants::SeedApplicant;

    fn decide(user: &StaffUser, case: &Case, key: &str) -> (DecideRequest, oneshot::Receiver<Result<Decision>>) {
        decide_with(user, case, key, DecisionInput::green(case.version))
    }

    fn decide_with(
        user: &StaffUser,
        case: &Case,
        key: &str,
        input: DecisionInput,
    ) -> (DecideRequest, oneshot::Receiver<Result<Decision>>) {
        let (reply, answer) = oneshot::channel();
        let request_hash = format!("{}:{key}", case.id);
        (
            DecideRequest { user: user.clone(), case_id: case.id.clone(), key: key.into(), request_hash, input, reply },
            answer,
        )
    }

    /// A store with one tenant, reviewers Ana and Ben, and `cases` queued review cases.
    async fn two_reviewers(cases: usize) -> (tempfile::TempDir, Store, Tenant, StaffUser, StaffUser) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display())).await.unwrap();
        let tenant = store.create_tenant("Acme", Region::Eu).await.unwrap();
        let ana = store.create_user_with_hash(&tenant.id, "ana@acme.test", Role::Reviewer, "x").await.unwrap();
        let ben = store.create_user_with_hash(&tenant.id, "ben@acme.test", Role::Reviewer, "x").await.unwrap();
        let seed: Vec<_> = (0..cases).map(|i| SeedApplicant::queued(i, CaseKind::Review, now_ms())).collect();
        store.seed_applicants(&tenant.id, &seed).await.unwrap();
        (dir, store, tenant, ana, ben)
    }

    #[tokio::test]
    async fn a_request_that_fails_its_batch_does_not_fail_the_others() {
        let (_dir, store, tenant, ana, ben) = two_reviewers(3).await;
        let kinds = [CaseKind::Review];
        let first = store.claim_next(&ana, &kinds, 60_000).await.unwrap().unwrap();
        store.decide(&ana, &first.id, "k", &DecisionInput::green(first.version)).await.unwrap();
        let anas = store.claim_next(&ana, &kinds, 60_000).await.unwrap().unwrap();
        let bens = store.claim_next(&ben, &kinds, 60_000).await.unwrap().unwrap();

        // One batch: Ana reuses her key on another case (the unique index refuses the whole
        // statement), Ben decides his case properly.
        let (bad, bad_answer) = decide(&ana, &anas, "k");
        let (good, good_answer) = decide(&ben, &bens, "b-1");
        run_batch(&store, vec![QueueRequest::Decide(bad), QueueRequest::Decide(good)]).await;

        assert!(bad_answer.await.unwrap().unwrap_err().is_unique_violation());
        let decision = good_answer.await.unwrap().unwrap();
        assert_eq!(decision.case_id, bens.id);
        assert_eq!(store.case(&tenant.id, &bens.id).await.unwrap().state, CaseState::Decided);
        assert_eq!(store.case(&tenant.id, &anas.id).await.unwrap().state, CaseState::Claimed);
        store.verify_chain(&tenant.id).await.unwrap();
    }

    #[tokio::test]
    async fn an_approval_with_open_screening_hits_is_refused_alone_and_a_rejection_is_not() {
        let (_dir, store, tenant, ana, ben) = two_reviewers(2).await;
        let now = now_ms();
        let kinds = [CaseKind::Review];
        let anas = store.claim_next(&ana, &kinds, 60_000).await.unwrap().unwrap();
        let bens = store.claim_next(&ben, &kinds, 60_000).await.unwrap().unwrap();
        // The screening matched Ana's applicant with a listed person; nobody has looked yet.
        let results = json!([{"check": "screening", "details": {"hits": [{"entityId": "ofac:306"}]}}]);
        sqlx::query(
            "INSERT INTO verdicts (applicant_id, tenant_id, answer, reject_type, labels, four_eyes, reason, results, \
             created_at_ms) VALUES ($1, $2, 'YELLOW', NULL, '[\"SANCTIONS\"]', 1, 'screening hit', $3, $4)",
        )
        .bind(&anas.applicant_id)
        .bind(&tenant.id)
        .bind(results.to_string())
        .bind(now)
        .execute(store.writer())
        .await
        .unwrap();

        // One batch: Ana approves her case, Ben his.
        let (approval, approval_answer) = decide(&ana, &anas, "a-1");
        let (other, other_answer) = decide(&ben, &bens, "b-1");
        run_batch(&store, vec![QueueRequest::Decide(approval), QueueRequest::Decide(other)]).await;
        let refused = approval_answer.await.unwrap().unwrap_err();
        assert!(matches!(&refused, Error::ScreeningHitsOpen(open) if open == "ofac:306"), "{refused:?}");
        assert_eq!(other_answer.await.unwrap().unwrap().case_id, bens.id);
        assert_eq!(store.case(&tenant.id, &anas.id).await.unwrap().state, CaseState::Claimed);

        // Open hits hold up an approval only: Ana may reject.
        let rejection = DecisionInput {
            answer: Answer::Red,
            reject_type: Some(RejectType::Final),
            labels: vec![identdesk_domain::RejectLabel::BLACKLIST],
            ..DecisionInput::green(anas.version)
        };
        let (red, red_answer) = decide_with(&ana, &anas, "a-2", rejection);
        run_batch(&store, vec![QueueRequest::Decide(red)]).await;
        assert_eq!(red_answer.await.unwrap().unwrap().answer, Answer::Red);
        assert_eq!(store.case(&tenant.id, &anas.id).await.unwrap().state, CaseState::Decided);
        store.verify_chain(&tenant.id).await.unwrap();
    }
}
