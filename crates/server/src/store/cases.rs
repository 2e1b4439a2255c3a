//! The review queue: cases, claims with expiring leases, decisions (idempotent, optimistic
//! on the case version), and the change feed that desktop consoles sync from.

use identdesk_domain::{
    Answer, CaseKind, CaseState, DecideRefusal, DecisionInput, DecisionStatus, LeaseView, RejectLabel, Role,
};
use serde_json::json;
use sqlx::Row;

use super::accounts::{sha256_hex, StaffUser};
use super::audit::{self, Actor};
use super::queue_writer::{ClaimRequest, DecideRequest, QueueRequest};
use super::{new_id, now_ms, Store, Tx};
use crate::error::{Error, Result};

/// How long a claim lasts unless renewed.
pub const DEFAULT_LEASE_MS: i64 = 15 * 60 * 1000;
/// The review SLA a new case gets: due in 24 hours.
pub const DEFAULT_SLA_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub id: String,
    pub tenant_id: String,
    pub applicant_id: String,
    pub kind: CaseKind,
    pub state: CaseState,
    /// Higher first.
    pub priority: i64,
    pub due_at_ms: i64,
    pub holder_id: Option<String>,
    pub lease_until_ms: Option<i64>,
    /// Goes up with every change; a decision names the version it was made on.
    pub version: i64,
    /// The change-feed cursor of the case's last change.
    pub change_seq: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// Labels the automated checks suggest; the reviewer sees them pre-selected.
    pub suggested_labels: Vec<RejectLabel>,
    /// A watchlist hit: the decision needs a second reviewer.
    pub four_eyes: bool,
    /// For a four-eyes or QA case: the decision it checks.
    pub checks_decision_id: Option<String>,
    /// Who may not decide this case: the maker of the decision it checks (and, once escalated,
    /// the checker who disagreed).
    pub excluded_user_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub id: String,
    pub case_id: String,
    pub applicant_id: String,
    pub reviewer_id: String,
    pub answer: Answer,
    pub reject_type: Option<identdesk_domain::RejectType>,
    pub labels: Vec<RejectLabel>,
    pub moderation_comment: Option<String>,
    pub client_comment: Option<String>,
    pub internal_note: Option<String>,
    /// SHA-256 over the applicant's document hashes at the moment of the decision.
    pub evidence_hash: String,
    /// For a RETRY: the documents the applicant must upload again, and why.
    pub reupload: Vec<identdesk_domain::ReuploadRequest>,
    /// The case version the decision was made on.
    pub case_version: i64,
    pub change_seq: i64,
    pub decided_at_ms: i64,
    /// Final, or staged for a second reviewer, and what became of a staged one.
    #[serde(default)]
    pub status: DecisionStatus,
}

/// A case about to be queued.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub id: String,
    pub applicant_id: String,
    pub kind: CaseKind,
    pub state: CaseState,
    pub priority: i64,
    pub due_at_ms: i64,
    pub created_at_ms: i64,
    pub suggested_labels: Vec<RejectLabel>,
    pub four_eyes: bool,
    pub checks_decision_id: Option<String>,
    pub excluded_user_ids: Vec<String>,
}

impl NewCase {
    pub fn review(applicant_id: &str, now: i64) -> NewCase {
        NewCase {
            id: new_id(),
            applicant_id: applicant_id.to_owned(),
            kind: CaseKind::Review,
            state: CaseState::Queued,
            priority: 0,
            due_at_ms: now + DEFAULT_SLA_MS,
            created_at_ms: now,
            suggested_labels: Vec::new(),
            four_eyes: false,
            checks_decision_id: None,
            excluded_user_ids: Vec::new(),
        }
    }

    /// The state the case waits in while nobody holds it.
    pub fn unclaimed_state(&self) -> CaseState {
        if self.state == CaseState::Escalated {
            CaseState::Escalated
        } else {
            CaseState::Queued
        }
    }
}

/// The answer to a decision request: new, or the first answer to the same idempotency key.
pub enum DecideOutcome {
    Decided(Decision),
    Replayed(Decision),
}

/// Filters and paging of the case list.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseFilter {
    pub state: Option<CaseState>,
    pub kind: Option<CaseKind>,
    pub holder_id: Option<String>,
    pub applicant_id: Option<String>,
    /// Cases a label was suggested for by the checks or given in the decision.
    pub label: Option<RejectLabel>,
    /// Cases this reviewer holds or decided.
    pub reviewer_id: Option<String>,
    /// Created at or after (ms since the epoch).
    pub created_from_ms: Option<i64>,
    /// Created before (ms since the epoch).
    pub created_to_ms: Option<i64>,
    /// Due before (ms since the epoch): with `undecided`, the cases near or past their SLA.
    pub due_before_ms: Option<i64>,
    /// Only cases not yet decided.
    pub undecided: Option<bool>,
    /// At most 200; 50 when absent.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CasePage {
    pub items: Vec<Case>,
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

/// One entry of the change feed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", tag = "entity")]
pub enum Change {
    Case {
        seq: i64,
        case: Case,
    },
    Decision {
        seq: i64,
        decision: Decision,
    },
    /// The applicant was erased: a console drops everything it keeps of them.
    #[serde(rename_all = "camelCase")]
    Erased {
        seq: i64,
        applicant_id: String,
    },
}

impl Change {
    pub fn seq(&self) -> i64 {
        match self {
            Change::Case { seq, .. } | Change::Decision { seq, .. } | Change::Erased { seq, .. } => *seq,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePage {
    /// Each case and decision changed after the cursor, in its newest form, in cursor order.
    pub changes: Vec<Change>,
    /// Pass this as `cursor` to continue.
    pub next_cursor: i64,
    pub has_more: bool,
}

pub(super) const CASE_COLUMNS: &str = "id, tenant_id, applicant_id, kind, state, priority, due_at_ms, holder_id, \
                            lease_until_ms, version, change_seq, created_at_ms, updated_at_ms, suggested_labels, four_eyes, \
                            checks_decision_id, excluded_user_ids";

pub(super) fn case_from_row(row: &sqlx::any::AnyRow) -> Result<Case> {
    Ok(Case {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        applicant_id: row.try_get("applicant_id")?,
        kind: row.try_get::<String, _>("kind")?.parse()?,
        state: row.try_get::<String, _>("state")?.parse()?,
        priority: row.try_get("priority")?,
        due_at_ms: row.try_get("due_at_ms")?,
        holder_id: row.try_get("holder_id")?,
        lease_until_ms: row.try_get("lease_until_ms")?,
        version: row.try_get("version")?,
        change_seq: row.try_get("change_seq")?,
        created_at_ms: row.try_get("created_at_ms")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
        suggested_labels: serde_json::from_str(&row.try_get::<String, _>("suggested_labels")?)
            .map_err(|e| Error::Internal(format!("stored suggested labels: {e}")))?,
        four_eyes: row.try_get::<i64, _>("four_eyes")? != 0,
        checks_decision_id: row.try_get("checks_decision_id")?,
        excluded_user_ids: serde_json::from_str(&row.try_get::<String, _>("excluded_user_ids")?)
            .map_err(|e| Error::Internal(format!("stored excluded users: {e}")))?,
    })
}

pub(super) fn decision_from_row(row: &sqlx::any::AnyRow) -> Result<Decision> {
    let labels: String = row.try_get("labels")?;
    let reject_type: Option<String> = row.try_get("reject_type")?;
    Ok(Decision {
        id: row.try_get("id")?,
        case_id: row.try_get("case_id")?,
        applicant_id: row.try_get("applicant_id")?,
        reviewer_id: row.try_get("reviewer_id")?,
        answer: row.try_get::<String, _>("answer")?.parse()?,
        reject_type: reject_type.map(|t| t.parse()).transpose()?,
        labels: serde_json::from_str(&labels).map_err(|e| Error::Internal(format!("stored labels: {e}")))?,
        moderation_comment: row.try_get("moderation_comment")?,
        client_comment: row.try_get("client_comment")?,
        internal_note: row.try_get("internal_note")?,
        evidence_hash: row.try_get("evidence_hash")?,
        reupload: serde_json::from_str(&row.try_get::<String, _>("reupload")?)
            .map_err(|e| Error::Internal(format!("stored re-upload requests: {e}")))?,
        case_version: row.try_get("case_version")?,
        change_seq: row.try_get("change_seq")?,
        decided_at_ms: row.try_get("decided_at_ms")?,
        status: row.try_get::<String, _>("status")?.parse()?,
    })
}

impl Store {
    /// Queues a case inside `tx`, with its audit event.
    pub async fn insert_case(&self, tx: &mut Tx, tenant_id: &str, case: &NewCase, actor: &Actor) -> Result<i64> {
        let seq = audit::append(
            tx,
            tenant_id,
            actor,
            "case.created",
            &format!("case:{}", case.id),
            json!({"kind": case.kind, "state": case.state, "applicantId": case.applicant_id}),
        )
        .await?;
        sqlx::query(&format!(
            "INSERT INTO cases ({CASE_COLUMNS}, unclaimed_state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, 1, $8, $9, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&case.id)
        .bind(tenant_id)
        .bind(&case.applicant_id)
        .bind(case.kind.as_str())
        .bind(case.state.as_str())
        .bind(case.priority)
        .bind(case.due_at_ms)
        .bind(seq)
        .bind(case.created_at_ms)
        .bind(serde_json::to_string(&case.suggested_labels).expect("labels serialise"))
        .bind(i64::from(case.four_eyes))
        .bind(case.checks_decision_id.as_deref())
        .bind(serde_json::to_string(&case.excluded_user_ids).expect("ids serialise"))
        .bind(case.unclaimed_state().as_str())
        .execute(&mut **tx)
        .await?;
        Ok(seq)
    }

    pub async fn case(&self, tenant_id: &str, id: &str) -> Result<Case> {
        let row = sqlx::query(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 AND tenant_id = $2"))
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(Error::NotFound("case"))?;
        case_from_row(&row)
    }

    pub async fn decision_for_case(&self, tenant_id: &str, case_id: &str) -> Result<Option<Decision>> {
        let row = sqlx::query("SELECT * FROM decisions WHERE case_id = $1 AND tenant_id = $2")
            .bind(case_id)
            .bind(tenant_id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(decision_from_row).transpose()
    }

    /// The decisions a second look at `case` builds on, oldest first: the decision it checks,
    /// and the other second looks at that decision (the checker's, for an escalation).
    pub async fn earlier_decisions(&self, tenant_id: &str, case: &Case) -> Result<Vec<Decision>> {
        let Some(checked) = &case.checks_decision_id else { return Ok(Vec::new()) };
        let rows = sqlx::query(
            "SELECT * FROM decisions WHERE tenant_id = $1 AND (id = $2 OR case_id IN \
             (SELECT id FROM cases WHERE checks_decision_id = $2 AND id <> $3 AND kind = 'four_eyes')) \
             ORDER BY decided_at_ms, id",
        )
        .bind(tenant_id)
        .bind(checked)
        .bind(&case.id)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(decision_from_row).collect()
    }

    pub async fn list_cases(&self, tenant_id: &str, filter: &CaseFilter) -> Result<CasePage> {
        let limit = filter.limit.unwrap_or(50);
        let offset = filter.offset.unwrap_or(0);
        if !(1..=200).contains(&limit) || offset < 0 {
            return Err(Error::InvalidQuery("limit must be 1 to 200 and offset 0 or more".into()));
        }
        let (where_clause, values) = case_where(tenant_id, filter);
        let count_sql = format!("SELECT COUNT(*) AS n FROM cases WHERE {where_clause}");
        let mut count = sqlx::query(&count_sql);
        for v in &values {
            count = count.bind(v.clone());
        }
        let total: i64 = count.fetch_one(self.reader()).await?.try_get("n")?;
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE {where_clause} ORDER BY due_at_ms, id LIMIT ${} OFFSET ${}",
            values.len() + 1,
            values.len() + 2
        );
        let mut query = sqlx::query(&sql);
        for v in &values {
            query = query.bind(v.clone());
        }
        let rows = query.bind(limit).bind(offset).fetch_all(self.reader()).await?;
        let items = rows.iter().map(case_from_row).collect::<Result<_>>()?;
        Ok(CasePage { items, total, offset, limit })
    }

    /// Hands the next case to `user`: at random among the most urgent queued cases of the kinds
    /// given. A user who already holds a live claim gets that case back.
    pub async fn claim_next(&self, user: &StaffUser, kinds: &[CaseKind], lease_ms: i64) -> Result<Option<Case>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let (user, kinds) = (user.clone(), kinds.to_vec());
        self.queue(|reply| QueueRequest::Claim(ClaimRequest { user, kinds, lease_ms, reply })).await
    }

    /// Locks a case of the user's tenant for a change.
    async fn case_for_update(&self, tx: &mut Tx, tenant_id: &str, id: &str) -> Result<Case> {
        let sql =
            format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 AND tenant_id = $2{}", self.lock_for_update());
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(Error::NotFound("case"))?;
        case_from_row(&row)
    }

    /// Extends the holder's lease.
    pub async fn renew_lease(&self, user: &StaffUser, case_id: &str, lease_ms: i64) -> Result<Case> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let case = self.case_for_update(&mut tx, &user.tenant_id, case_id).await?;
        lease_check(&case, &user.id, now, case.version)?;
        let until = now + lease_ms;
        let seq = audit::append(
            &mut tx,
            &user.tenant_id,
            &Actor::User(user.id.clone()),
            "case.lease_renewed",
            &format!("case:{case_id}"),
            json!({"leaseUntilMs": until}),
        )
        .await?;
        let row = sqlx::query(&format!(
            "UPDATE cases SET lease_until_ms = $1, change_seq = $2, updated_at_ms = $3 WHERE id = $4 RETURNING {CASE_COLUMNS}"
        ))
        .bind(until)
        .bind(seq)
        .bind(now)
        .bind(case_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        case_from_row(&row)
    }

    /// Puts a claimed case back in the queue. The holder may; a supervisor may for anyone.
    pub async fn release(&self, user: &StaffUser, case_id: &str, supervisor: bool) -> Result<Case> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let case = self.case_for_update(&mut tx, &user.tenant_id, case_id).await?;
        if case.state == CaseState::Decided {
            return Err(Error::CaseAlreadyDecided);
        }
        if case.state != CaseState::Claimed || !(supervisor || case.holder_id.as_deref() == Some(&user.id)) {
            return Err(Error::LeaseNotHeld);
        }
        let seq = audit::append(
            &mut tx,
            &user.tenant_id,
            &Actor::User(user.id.clone()),
            "case.released",
            &format!("case:{case_id}"),
            json!({"previousHolder": case.holder_id}),
        )
        .await?;
        let case = hand_over(&mut tx, case_id, None, seq, now).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// A supervisor hands a case that is not decided to `assignee`, who holds it for `lease_ms`
    /// as if they had claimed it; a previous holder loses it.
    pub async fn assign(
        &self,
        supervisor: &StaffUser,
        case_id: &str,
        assignee_id: &str,
        lease_ms: i64,
    ) -> Result<Case> {
        let assignee = self
            .user_accounts(&supervisor.tenant_id)
            .await?
            .into_iter()
            .find(|u| u.id == assignee_id && u.disabled_at_ms.is_none())
            .ok_or(Error::NotFound("user"))?;
        let now = now_ms();
        let mut tx = self.begin().await?;
        let case = self.case_for_update(&mut tx, &supervisor.tenant_id, case_id).await?;
        if case.state == CaseState::Decided {
            return Err(Error::CaseAlreadyDecided);
        }
        if case.excluded_user_ids.contains(&assignee.id) {
            return Err(Error::SelfCheck(format!(
                "{} made the decision this case checks; assign it to someone else",
                assignee.email
            )));
        }
        let unclaimed: String = sqlx::query("SELECT unclaimed_state FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("unclaimed_state")?;
        if unclaimed == CaseState::Escalated.as_str() && assignee.role != Role::Supervisor {
            return Err(Error::InvalidState(format!(
                "the case is escalated: only a supervisor settles it, and {} is a {}",
                assignee.email, assignee.role
            )));
        }
        if !assignee.role.claimable_kinds().contains(&case.kind) {
            return Err(Error::InvalidState(format!(
                "{} is a {} and does not work {} cases",
                assignee.email, assignee.role, case.kind
            )));
        }
        let seq = audit::append(
            &mut tx,
            &supervisor.tenant_id,
            &Actor::User(supervisor.id.clone()),
            "case.assigned",
            &format!("case:{case_id}"),
            json!({"previousHolder": case.holder_id, "assignee": assignee.id}),
        )
        .await?;
        let case = hand_over(&mut tx, case_id, Some((&assignee.id, now + lease_ms)), seq, now).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// Returns every case whose lease ran out to the queue; returns how many.
    pub async fn requeue_expired(&self) -> Result<usize> {
        let now = now_ms();
        let expired =
            sqlx::query("SELECT id, tenant_id FROM cases WHERE state = 'claimed' AND lease_until_ms <= $1 LIMIT 500")
                .bind(now)
                .fetch_all(self.reader())
                .await?;
        let mut requeued = 0;
        for row in &expired {
            let (id, tenant): (String, String) = (row.try_get("id")?, row.try_get("tenant_id")?);
            let mut tx = self.begin().await?;
            let case = self.case_for_update(&mut tx, &tenant, &id).await?;
            // Renewed or decided since we looked: leave it.
            if case.state != CaseState::Claimed || case.lease_until_ms.is_none_or(|u| u > now) {
                continue;
            }
            let seq = audit::append(
                &mut tx,
                &tenant,
                &Actor::System,
                "case.lease_expired",
                &format!("case:{id}"),
                json!({"previousHolder": case.holder_id}),
            )
            .await?;
            hand_over(&mut tx, &id, None, seq, now).await?;
            tx.commit().await?;
            requeued += 1;
        }
        Ok(requeued)
    }

    /// Decides a case the user holds. The same idempotency key with the same request returns
    /// the first decision again; nothing is written twice.
    pub async fn decide(
        &self,
        user: &StaffUser,
        case_id: &str,
        idempotency_key: &str,
        input: &DecisionInput,
    ) -> Result<DecideOutcome> {
        input.validate()?;
        if !input.reupload.is_empty() {
            let case = self.case(&user.tenant_id, case_id).await?;
            let documents = self.documents(&user.tenant_id, &case.applicant_id).await?;
            if let Some(r) = input.reupload.iter().find(|r| !documents.iter().any(|d| d.id == r.document_id)) {
                return Err(Error::InvalidDecision(format!(
                    "document {} is not one of this applicant's documents",
                    r.document_id
                )));
            }
        }
        let request_hash = sha256_hex(
            format!("{case_id}\n{}", serde_json::to_string(input).expect("decision input serialises")).as_bytes(),
        );
        // The key is looked up only when deciding fails: a replay finds the case decided (or its
        // own key taken) and then answers as the first request did.
        let request = |reply| {
            QueueRequest::Decide(DecideRequest {
                user: user.clone(),
                case_id: case_id.to_owned(),
                key: idempotency_key.to_owned(),
                request_hash: request_hash.clone(),
                input: input.clone(),
                reply,
            })
        };
        match self.queue(request).await {
            Ok(decision) => Ok(DecideOutcome::Decided(decision)),
            Err(e) => match self.replay(&user.id, idempotency_key, &request_hash).await? {
                Some(decision) => Ok(DecideOutcome::Replayed(decision)),
                None => Err(e),
            },
        }
    }

    /// The decision an idempotency key made before, if any.
    async fn replay(&self, user_id: &str, key: &str, request_hash: &str) -> Result<Option<Decision>> {
        let row = sqlx::query("SELECT * FROM decisions WHERE reviewer_id = $1 AND idempotency_key = $2")
            .bind(user_id)
            .bind(key)
            .fetch_optional(self.reader())
            .await?;
        let Some(row) = row else { return Ok(None) };
        if row.try_get::<String, _>("request_hash")? != request_hash {
            return Err(Error::IdempotencyKeyReused);
        }
        Ok(Some(decision_from_row(&row)?))
    }

    /// The change feed: every case and decision changed after `cursor`, oldest change first.
    pub async fn changes(&self, tenant_id: &str, cursor: i64, limit: i64) -> Result<ChangePage> {
        if !(1..=1000).contains(&limit) || cursor < 0 {
            return Err(Error::InvalidQuery("cursor must be 0 or more and limit 1 to 1000".into()));
        }
        // Read both tables in one snapshot, one more row than asked to know whether more follow.
        let mut tx = self.reader().begin().await?;
        let cases = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE tenant_id = $1 AND change_seq > $2 ORDER BY change_seq LIMIT $3"
        ))
        .bind(tenant_id)
        .bind(cursor)
        .bind(limit + 1)
        .fetch_all(&mut *tx)
        .await?;
        let decisions = sqlx::query(
            "SELECT * FROM decisions WHERE tenant_id = $1 AND change_seq > $2 ORDER BY change_seq LIMIT $3",
        )
        .bind(tenant_id)
        .bind(cursor)
        .bind(limit + 1)
        .fetch_all(&mut *tx)
        .await?;
        // Erased applicants leave no rows to change: their erasure events say it.
        let erasures = sqlx::query(
            "SELECT seq, subject FROM audit_events WHERE tenant_id = $1 AND seq > $2 AND action = 'applicant.erased' \
             ORDER BY seq LIMIT $3",
        )
        .bind(tenant_id)
        .bind(cursor)
        .bind(limit + 1)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let fetched_more =
            cases.len() > limit as usize || decisions.len() > limit as usize || erasures.len() > limit as usize;
        let mut all = Vec::with_capacity(cases.len() + decisions.len());
        for row in &cases {
            let case = case_from_row(row)?;
            all.push(Change::Case { seq: case.change_seq, case });
        }
        for row in &decisions {
            let decision = decision_from_row(row)?;
            all.push(Change::Decision { seq: decision.change_seq, decision });
        }
        for row in &erasures {
            let subject: String = row.try_get("subject")?;
            let applicant_id = subject.trim_start_matches("applicant:").to_owned();
            all.push(Change::Erased { seq: row.try_get("seq")?, applicant_id });
        }
        // A decision and its case share the seq of the event that decided the case; a page
        // never ends between them, or the next page (after that seq) would miss one.
        all.sort_by_key(|c| (c.seq(), matches!(c, Change::Decision { .. })));
        let mut changes: Vec<Change> = Vec::with_capacity(limit as usize + 1);
        let mut cut = false;
        for change in all {
            if changes.len() >= limit as usize && changes.last().map(Change::seq) != Some(change.seq()) {
                cut = true;
                break;
            }
            changes.push(change);
        }
        let has_more = cut || fetched_more;
        let next_cursor = changes.last().map(Change::seq).unwrap_or(cursor);
        Ok(ChangePage { changes, next_cursor, has_more })
    }
}

pub(super) fn lease_check(case: &Case, user_id: &str, now: i64, expected_version: i64) -> Result<()> {
    let view = LeaseView {
        state: case.state,
        holder: case.holder_id.as_deref(),
        lease_until_ms: case.lease_until_ms,
        version: case.version,
    };
    view.check_decide(user_id, now, expected_version).map_err(|refusal| match refusal {
        DecideRefusal::AlreadyDecided => Error::CaseAlreadyDecided,
        DecideRefusal::LeaseNotHeld => Error::LeaseNotHeld,
        DecideRefusal::LeaseExpired => Error::LeaseExpired,
        DecideRefusal::VersionConflict => Error::VersionConflict { current: case.version },
    })
}

/// Gives a case to a holder until a time (claimed), or back to the queue with `None`, as the
/// change `seq`; one new version either way.
async fn hand_over(tx: &mut Tx, case_id: &str, to: Option<(&str, i64)>, seq: i64, now: i64) -> Result<Case> {
    let row = sqlx::query(&format!(
        "UPDATE cases SET state = COALESCE($1, unclaimed_state), holder_id = $2, lease_until_ms = $3, \
         version = version + 1, change_seq = $4, updated_at_ms = $5 WHERE id = $6 RETURNING {CASE_COLUMNS}"
    ))
    .bind(to.map(|_| "claimed"))
    .bind(to.map(|(holder, _)| holder))
    .bind(to.map(|(_, until)| until))
    .bind(seq)
    .bind(now)
    .bind(case_id)
    .fetch_one(&mut **tx)
    .await?;
    case_from_row(&row)
}

/// The case list's filter as SQL over `cases`, with its values in bind order.
fn case_where(tenant_id: &str, f: &CaseFilter) -> (String, Vec<String>) {
    let mut parts = vec!["tenant_id = $1".to_owned()];
    let mut binds = vec![tenant_id.to_owned()];
    let mut add = |sql: &str, value: String| {
        binds.push(value);
        parts.push(sql.replace('?', &format!("${}", binds.len())));
    };
    if let Some(s) = f.state {
        add("state = ?", s.as_str().to_owned());
    }
    if let Some(k) = f.kind {
        add("kind = ?", k.as_str().to_owned());
    }
    if let Some(h) = &f.holder_id {
        add("holder_id = ?", h.clone());
    }
    if let Some(a) = &f.applicant_id {
        add("applicant_id = ?", a.clone());
    }
    if let Some(l) = f.label {
        // Labels are stored as JSON arrays of their names.
        add(
            "(suggested_labels LIKE ? OR EXISTS (SELECT 1 FROM decisions d WHERE d.case_id = cases.id AND d.labels LIKE ?))",
            format!("%\"{}\"%", l.as_str()),
        );
    }
    if let Some(r) = &f.reviewer_id {
        add(
            "(holder_id = ? OR EXISTS (SELECT 1 FROM decisions d WHERE d.case_id = cases.id AND d.reviewer_id = ?))",
            r.clone(),
        );
    }
    let mut clause = parts.join(" AND ");
    // Times are numbers: written in, not bound, so both engines compare them as integers.
    if let Some(from) = f.created_from_ms {
        clause.push_str(&format!(" AND created_at_ms >= {from}"));
    }
    if let Some(to) = f.created_to_ms {
        clause.push_str(&format!(" AND created_at_ms < {to}"));
    }
    if let Some(due) = f.due_before_ms {
        clause.push_str(&format!(" AND due_at_ms < {due}"));
    }
    if f.undecided == Some(true) {
        clause.push_str(" AND state <> 'decided'");
    }
    (clause, binds)
}
