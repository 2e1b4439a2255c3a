//! The audit trail for supervisors: read the tenant's events, verify the chain.

use axum::extract::State;
use axum::Json;
use identdesk_domain::{AuditEvent, Role};
use serde::Deserialize;

use super::extract::{ApiQuery, Staff};
use super::AppState;
use crate::error::{ErrorBody, Result};
use crate::store::audit::ChainReport;

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
