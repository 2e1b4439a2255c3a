//! The review queue for staff: list, open, claim, renew, release and decide cases.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use identdesk_domain::AuditEvent;
use identdesk_domain::{CaseKind, DecisionInput, LabelInfo, RejectLabel, Role};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::extract::{ApiJson, ApiQuery, Staff};
use super::AppState;
use crate::error::{Error, ErrorBody, Result};
use crate::store::applicants::{Applicant, Document};
use crate::store::audit::Actor;
use crate::store::cases::{Case, CaseFilter, CasePage, DecideOutcome, Decision};
use crate::store::checks::StoredVerdict;
use crate::store::hit_reviews::{HitResolution, HitReview};

const WORK_CASES: &str = "work the case queue";

#[utoipa::path(get, path = "/api/v1/cases", params(CaseFilter), security(("bearer" = [])),
    responses((status = 200, body = CasePage), (status = 400, description = "INVALID_QUERY", body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    ApiQuery(filter): ApiQuery<CaseFilter>,
) -> Result<Json<CasePage>> {
    staff.require(Role::works_cases, WORK_CASES)?;
    Ok(Json(state.store.list_cases(&staff.user.tenant_id, &filter).await?))
}

/// A case with everything a reviewer needs to decide it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaseDetail {
    pub case: Case,
    pub applicant: Applicant,
    pub documents: Vec<Document>,
    pub decision: Option<Decision>,
    /// For a four-eyes case: the staged decision it checks (and, once escalated, the checker's
    /// decision too). For a QA sample: the decision it re-checks, shown only once the sample is
    /// decided, so that the re-check is blind.
    pub earlier_decisions: Vec<Decision>,
    /// The automated checks' verdict with every result and explanation.
    pub verdict: Option<StoredVerdict>,
    /// What happened to the case, its applicant and their documents, oldest first.
    pub history: Vec<AuditEvent>,
    /// The reviewer's word on each screening hit so far.
    pub hit_reviews: Vec<HitReview>,
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", security(("bearer" = [])),
    responses((status = 200, body = CaseDetail), (status = 404, description = "CASE_NOT_FOUND", body = ErrorBody)))]
pub async fn get_one(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Result<Json<CaseDetail>> {
    staff.require(Role::works_cases, WORK_CASES)?;
    let tenant = &staff.user.tenant_id;
    let case = state.store.case(tenant, &id).await?;
    let documents = state.store.documents(tenant, &case.applicant_id).await?;
    let decision = state.store.decision_for_case(tenant, &id).await?;
    let verdict = state.store.verdict(tenant, &case.applicant_id).await?;
    let mut applicant = state.store.applicant(tenant, &case.applicant_id).await?;
    let blind = case.kind == CaseKind::QaSample && decision.is_none();
    let earlier_decisions = if blind {
        // The sampled decision's answer is what the re-check must not see.
        applicant.review_answer = None;
        applicant.reject_type = None;
        Vec::new()
    } else {
        state.store.earlier_decisions(tenant, &case).await?
    };
    let mut subjects = vec![format!("case:{id}"), format!("applicant:{}", case.applicant_id)];
    subjects.extend(documents.iter().map(|d| format!("document:{}", d.id)));
    subjects.extend(earlier_decisions.iter().map(|d| format!("case:{}", d.case_id)));
    let history = state.store.subject_events(tenant, &subjects, 200).await?;
    // Opening a case shows personal data: that is audited.
    state
        .store
        .record(
            tenant,
            &Actor::User(staff.user.id.clone()),
            "case.viewed",
            &format!("case:{id}"),
            json!({"applicantId": case.applicant_id}),
        )
        .await?;
    let hit_reviews = state.store.hit_reviews(tenant, &id).await?;
    Ok(Json(CaseDetail { case, applicant, documents, decision, earlier_decisions, verdict, history, hit_reviews }))
}

#[utoipa::path(get, path = "/api/v1/documents/{id}/content", security(("bearer" = [])),
    responses((status = 200, description = "The image bytes", content_type = "image/png"), (status = 404, body = ErrorBody)))]
pub async fn document_content(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Result<Response> {
    staff.require(Role::works_cases, WORK_CASES)?;
    let doc = state.store.document(&staff.user.tenant_id, &id).await?;
    let bytes = state.media.get(&doc.storage_key).await?;
    state
        .store
        .record(
            &staff.user.tenant_id,
            &Actor::User(staff.user.id.clone()),
            "document.viewed",
            &format!("document:{id}"),
            json!({}),
        )
        .await?;
    let content_type = HeaderValue::from_str(&doc.content_type).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(([(axum::http::header::CONTENT_TYPE, content_type)], bytes).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClaimQuery {
    /// Only this kind; otherwise any kind the caller's role takes.
    pub kind: Option<CaseKind>,
}

#[utoipa::path(post, path = "/api/v1/cases/claim", params(ClaimQuery), security(("bearer" = [])),
    responses((status = 200, description = "The case is yours until the lease ends", body = Case),
        (status = 204, description = "Nothing to claim"), (status = 403, body = ErrorBody)))]
pub async fn claim(State(state): State<AppState>, staff: Staff, ApiQuery(q): ApiQuery<ClaimQuery>) -> Result<Response> {
    staff.require(Role::works_cases, WORK_CASES)?;
    let allowed = staff.user.role.claimable_kinds();
    let kinds: Vec<CaseKind> = match q.kind {
        Some(k) if allowed.contains(&k) => vec![k],
        Some(k) => return Err(Error::Forbidden(format!("the {} role does not take {k} cases", staff.user.role))),
        None => allowed.to_vec(),
    };
    match state.store.claim_next(&staff.user, &kinds, state.limits.lease_ms).await? {
        Some(case) => {
            state.announce(&case.tenant_id, case.change_seq);
            Ok(Json(case).into_response())
        }
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/renew", security(("bearer" = [])),
    responses((status = 200, body = Case), (status = 409, description = "LEASE_NOT_HELD, LEASE_EXPIRED", body = ErrorBody)))]
pub async fn renew(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Result<Json<Case>> {
    staff.require(Role::works_cases, WORK_CASES)?;
    let case = state.store.renew_lease(&staff.user, &id, state.limits.lease_ms).await?;
    state.announce(&case.tenant_id, case.change_seq);
    Ok(Json(case))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/release", security(("bearer" = [])),
    responses((status = 200, body = Case), (status = 409, description = "LEASE_NOT_HELD", body = ErrorBody)))]
pub async fn release(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Result<Json<Case>> {
    staff.require(Role::works_cases, WORK_CASES)?;
    let supervisor = staff.user.role == Role::Supervisor;
    let case = state.store.release(&staff.user, &id, supervisor).await?;
    state.announce(&case.tenant_id, case.change_seq);
    Ok(Json(case))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Assignment {
    pub user_id: String,
}

/// A supervisor hands a case to a reviewer (or takes it back from one).
#[utoipa::path(post, path = "/api/v1/cases/{id}/assign", request_body = Assignment, security(("bearer" = [])),
    responses((status = 200, body = Case), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "CASE_ALREADY_DECIDED, INVALID_STATE: the user does not work this kind", body = ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    ApiJson(to): ApiJson<Assignment>,
) -> Result<Json<Case>> {
    staff.require(|r| r == Role::Supervisor, "assign cases")?;
    let case = state.store.assign(&staff.user, &id, &to.user_id, state.limits.lease_ms).await?;
    state.announce(&case.tenant_id, case.change_seq);
    Ok(Json(case))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HitWord {
    /// The hit's list entry, as the screening result names it.
    pub entity_id: String,
    pub resolution: HitResolution,
    /// Why: "date of birth differs by 20 years", "same passport number".
    pub note: Option<String>,
}

/// The holder of a case confirms or dismisses one of its screening hits.
#[utoipa::path(post, path = "/api/v1/cases/{id}/hits", request_body = HitWord, security(("bearer" = [])),
    responses((status = 200, body = [HitReview]),
        (status = 404, description = "CASE_NOT_FOUND, NOT_FOUND: no such hit", body = ErrorBody),
        (status = 409, description = "LEASE_NOT_HELD, LEASE_EXPIRED, CASE_ALREADY_DECIDED", body = ErrorBody)))]
pub async fn review_hit(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    ApiJson(word): ApiJson<HitWord>,
) -> Result<Json<Vec<HitReview>>> {
    staff.require(Role::works_cases, WORK_CASES)?;
    if word.note.as_ref().is_some_and(|n| n.len() > 2000) {
        return Err(Error::InvalidBody("the note is limited to 2,000 characters".into()));
    }
    let reviews =
        state.store.review_hit(&staff.user, &id, &word.entity_id, word.resolution, word.note.as_deref()).await?;
    Ok(Json(reviews))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/decision", request_body = DecisionInput, security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Unique per decision; a replay returns the first answer")),
    responses((status = 201, body = Decision),
        (status = 409, description = "LEASE_NOT_HELD, LEASE_EXPIRED, VERSION_CONFLICT, CASE_ALREADY_DECIDED", body = ErrorBody),
        (status = 422, description = "INVALID_DECISION, IDEMPOTENCY_KEY_REUSED, SCREENING_HITS_OPEN, SCREENING_HIT_CONFIRMED", body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<Response> {
    staff.require(Role::works_cases, WORK_CASES)?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or(Error::IdempotencyKeyRequired)?;
    if key.len() > 200 {
        return Err(Error::InvalidBody("the Idempotency-Key header is limited to 200 characters".into()));
    }
    if state.store.case(&staff.user.tenant_id, &id).await?.kind == CaseKind::VideoIdent {
        return Err(Error::InvalidState(
            "a video identification is decided from its interview: finish or abort the call".into(),
        ));
    }
    match state.store.decide(&staff.user, &id, key, &input).await? {
        DecideOutcome::Decided(decision) => {
            state.announce(&staff.user.tenant_id, decision.change_seq);
            Ok((StatusCode::CREATED, Json(decision)).into_response())
        }
        DecideOutcome::Replayed(decision) => {
            Ok((StatusCode::CREATED, [("idempotent-replayed", "true")], Json(decision)).into_response())
        }
    }
}

#[utoipa::path(get, path = "/api/v1/labels", security(("bearer" = [])),
    responses((status = 200, body = [LabelInfo])))]
pub async fn labels(_staff: Staff) -> Json<Vec<LabelInfo>> {
    Json(RejectLabel::ALL.iter().map(|l| l.info()).collect())
}
