//! What supervisors read besides the audit trail: the decision log (also as CSV) and the
//! reviewers' statistics over a period.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use identdesk_domain::Role;
use serde::Deserialize;
use serde_json::json;

use super::extract::{ApiQuery, Staff};
use super::AppState;
use crate::error::{Error, ErrorBody, Result};
use crate::store::audit::Actor;
use crate::store::decision_log::{DecisionFilter, DecisionPage, ReviewerStats};
use crate::store::now_ms;
use crate::store::qa::QaAgreement;

const READ_DECISIONS: &str = "read the decision log";

#[utoipa::path(get, path = "/api/v1/decisions", params(DecisionFilter), security(("bearer" = [])),
    responses((status = 200, body = DecisionPage), (status = 403, body = ErrorBody)))]
pub async fn log(
    State(state): State<AppState>,
    staff: Staff,
    ApiQuery(filter): ApiQuery<DecisionFilter>,
) -> Result<Json<DecisionPage>> {
    staff.require(Role::audits, READ_DECISIONS)?;
    Ok(Json(state.store.decision_log(&staff.user.tenant_id, &filter).await?))
}

/// The log as CSV, every page: one line per decision, newest first. The export is audited.
#[utoipa::path(get, path = "/api/v1/decisions/export.csv", params(DecisionFilter), security(("bearer" = [])),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 403, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    staff: Staff,
    ApiQuery(mut filter): ApiQuery<DecisionFilter>,
) -> Result<impl IntoResponse> {
    staff.require(Role::audits, READ_DECISIONS)?;
    let tenant = &staff.user.tenant_id;
    let mut csv = String::from("decidedAt,decisionId,caseId,applicantId,reviewerId,answer,rejectType,labels\n");
    let (mut offset, mut rows) = (0, 0);
    loop {
        filter.limit = Some(1000);
        filter.offset = Some(offset);
        let page = state.store.decision_log(tenant, &filter).await?;
        for d in &page.items {
            let labels: Vec<&str> = d.labels.iter().map(|l| l.as_str()).collect();
            let fields = [
                d.decided_at_ms.to_string(),
                d.id.clone(),
                d.case_id.clone(),
                d.applicant_id.clone(),
                d.reviewer_id.clone(),
                d.answer.as_str().to_owned(),
                d.reject_type.map(|t| t.as_str().to_owned()).unwrap_or_default(),
                labels.join(";"),
            ];
            csv.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
            csv.push('\n');
        }
        rows += page.items.len();
        offset += 1000;
        if page.items.len() < 1000 {
            break;
        }
    }
    state
        .store
        .record(tenant, &Actor::User(staff.user.id.clone()), "decisions.exported", "decisions", json!({"rows": rows}))
        .await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv))
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// From (ms since the epoch); 7 days ago when absent.
    pub from_ms: Option<i64>,
    /// Until (ms since the epoch, exclusive); now when absent.
    pub to_ms: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/stats/reviewers", params(Period), security(("bearer" = [])),
    responses((status = 200, body = [ReviewerStats]), (status = 403, body = ErrorBody)))]
pub async fn reviewer_stats(
    State(state): State<AppState>,
    staff: Staff,
    ApiQuery(period): ApiQuery<Period>,
) -> Result<Json<Vec<ReviewerStats>>> {
    staff.require(Role::audits, "read reviewer statistics")?;
    let to = period.to_ms.unwrap_or_else(now_ms);
    let from = period.from_ms.unwrap_or(to - 7 * 86_400_000);
    if from >= to {
        return Err(Error::InvalidQuery("fromMs must be before toMs".into()));
    }
    Ok(Json(state.store.reviewer_stats(&staff.user.tenant_id, from, to).await?))
}

/// How often blind QA re-checks agree with the decisions they sample, per reviewer and label.
#[utoipa::path(get, path = "/api/v1/stats/qa", params(Period), security(("bearer" = [])),
    responses((status = 200, body = QaAgreement), (status = 403, body = ErrorBody)))]
pub async fn qa_agreement(
    State(state): State<AppState>,
    staff: Staff,
    ApiQuery(period): ApiQuery<Period>,
) -> Result<Json<QaAgreement>> {
    staff.require(Role::audits, "read QA figures")?;
    let to = period.to_ms.unwrap_or_else(now_ms);
    let from = period.from_ms.unwrap_or(to - 7 * 86_400_000);
    if from >= to {
        return Err(Error::InvalidQuery("fromMs must be before toMs".into()));
    }
    Ok(Json(state.store.qa_agreement(&staff.user.tenant_id, from, to).await?))
}
