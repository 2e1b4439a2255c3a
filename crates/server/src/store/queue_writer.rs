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

use identdesk_domain::{CaseKind, CaseState, DecisionInput};
use rand::Rng;
use serde_json::json;
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use super::accounts::StaffUser;
use super::audit::{chain_writes, seal, NewEvent};
use super::bulk::{self, json_in, BulkWrite, Col};
use super::cases::{case_from_row, lease_check, Case, Decision, CASE_COLUMNS};
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
    // Each accepted decision: (its event, its request, the decision, the case kind).
    let mut decided: Vec<(usize, usize, Decision, CaseKind)> = Vec::new();
    let mut decide_answers: Vec<Result<usize>> = Vec::with_capacity(decides.len());
    if !decides.is_empty() {
        let mut cases = lock_cases(store, &mut tx, decides.iter().map(|d| d.case_id.as_str())).await?;
        let mut batch_keys = HashSet::new();
        for (r, d) in decides.iter().enumerate() {
            let accepted: Result<(Decision, CaseKind)> = (|| {
                let (case, evidence_hash) = cases
                    .get_mut(&d.case_id)
                    .filter(|(c, _)| c.tenant_id == d.user.tenant_id)
                    .ok_or(Error::NotFound("case"))?;
                // A key used twice in one batch answers with its first decision, looked up after
                // the commit. A key used in an earlier batch meets the unique index: the batch
                // fails, is retried request by request, and that request's replay answers.
                if !batch_keys.insert((&d.user.id, &d.key)) {
                    return Err(Error::IdempotencyKeyReused);
                }
                lease_check(case, &d.user.id, now, d.input.version)?;
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
                    evidence_hash: evidence_hash.clone(),
                    reupload: d.input.reupload.clone(),
                    case_version: case.version,
                    change_seq: 0,
                    decided_at_ms: now,
                };
                // Later requests in this batch see the case as it will be.
                case.state = CaseState::Decided;
                case.version += 1;
                Ok((decision, case.kind))
            })();
            decide_answers.push(accepted.map(|(decision, kind)| {
                events.push(NewEvent {
                    tenant_id: d.user.tenant_id.clone(),
                    actor: format!("user:{}", d.user.id),
                    action: "case.decided",
                    subject: format!("case:{}", decision.case_id),
                    detail: json!({"decisionId": decision.id, "answer": decision.answer,
                                   "rejectType": decision.reject_type, "labels": decision.labels})
                    .to_string(),
                });
                decided.push((events.len() - 1, r, decision, kind));
                decided.len() - 1
            }));
        }
    }
    let just_decided: HashSet<String> = decided.iter().map(|(_, _, d, _)| d.case_id.clone()).collect();

    // Claims: a user who holds a live case gets it back; the others get fresh cases.
    let mut claim_answers: Vec<ClaimAnswer> = Vec::with_capacity(claims.len());
    let mut claimed: Vec<(usize, Case)> = Vec::new();
    if !claims.is_empty() {
        let held = held_cases(store, &mut tx, claims, now).await?;
        let mut groups: HashMap<(&str, &[CaseKind]), Vec<usize>> = HashMap::new();
        for (i, c) in claims.iter().enumerate() {
            let mine = held.iter().find(|h| {
                h.holder_id.as_deref() == Some(&c.user.id) && c.kinds.contains(&h.kind) && !just_decided.contains(&h.id)
            });
            claim_answers.push(match mine {
                _ if c.kinds.is_empty() => ClaimAnswer::Nothing,
                Some(case) => ClaimAnswer::Held(case.clone()),
                None => {
                    groups.entry((c.user.tenant_id.as_str(), c.kinds.as_slice())).or_default().push(i);
                    ClaimAnswer::Nothing
                }
            });
        }
        let mut given: HashMap<&str, usize> = HashMap::new();
        let mut taken: HashSet<String> = HashSet::new();
        for ((tenant_id, kinds), members) in groups {
            let mut candidates =
                queued_candidates(store, &mut tx, tenant_id, kinds, members.len() + taken.len()).await?;
            candidates.retain(|c| !taken.contains(&c.id));
            for i in members {
                let c = &claims[i];
                // The same user twice in one batch gets the one case.
                if let Some(&slot) = given.get(c.user.id.as_str()) {
                    claim_answers[i] = ClaimAnswer::Fresh(slot);
                    continue;
                }
                if candidates.is_empty() {
                    continue;
                }
                // At random among the most urgent, never passing over a higher priority.
                let top = candidates.iter().take_while(|c| c.priority == candidates[0].priority).count();
                let pick = rand::thread_rng().gen_range(0..top.min(CLAIM_CANDIDATES));
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
    for (event, _, decision, _) in decided.iter_mut() {
        decision.change_seq = sealed[*event].seq;
    }
    for (event, case) in claimed.iter_mut() {
        case.change_seq = sealed[*event].seq;
    }
    let [events_write, head_write] = chain_writes(&sealed);
    let writes = [events_write, head_write, decisions_write(decides, &decided), cases_write(&decided, &claimed, now)]
        .into_iter()
        .chain(applicants_write(&decided))
        .collect::<Vec<_>>();
    bulk::execute(&mut tx, &writes).await?;
    tx.commit().await?;

    let claim_results = claim_answers
        .into_iter()
        .map(|a| match a {
            ClaimAnswer::Nothing => Ok(None),
            ClaimAnswer::Held(case) => Ok(Some(case)),
            ClaimAnswer::Fresh(slot) => Ok(Some(claimed[slot].1.clone())),
        })
        .collect();
    let decide_results = decide_answers.into_iter().map(|a| a.map(|slot| decided[slot].2.clone())).collect();
    Ok((claim_results, decide_results))
}

/// What a claim request gets from its batch.
enum ClaimAnswer {
    Nothing,
    /// The live case the user holds already.
    Held(Case),
    /// The index of a case claimed in this batch.
    Fresh(usize),
}

/// Locks the cases named (in id order, so batches never deadlock) with their evidence hashes.
async fn lock_cases<'a>(
    store: &Store,
    tx: &mut Tx,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, (Case, String)>> {
    let ids: Vec<&str> = ids.collect::<HashSet<_>>().into_iter().collect();
    let sql = format!(
        "SELECT {CASE_COLUMNS}, (SELECT evidence_hash FROM applicants a WHERE a.id = cases.applicant_id) \
         AS evidence_hash FROM cases WHERE {} ORDER BY id{}",
        json_in(store.backend() == Backend::Postgres, "id", 1),
        store.lock_for_update()
    );
    let mut out = HashMap::new();
    for row in sqlx::query(&sql).bind(json!(ids).to_string()).fetch_all(&mut **tx).await? {
        let case = case_from_row(&row)?;
        let evidence: Option<String> = row.try_get("evidence_hash")?;
        // Applicants without documents (load tests) are decided on the hash of nothing.
        let evidence = evidence.unwrap_or_else(|| super::applicants::evidence_hash(vec![]));
        out.insert(case.id.clone(), (case, evidence));
    }
    Ok(out)
}

async fn held_cases(store: &Store, tx: &mut Tx, claims: &[ClaimRequest], now: i64) -> Result<Vec<Case>> {
    let users: HashSet<&str> = claims.iter().map(|c| c.user.id.as_str()).collect();
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE {} AND state = 'claimed' AND lease_until_ms > $2",
        json_in(store.backend() == Backend::Postgres, "holder_id", 1),
    );
    let query = sqlx::query(&sql).bind(json!(users).to_string()).bind(now);
    query.fetch_all(&mut **tx).await?.iter().map(case_from_row).collect()
}

/// The most urgent queued cases, `wanted` plus the random choice's margin of them, locked
/// where the engine has row locks; rows other writers hold are skipped, never waited for.
async fn queued_candidates(
    store: &Store,
    tx: &mut Tx,
    tenant_id: &str,
    kinds: &[CaseKind],
    wanted: usize,
) -> Result<Vec<Case>> {
    // The limit is bound, not written in: one statement text for every batch size.
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE tenant_id = $1 AND state = 'queued' AND kind IN ({}) \
         ORDER BY priority DESC, due_at_ms LIMIT ${}{}",
        placeholders(2, kinds.len()),
        kinds.len() + 2,
        store.lock_skip_locked()
    );
    let mut query = sqlx::query(&sql).bind(tenant_id);
    for k in kinds {
        query = query.bind(k.as_str());
    }
    let query = query.bind((wanted + CLAIM_CANDIDATES - 1) as i64);
    query.fetch_all(&mut **tx).await?.iter().map(case_from_row).collect()
}

fn decisions_write(decides: &[DecideRequest], decided: &[(usize, usize, Decision, CaseKind)]) -> BulkWrite {
    BulkWrite {
        head: "INSERT INTO decisions (id, tenant_id, case_id, applicant_id, reviewer_id, answer, reject_type, labels, \
               moderation_comment, client_comment, internal_note, evidence_hash, idempotency_key, request_hash, \
               case_version, change_seq, decided_at_ms, reupload) \
               SELECT v.id, v.tenant_id, v.case_id, v.applicant_id, v.reviewer_id, v.answer, v.reject_type, v.labels, \
               v.moderation_comment, v.client_comment, v.internal_note, v.evidence_hash, v.idempotency_key, \
               v.request_hash, v.case_version, v.change_seq, v.decided_at_ms, v.reupload FROM ",
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
        ],
        key: None,
        rows: decided
            .iter()
            .map(|(_, r, d, _)| {
                let r = &decides[*r];
                json!({"id": d.id, "tenant_id": r.user.tenant_id, "case_id": d.case_id,
                       "applicant_id": d.applicant_id, "reviewer_id": d.reviewer_id, "answer": d.answer.as_str(),
                       "reject_type": d.reject_type.map(|t| t.as_str()),
                       "labels": serde_json::to_string(&d.labels).expect("labels serialise"),
                       "moderation_comment": d.moderation_comment, "client_comment": d.client_comment,
                       "internal_note": d.internal_note, "evidence_hash": d.evidence_hash,
                       "idempotency_key": r.key, "request_hash": r.request_hash,
                       "case_version": d.case_version, "change_seq": d.change_seq,
                       "decided_at_ms": d.decided_at_ms,
                       "reupload": serde_json::to_string(&d.reupload).expect("requests serialise")})
            })
            .collect(),
    }
}

/// Decided cases leave the queue; claimed ones get their holder and lease. A case is never
/// both in one batch (decided cases are not claimable), so one statement does both.
fn cases_write(decided: &[(usize, usize, Decision, CaseKind)], claimed: &[(usize, Case)], now: i64) -> BulkWrite {
    let decided = decided.iter().map(|(_, _, d, _)| {
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

/// Review and video cases complete their applicant when decided.
fn applicants_write(decided: &[(usize, usize, Decision, CaseKind)]) -> Option<BulkWrite> {
    // One row per applicant: PostgreSQL updates a row once per statement.
    let mut completing: HashMap<&str, &Decision> = HashMap::new();
    for (_, _, d, kind) in decided {
        if matches!(kind, CaseKind::Review | CaseKind::VideoIdent) {
            completing.insert(&d.applicant_id, d);
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
            .map(|d| {
                json!({"id": d.applicant_id, "answer": d.answer.as_str(),
                       "reject_type": d.reject_type.map(|t| t.as_str()), "decided_at_ms": d.decided_at_ms})
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use identdesk_domain::{Region, Role};

    use super::*;
    use crate::store::applicants::SeedApplicant;

    fn decide(user: &StaffUser, case: &Case, key: &str) -> (DecideRequest, oneshot::Receiver<Result<Decision>>) {
        let (reply, answer) = oneshot::channel();
        let input = DecisionInput::green(case.version);
        let request_hash = format!("{}:{key}", case.id);
        (
            DecideRequest { user: user.clone(), case_id: case.id.clone(), key: key.into(), request_hash, input, reply },
            answer,
        )
    }

    #[tokio::test]
    async fn a_request_that_fails_its_batch_does_not_fail_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display())).await.unwrap();
        let tenant = store.create_tenant("Acme", Region::Eu).await.unwrap();
        let ana = store.create_user_with_hash(&tenant.id, "ana@acme.test", Role::Reviewer, "x").await.unwrap();
        let ben = store.create_user_with_hash(&tenant.id, "ben@acme.test", Role::Reviewer, "x").await.unwrap();
        let now = now_ms();
        let seed: Vec<_> = (0..3).map(|i| SeedApplicant::queued(i, CaseKind::Review, now)).collect();
        store.seed_applicants(&tenant.id, &seed).await.unwrap();
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
}
