//! The admin's webhook endpoints and the tenant's delivery log, with manual resend.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use identdesk_domain::Role;
use serde::{Deserialize, Serialize};

use super::extract::{ApiJson, ApiQuery, Staff};
use super::AppState;
use crate::error::{ErrorBody, Result};
use crate::store::webhooks::{WebhookDelivery, WebhookEndpoint};

const MANAGE: &str = "manage webhooks";

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewEndpoint {
    /// Where the client system receives webhooks (http or https).
    pub url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedEndpoint {
    pub endpoint: WebhookEndpoint,
    /// Shown once: the receiver checks `X-Payload-Digest` = hex HMAC-SHA256 of the body with it.
    pub secret: String,
}

#[utoipa::path(post, path = "/api/v1/webhooks", request_body = NewEndpoint, security(("bearer" = [])),
    responses((status = 201, body = CreatedEndpoint), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn add_endpoint(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(new): ApiJson<NewEndpoint>,
) -> Result<(StatusCode, Json<CreatedEndpoint>)> {
    staff.require(Role::administers, MANAGE)?;
    let (endpoint, secret) = state.store.add_webhook_endpoint(&staff.user, &new.url).await?;
    Ok((StatusCode::CREATED, Json(CreatedEndpoint { endpoint, secret })))
}

#[utoipa::path(get, path = "/api/v1/webhooks", security(("bearer" = [])),
    responses((status = 200, body = [WebhookEndpoint]), (status = 403, body = ErrorBody)))]
pub async fn endpoints(State(state): State<AppState>, staff: Staff) -> Result<Json<Vec<WebhookEndpoint>>> {
    staff.require(Role::administers, MANAGE)?;
    Ok(Json(state.store.webhook_endpoints(&staff.user.tenant_id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryQuery {
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/webhooks/deliveries", params(DeliveryQuery), security(("bearer" = [])),
    responses((status = 200, body = [WebhookDelivery]), (status = 403, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    staff: Staff,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> Result<Json<Vec<WebhookDelivery>>> {
    staff.require(Role::audits, "read the webhook delivery log")?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(state.store.webhook_deliveries(&staff.user.tenant_id, limit).await?))
}

#[utoipa::path(post, path = "/api/v1/webhooks/deliveries/{id}/resend", security(("bearer" = [])),
    responses((status = 201, body = WebhookDelivery), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn resend(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<WebhookDelivery>)> {
    staff.require(Role::administers, MANAGE)?;
    Ok((StatusCode::CREATED, Json(state.store.resend_webhook(&staff.user, &id).await?)))
}
