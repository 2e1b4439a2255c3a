//! The admin's calls: the tenant's users and API keys. Supervisors may list users (to filter
//! and reassign cases); only admins change anything.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use identdesk_domain::{ApiPermission, Environment, ReviewPolicy, Role};
use serde::{Deserialize, Serialize};

use super::extract::{ApiJson, Staff};
use super::AppState;
use crate::error::{ErrorBody, Result};
use crate::store::administration::{ApiKeyInfo, UserAccount};
use crate::store::audit::Actor;

const MANAGE: &str = "manage users and API keys";

#[utoipa::path(get, path = "/api/v1/users", security(("bearer" = [])),
    responses((status = 200, body = [UserAccount]), (status = 403, body = ErrorBody)))]
pub async fn users(State(state): State<AppState>, staff: Staff) -> Result<Json<Vec<UserAccount>>> {
    staff.require(Role::audits, "list the tenant's users")?;
    Ok(Json(state.store.user_accounts(&staff.user.tenant_id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub role: Role,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedUser {
    pub user: UserAccount,
    /// Shown once: hand it to the user, who signs in with it.
    pub password: String,
}

#[utoipa::path(post, path = "/api/v1/users", request_body = NewUser, security(("bearer" = [])),
    responses((status = 201, body = CreatedUser), (status = 403, body = ErrorBody),
        (status = 409, description = "ALREADY_EXISTS", body = ErrorBody)))]
pub async fn add_user(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<CreatedUser>)> {
    staff.require(Role::administers, MANAGE)?;
    let (user, password) = state.store.add_user(&staff.user, &new.email, new.role).await?;
    Ok((StatusCode::CREATED, Json(CreatedUser { user, password: password.0 })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleChange {
    pub role: Role,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/role", request_body = RoleChange, security(("bearer" = [])),
    responses((status = 200, body = UserAccount), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "INVALID_STATE: your own role", body = ErrorBody)))]
pub async fn set_role(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<RoleChange>,
) -> Result<Json<UserAccount>> {
    staff.require(Role::administers, MANAGE)?;
    Ok(Json(state.store.set_role(&staff.user, &id, change.role).await?))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/disable", security(("bearer" = [])),
    responses((status = 200, body = UserAccount), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "INVALID_STATE: your own account", body = ErrorBody)))]
pub async fn disable_user(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<UserAccount>> {
    staff.require(Role::administers, MANAGE)?;
    Ok(Json(state.store.disable_user(&staff.user, &id).await?))
}

#[utoipa::path(get, path = "/api/v1/api-keys", security(("bearer" = [])),
    responses((status = 200, body = [ApiKeyInfo]), (status = 403, body = ErrorBody)))]
pub async fn api_keys(State(state): State<AppState>, staff: Staff) -> Result<Json<Vec<ApiKeyInfo>>> {
    staff.require(Role::administers, MANAGE)?;
    Ok(Json(state.store.api_keys(&staff.user.tenant_id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewApiKey {
    pub environment: Environment,
    /// What the key may do; every permission when absent.
    #[serde(default)]
    pub permissions: Option<Vec<ApiPermission>>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKey {
    pub id: String,
    /// Shown once: the client system sends it as `X-Api-Key`.
    pub key: String,
}

#[utoipa::path(post, path = "/api/v1/api-keys", request_body = NewApiKey, security(("bearer" = [])),
    responses((status = 201, body = CreatedApiKey), (status = 403, body = ErrorBody)))]
pub async fn create_api_key(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(new): ApiJson<NewApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>)> {
    staff.require(Role::administers, MANAGE)?;
    let actor = crate::store::audit::Actor::User(staff.user.id.clone());
    let permissions = new.permissions.as_deref().unwrap_or(ApiPermission::ALL);
    let (id, key) = state.store.create_api_key_by(&staff.user.tenant_id, new.environment, permissions, &actor).await?;
    Ok((StatusCode::CREATED, Json(CreatedApiKey { id, key: key.0 })))
}

#[utoipa::path(post, path = "/api/v1/api-keys/{id}/revoke", security(("bearer" = [])),
    responses((status = 200, body = ApiKeyInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<ApiKeyInfo>> {
    staff.require(Role::administers, MANAGE)?;
    Ok(Json(state.store.revoke_api_key(&staff.user, &id).await?))
}

/// The tenant's rules for second looks: which decisions need four eyes, how many are re-checked.
#[utoipa::path(get, path = "/api/v1/review-policy", security(("bearer" = [])),
    responses((status = 200, body = ReviewPolicy), (status = 403, body = ErrorBody)))]
pub async fn review_policy(State(state): State<AppState>, staff: Staff) -> Result<Json<ReviewPolicy>> {
    staff.require(Role::audits, "read the review policy")?;
    Ok(Json(state.store.review_policy(&staff.user.tenant_id).await?))
}

#[utoipa::path(put, path = "/api/v1/review-policy", request_body = ReviewPolicy, security(("bearer" = [])),
    responses((status = 200, body = ReviewPolicy), (status = 400, description = "INVALID_BODY", body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn set_review_policy(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(policy): ApiJson<ReviewPolicy>,
) -> Result<Json<ReviewPolicy>> {
    staff.require(Role::administers, "change the review policy")?;
    let actor = Actor::User(staff.user.id.clone());
    state.store.set_review_policy(&staff.user.tenant_id, &policy, &actor).await?;
    Ok(Json(policy))
}
