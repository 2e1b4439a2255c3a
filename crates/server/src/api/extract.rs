//! Extractors that turn every malformed request into the API's `{code, message}` errors, and
//! that identify the caller: staff by bearer token, client systems by API key.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use identdesk_domain::Role;
use serde::de::DeserializeOwned;

use super::AppState;
use crate::error::{Error, Result};
use crate::store::accounts::{ClientKey, StaffUser};

/// A JSON body; a malformed one is `INVALID_BODY`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(Error::UnsupportedMediaType("send the body as JSON with Content-Type: application/json".into()))
            }
            Err(JsonRejection::BytesRejection(r)) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(Error::PayloadTooLarge { limit: 256 * 1024 })
            }
            Err(other) => Err(Error::InvalidBody(other.body_text())),
        }
    }
}

/// Query parameters; malformed ones are `INVALID_QUERY`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e: QueryRejection| Error::InvalidQuery(e.body_text()))
    }
}

/// A signed-in staff member.
pub struct Staff {
    pub user: StaffUser,
    pub token: String,
}

impl Staff {
    /// Refuses the request unless the user's role passes `allowed`.
    pub fn require(&self, allowed: fn(Role) -> bool, what: &str) -> Result<()> {
        if allowed(self.user.role) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("the {} role may not {what}", self.user.role)))
        }
    }
}

pub(super) fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = bearer(parts).ok_or(Error::Unauthenticated)?.to_owned();
        let user = state.store.session_user(&token).await?;
        state.check_residency(&user.tenant_id).await?;
        Ok(Staff { user, token })
    }
}

/// A client system calling with its `X-Api-Key`.
pub struct Client(pub ClientKey);

impl FromRequestParts<AppState> for Client {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let key = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()).ok_or(Error::Unauthenticated)?;
        let client = state.store.api_key_client(key.trim()).await?;
        state.check_residency(&client.tenant_id).await?;
        Ok(Client(client))
    }
}

/// A client system's call about one of its applicants (`{id}` in the path): the applicant must
/// be the client's tenant's and of the key's environment, so sandbox and production never mix.
pub struct ClientApplicant {
    pub client: ClientKey,
    pub id: String,
    pub applicant: crate::store::applicants::Applicant,
}

impl FromRequestParts<AppState> for ClientApplicant {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let Client(client) = Client::from_request_parts(parts, state).await?;
        let axum::extract::Path(id) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::NotFound("applicant"))?;
        let applicant = state.store.applicant(&client.tenant_id, &id).await?;
        if applicant.environment != client.environment {
            // The other environment's applicants do not exist for this key.
            return Err(Error::NotFound("applicant"));
        }
        Ok(ClientApplicant { client, id, applicant })
    }
}
