//! Staff sign-in and sign-out.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::extract::{ApiJson, Staff};
use super::AppState;
use crate::error::{ErrorBody, Result};
use crate::store::accounts::StaffUser;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at_ms: i64,
    pub user: StaffUser,
}

#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, description = "INVALID_CREDENTIALS", body = ErrorBody)))]
pub async fn login(State(state): State<AppState>, ApiJson(req): ApiJson<LoginRequest>) -> Result<Json<LoginResponse>> {
    let (token, expires_at_ms, user) = state.store.login(&req.email, &req.password).await?;
    Ok(Json(LoginResponse { token: token.0, expires_at_ms, user }))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", security(("bearer" = [])),
    responses((status = 204, description = "The token no longer works"), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, staff: Staff) -> Result<StatusCode> {
    state.store.logout(&staff.token, &staff.user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/auth/me", security(("bearer" = [])),
    responses((status = 200, body = StaffUser), (status = 401, body = ErrorBody)))]
pub async fn me(staff: Staff) -> Json<StaffUser> {
    Json(staff.user)
}
