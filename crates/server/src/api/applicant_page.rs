//! The applicant's side of video identification, served outside the staff API: the page at
//! `/v/{token}`, its session state, consent, the signalling socket with the waiting room, and
//! TAN entry. The link token identifies the session; after consent, a secret handed to that
//! browser is needed too, so a link works for one person only.

use std::net::SocketAddr;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use identdesk_domain::video::CONSENT_TEXT_VERSION;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::extract::{ApiJson, ApiQuery};
use super::AppState;
use crate::error::{Error, Result};
use crate::store::video::{SessionState, VideoSession};
use crate::video::Side;

const PAGE: &str = include_str!("../../assets/applicant.html");

pub const CONSENT_TEXT: &str =
    "I agree that this video call, including sound and pictures of me and my identity document, \
is recorded and stored to verify my identity, and kept as long as anti-money-laundering law requires.";

pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

fn secret(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-applicant-secret").and_then(|v| v.to_str().ok())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicantView {
    state: SessionState,
    consent_text: &'static str,
    consent_text_version: &'static str,
    position: Option<i64>,
}

async fn view(state: &AppState, session: &VideoSession) -> Result<ApplicantView> {
    let position = match session.state {
        SessionState::Waiting => Some(state.store.waiting_position(session).await?),
        _ => None,
    };
    Ok(ApplicantView {
        state: session.state,
        consent_text: CONSENT_TEXT,
        consent_text_version: CONSENT_TEXT_VERSION,
        position,
    })
}

pub async fn session(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ApplicantView>> {
    let session = state.store.video_session_by_link(&token, secret(&headers)).await?;
    Ok(Json(view(&state, &session).await?))
}

/// The caller's address: the proxy's `X-Forwarded-For` when present, else the socket's.
pub struct ClientAddress(String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned());
        let socket = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(ClientAddress(forwarded.or(socket).unwrap_or_else(|| "unknown".into())))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentRequest {
    text_version: String,
    accepted: bool,
}

pub async fn consent(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ClientAddress(ip): ClientAddress,
    ApiJson(body): ApiJson<ConsentRequest>,
) -> Result<Response> {
    if !body.accepted {
        return Err(Error::InvalidBody("the call can only start with consent to the recording".into()));
    }
    let (session, secret) = state.store.consent_video(&token, &body.text_version, &ip).await?;
    state.announce(&session.tenant_id, state.store.head_seq(&session.tenant_id).await?);
    let mut answer = serde_json::to_value(view(&state, &session).await?).expect("view serialises");
    answer["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct SocketQuery {
    secret: Option<String>,
}

pub async fn socket(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiQuery(q): ApiQuery<SocketQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response> {
    let session = state.store.video_session_by_link(&token, Some(q.secret.as_deref().unwrap_or(""))).await?;
    if !matches!(session.state, SessionState::Waiting | SessionState::InCall) {
        return Err(Error::SessionEnded);
    }
    let id = session.id.clone();
    let waiting_state = state.clone();
    Ok(ws.on_upgrade(move |socket| async move {
        // Tell the waiting room its position until the operator arrives.
        let rooms_state = waiting_state.clone();
        let session_id = id.clone();
        let ticker = tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
            loop {
                tick.tick().await;
                let Ok(s) = rooms_state.store.video_session_by_id(&session_id).await else { break };
                if s.state != SessionState::Waiting {
                    break;
                }
                if let Ok(position) = rooms_state.store.waiting_position(&s).await {
                    rooms_state.video.rooms.send(
                        &session_id,
                        Side::Applicant,
                        json!({"type": "waiting", "position": position}).to_string(),
                    );
                }
            }
        });
        joined(&waiting_state, &id).await;
        // On leaving, `relay` takes the case out of the queue or ends the call.
        super::video::relay(waiting_state, id, Side::Applicant, socket).await;
        ticker.abort();
    }))
}

/// A waiting applicant's page connected: their case joins the video queue.
async fn joined(state: &AppState, session_id: &str) {
    let Ok(session) = state.store.video_session_by_id(session_id).await else { return };
    if session.state != SessionState::Waiting {
        return;
    }
    match state.store.video_queue_presence(&session, true).await {
        Ok(Some(seq)) => state.announce(&session.tenant_id, seq),
        Ok(None) => {}
        Err(e) => tracing::warn!(session = %session_id, error = %e, "waiting room presence not recorded"),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TanRequest {
    tan: String,
}

pub async fn tan(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TanRequest>,
) -> Result<Json<serde_json::Value>> {
    let session = state.store.video_session_by_link(&token, Some(secret(&headers).unwrap_or(""))).await?;
    let tan = body.tan.trim();
    if tan.len() != 6 || !tan.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::InvalidBody("the TAN has six digits".into()));
    }
    let session = state.store.verify_tan(&session, tan).await?;
    state.video.rooms.send(&session.id, Side::Operator, json!({"type": "tan-confirmed"}).to_string());
    Ok(Json(json!({"confirmed": true})))
}
