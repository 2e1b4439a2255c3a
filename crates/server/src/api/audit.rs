//! The audit trail for supervisors: read the tenant's events, verify the chain, export it for
//! verification elsewhere.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use identdesk_domain::{AuditEvent, Role};
use serde::Deserialize;
use serde_json::json;

use super::extract::{ApiQuery, Staff};
use super::AppState;
use crate::error::{ErrorBody, Result};
use crate::store::audit::{Actor, ChainReport};

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Events after this sequence number; 0 from the start.
    pub after: Option<i64>,
    /// At most 1000; 200 when absent.
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = [AuditEvent]), (status = 403, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    staff: Staff,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEvent>>> {
    staff.require(Role::audits, "read the audit trail")?;
    let limit = q.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(crate::error::Error::InvalidQuery("limit must be 1 to 1000".into()));
    }
    Ok(Json(state.store.audit_events(&staff.user.tenant_id, q.after.unwrap_or(0), limit).await?))
}

#[utoipa::path(get, path = "/api/v1/audit/verify", security(("bearer" = [])),
    responses((status = 200, description = "Every event verifies", body = ChainReport),
        (status = 409, description = "AUDIT_CHAIN_BROKEN: `seq` names the first broken event", body = ErrorBody)))]
pub async fn verify(State(state): State<AppState>, staff: Staff) -> Result<Json<ChainReport>> {
    staff.require(Role::audits, "verify the audit trail")?;
    Ok(Json(state.store.verify_chain(&staff.user.tenant_id).await?))
}

#[utoipa::path(get, path = "/api/v1/audit/export", security(("bearer" = [])),
    responses((status = 200, description = "The tenant's chain as JSON lines: first the head \
        (`tenantId`, `headSeq`, `headHash`, `hashRule`), then every event in order; \
        `scripts/verify-audit-export.py` re-verifies it without IdentDesk", content_type = "application/x-ndjson"),
        (status = 403, body = ErrorBody)))]
pub async fn export(State(state): State<AppState>, staff: Staff) -> Result<impl IntoResponse> {
    staff.require(Role::audits, "export the audit trail")?;
    let tenant = &staff.user.tenant_id;
    // The export is itself an event, inside the chain it exports.
    state
        .store
        .record(tenant, &Actor::User(staff.user.id.clone()), "audit.exported", &format!("tenant:{tenant}"), json!({}))
        .await?;
    let (head_seq, head_hash, events) = state.store.audit_chain(tenant).await?;
    let mut body = json!({
        "tenantId": tenant,
        "headSeq": head_seq,
        "headHash": head_hash,
        "exportedAtMs": crate::store::now_ms(),
        "hashRule": "hash = hex(sha256(prev_hash + compact JSON {tenant_id, seq, at_ms, actor, action, subject, detail}, \
                     in that order, UTF-8 unescaped)); the first prev_hash is 64 zeros",
    })
    .to_string();
    body.push('\n');
    for event in &events {
        body.push_str(&serde_json::to_string(event).expect("events serialise"));
        body.push('\n');
    }
    Ok(([(axum::http::header::CONTENT_TYPE, "application/x-ndjson")], body))
}
