//! The change feed that consoles sync from, and the push channel that tells them when to pull.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::Response;
use axum::Json;
use identdesk_domain::Role;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::extract::{bearer, ApiQuery, Staff};
use super::AppState;
use crate::error::{Error, ErrorBody, Result};
use crate::store::cases::ChangePage;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// The `nextCursor` of the previous page; 0 for everything.
    pub cursor: Option<i64>,
    /// At most 1000; 200 when absent.
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/sync", params(SyncQuery), security(("bearer" = [])),
    responses((status = 200, body = ChangePage), (status = 400, description = "INVALID_QUERY", body = ErrorBody)))]
pub async fn changes(
    State(state): State<AppState>,
    staff: Staff,
    ApiQuery(q): ApiQuery<SyncQuery>,
) -> Result<Json<ChangePage>> {
    staff.require(Role::works_cases, "sync the case queue")?;
    Ok(Json(state.store.changes(&staff.user.tenant_id, q.cursor.unwrap_or(0), q.limit.unwrap_or(200)).await?))
}

#[derive(Deserialize)]
pub struct EventsQuery {
    /// Browsers cannot set headers on a WebSocket: they may pass the token here.
    token: Option<String>,
}

/// Sends `{"cursor": N}` on connect and whenever the tenant's feed moves; the console then
/// pulls `/sync` from its own cursor. Under load several moves arrive as one.
#[utoipa::path(get, path = "/api/v1/events", security(("bearer" = [])),
    responses((status = 101, description = "WebSocket of {\"cursor\": N} messages"), (status = 401, body = ErrorBody)))]
pub async fn events(State(state): State<AppState>, parts: EventsToken, ws: WebSocketUpgrade) -> Result<Response> {
    let token = parts.0.ok_or(Error::Unauthenticated)?;
    let user = state.store.session_user(&token).await?;
    if !user.role.works_cases() {
        return Err(Error::Forbidden(format!("the {} role may not sync the case queue", user.role)));
    }
    let cursor = state.store.head_seq(&user.tenant_id).await?;
    let mut moves = state.feed.subscribe();
    Ok(ws.on_upgrade(move |mut socket: WebSocket| async move {
        let mut last = cursor;
        if send_cursor(&mut socket, last).await.is_err() {
            return;
        }
        loop {
            tokio::select! {
                moved = moves.recv() => match moved {
                    Ok(m) if m.tenant_id == user.tenant_id && m.cursor > last => {
                        last = m.cursor;
                        if send_cursor(&mut socket, last).await.is_err() { return; }
                    }
                    Ok(_) => {}
                    // Missed some moves: the newest cursor is in the store.
                    Err(RecvError::Lagged(_)) => {
                        if let Ok(now) = state.store.head_seq(&user.tenant_id).await {
                            last = last.max(now);
                            if send_cursor(&mut socket, last).await.is_err() { return; }
                        }
                    }
                    Err(RecvError::Closed) => return,
                },
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                },
            }
        }
    }))
}

async fn send_cursor(socket: &mut WebSocket, cursor: i64) -> std::result::Result<(), axum::Error> {
    socket.send(Message::Text(format!("{{\"cursor\":{cursor}}}").into())).await
}

/// The token from the `Authorization` header or, for browsers, the `token` query parameter.
pub struct EventsToken(Option<String>);

impl EventsToken {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl FromRequestParts<AppState> for EventsToken {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        if let Some(t) = bearer(parts) {
            return Ok(EventsToken(Some(t.to_owned())));
        }
        let ApiQuery(q) = ApiQuery::<EventsQuery>::from_request_parts(parts, state).await?;
        Ok(EventsToken(q.token))
    }
}
