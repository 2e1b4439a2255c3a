//! The operator's side of video identification: invitations, taking the next waiting applicant
//! (at random, never chosen), the signalling socket, screenshots, the read-out check, the TAN,
//! finishing or aborting (which decides the case), the recording, and evidence for supervisors.

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use identdesk_domain::{
    AbortReason, Answer, ApiPermission, CaseKind, DecisionInput, Interview, InterviewStep, RejectType, Role,
    ScreenshotTag, SecurityFeature,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::extract::{ApiJson, ApiQuery, ClientApplicant, Staff};
use super::sync::EventsToken;
use super::AppState;
use crate::error::{Error, ErrorBody, Result};
use crate::media::inspect_image;
use crate::store::accounts::{sha256_hex, StaffUser};
use crate::store::audit::Actor;
use crate::store::cases::{Case, DecideOutcome};
use crate::store::video::{Evidence, NewEvidence, SessionState, VideoSession};
use crate::video::{new_tan, Side};

fn runs_calls(role: Role) -> bool {
    matches!(role, Role::VideoOperator | Role::Supervisor | Role::Admin)
}

fn sees_evidence(role: Role) -> bool {
    matches!(role, Role::VideoOperator | Role::Supervisor | Role::Admin)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InviteRequest {
    /// The applicant's phone number or e-mail address for the TAN. Kept only while the
    /// session is open.
    pub tan_destination: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub session_id: String,
    /// The applicant's one-time link, relative to the server: `/v/{token}`.
    pub link: String,
}

#[utoipa::path(post, path = "/api/v1/applicants/{id}/video-ident", security(("apiKey" = [])),
    responses((status = 201, body = Invitation), (status = 409, description = "ALREADY_EXISTS, VIDEO_RETRIES_EXHAUSTED", body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    ClientApplicant { client, id, .. }: ClientApplicant,
    ApiJson(body): ApiJson<InviteRequest>,
) -> Result<Response> {
    client.require(ApiPermission::VideoInvite)?;
    let destination = body.tan_destination.trim();
    if destination.is_empty() || destination.len() > 254 {
        return Err(Error::InvalidBody("tanDestination is a phone number or e-mail address".into()));
    }
    let (session, token) = state
        .store
        .create_video_session(
            &client.tenant_id,
            &id,
            destination,
            state.video.max_attempts,
            &Actor::ApiKey(client.key_id.clone()),
        )
        .await?;
    let body = Invitation { session_id: session.id, link: format!("/v/{token}") };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeatureToCheck {
    pub n: u8,
    pub feature: SecurityFeature,
    pub optically_variable: bool,
    pub instruction: &'static str,
}

/// A moment of the interview, for the recording's timeline: what happened (the audit action
/// without `video.`: `call_started`, `screenshot`, `read_out_confirmed`, `tan_sent`,
/// `tan_confirmed`, `completed`, `aborted`) and when.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallMoment {
    pub at_ms: i64,
    pub step: String,
    /// The screenshot's tag, for screenshots.
    pub tag: Option<String>,
}

/// The audit actions that are steps of the interview.
const STEP_ACTIONS: &[&str] = &[
    "video.call_started",
    "video.screenshot",
    "video.read_out_confirmed",
    "video.tan_sent",
    "video.tan_confirmed",
    "video.completed",
    "video.aborted",
];

/// Everything the operator's screen needs for a call.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallView {
    pub session: VideoSession,
    pub case: Case,
    pub next_step: Option<InterviewStep>,
    pub features: Vec<FeatureToCheck>,
    /// What the applicant must read out.
    pub read_out: String,
    #[schema(value_type = Object)]
    pub ice_servers: serde_json::Value,
    pub evidence: Vec<Evidence>,
    /// The interview's steps as the audit trail has them, in order.
    pub timeline: Vec<CallMoment>,
}

async fn call_view(state: &AppState, tenant_id: &str, session: VideoSession) -> Result<CallView> {
    let case_id = session.case_id.clone().ok_or(Error::NotFound("case"))?;
    let case = state.store.case(tenant_id, &case_id).await?;
    let evidence = state.store.evidence_of(tenant_id, &session.id).await?;
    let events = state.store.subject_events(tenant_id, &[format!("video:{}", session.id)], 1000).await?;
    let timeline = events
        .into_iter()
        .filter(|e| STEP_ACTIONS.contains(&e.action.as_str()))
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
            CallMoment {
                at_ms: e.at_ms,
                step: e.action.trim_start_matches("video.").to_owned(),
                tag: detail["tag"].as_str().map(str::to_owned),
            }
        })
        .collect();
    let interview: &Interview = &session.interview;
    let features = interview
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| FeatureToCheck {
            n: i as u8 + 1,
            feature: *f,
            optically_variable: f.optically_variable(),
            instruction: f.instruction(),
        })
        .collect();
    Ok(CallView {
        next_step: interview.next(),
        read_out: interview.read_out.clone(),
        features,
        case,
        session,
        ice_servers: state.video.ice_servers.clone(),
        evidence,
        timeline,
    })
}

#[utoipa::path(post, path = "/api/v1/video/next", security(("bearer" = [])),
    responses((status = 200, body = CallView), (status = 204, description = "nobody is waiting")))]
pub async fn next(State(state): State<AppState>, staff: Staff) -> Result<Response> {
    staff.require(runs_calls, "run video calls")?;
    // Bounded: each round sets one session-less case aside, and a queue of them is not a reason
    // to keep the operator waiting for an answer.
    for _ in 0..20 {
        let Some(case) = state.store.claim_next(&staff.user, &[CaseKind::VideoIdent], state.limits.lease_ms).await?
        else {
            return Ok(StatusCode::NO_CONTENT.into_response());
        };
        state.announce(&case.tenant_id, case.change_seq);
        match state.store.start_video_call(&staff.user, &case.id).await {
            Ok(session) => return Ok(Json(call_view(&state, &staff.user.tenant_id, session).await?).into_response()),
            Err(Error::NotFound("video session")) => {
                if let Some(seq) = state.store.hold_sessionless_case(&staff.user, &case.id).await? {
                    state.announce(&case.tenant_id, seq);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/video", security(("bearer" = [])),
    responses((status = 200, body = CallView), (status = 404, description = "VIDEO_SESSION_NOT_FOUND", body = ErrorBody)))]
pub async fn of_case(
    State(state): State<AppState>,
    staff: Staff,
    Path(case_id): Path<String>,
) -> Result<Json<CallView>> {
    staff.require(sees_evidence, "see video sessions")?;
    let session = state.store.video_session_of_case(&staff.user.tenant_id, &case_id).await?;
    get_one(State(state), staff, Path(session.id)).await
}

#[utoipa::path(get, path = "/api/v1/video/sessions/{id}", security(("bearer" = [])),
    responses((status = 200, body = CallView), (status = 404, body = ErrorBody)))]
pub async fn get_one(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Result<Json<CallView>> {
    staff.require(sees_evidence, "see video sessions")?;
    let session = state.store.video_session(&staff.user.tenant_id, &id).await?;
    state
        .store
        .record(
            &staff.user.tenant_id,
            &Actor::User(staff.user.id.clone()),
            "video.viewed",
            &format!("video:{id}"),
            json!({}),
        )
        .await?;
    Ok(Json(call_view(&state, &staff.user.tenant_id, session).await?))
}

/// The operator's signalling socket: the applicant's offer and candidates arrive here; the
/// answer and candidates go back. Also tells of the TAN and of the applicant leaving.
#[utoipa::path(get, path = "/api/v1/video/sessions/{id}/signal", security(("bearer" = [])),
    responses((status = 101, description = "WebSocket of signalling messages"), (status = 401, body = ErrorBody)))]
pub async fn signal(
    State(state): State<AppState>,
    Path(id): Path<String>,
    token: EventsToken,
    ws: WebSocketUpgrade,
) -> Result<Response> {
    let user = state.store.session_user(token.as_deref().ok_or(Error::Unauthenticated)?).await?;
    let session = state.store.video_session(&user.tenant_id, &id).await?;
    if session.operator_id.as_deref() != Some(user.id.as_str()) {
        return Err(Error::Forbidden("only the operator in the call may join its signalling".into()));
    }
    if session.state.ended() {
        return Err(Error::SessionEnded);
    }
    Ok(ws.on_upgrade(move |socket| relay(state, id, Side::Operator, socket)))
}

/// Relays one side's socket until it closes. Shared by both sides.
pub(super) async fn relay(state: AppState, session_id: String, side: Side, mut socket: WebSocket) {
    let rooms = &state.video.rooms;
    let (member, mut inbox) = rooms.join(&session_id, side);
    // Whoever arrives second starts the call: the applicant makes the offer.
    if rooms.present(&session_id, side.other()) {
        let ready = json!({"type": "operator-ready", "iceServers": state.video.ice_servers}).to_string();
        rooms.send(&session_id, Side::Applicant, ready);
    }
    loop {
        tokio::select! {
            out = inbox.recv() => match out {
                Some(text) => if socket.send(Message::Text(text.into())).await.is_err() { break },
                None => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => match crate::video::relayable(side, &text) {
                    Ok(message) => {
                        if !rooms.send(&session_id, side.other(), message) {
                            let _ = socket.send(Message::Text(json!({"type": "error", "code": "PEER_ABSENT", "message": "the other side is not connected"}).to_string().into())).await;
                        }
                    }
                    Err(why) => {
                        let _ = socket.send(Message::Text(json!({"type": "error", "code": "INVALID_SIGNAL", "message": why}).to_string().into())).await;
                    }
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    rooms.leave(&session_id, side, member);
    if side == Side::Applicant {
        applicant_left(&state, &session_id).await;
    }
}

/// The applicant's socket closed. In the waiting room, their case leaves the queue until they
/// are back. During a call the session ends: the rules ask for an uninterrupted call, so it is
/// aborted as CONNECTION_INTERRUPTED, keeping what was captured.
async fn applicant_left(state: &AppState, session_id: &str) {
    let rooms = &state.video.rooms;
    rooms.send(session_id, Side::Operator, json!({"type": "peer-left"}).to_string());
    let Ok(session) = state.store.video_session_by_id(session_id).await else { return };
    let outcome = match session.state {
        SessionState::Waiting => state.store.video_queue_presence(&session, false).await.map(|seq| {
            if let Some(seq) = seq {
                state.announce(&session.tenant_id, seq);
            }
        }),
        SessionState::InCall => {
            let Some(operator) = session.operator_id.clone() else { return };
            match state.store.staff_user(&session.tenant_id, &operator).await {
                Ok(user) => {
                    end_call(state, &user, &session, Some(AbortReason::ConnectionLost), Actor::System).await.map(|_| ())
                }
                Err(e) => Err(e),
            }
        }
        _ => Ok(()),
    };
    if let Err(e) = outcome {
        tracing::warn!(session = %session_id, error = %e, "the applicant's departure was not recorded");
    }
}

/// Decides the session's case and ends the session; tells both sides.
async fn end_call(
    state: &AppState,
    user: &StaffUser,
    session: &VideoSession,
    reason: Option<AbortReason>,
    actor: Actor,
) -> Result<VideoSession> {
    let case_id = session.case_id.clone().ok_or(Error::NotFound("case"))?;
    let case = state.store.case(&user.tenant_id, &case_id).await?;
    let input = match reason {
        None => DecisionInput {
            answer: Answer::Green,
            reject_type: None,
            labels: vec![],
            moderation_comment: None,
            client_comment: None,
            internal_note: Some("video identification completed".into()),
            reupload: vec![],
            version: case.version,
        },
        Some(r) => DecisionInput {
            answer: Answer::Red,
            reject_type: Some(if r.retry_allowed() { RejectType::Retry } else { RejectType::Final }),
            labels: vec![r.label()],
            moderation_comment: Some(format!("The video identification was ended: {}.", r.as_str().replace('_', " "))),
            client_comment: None,
            internal_note: None,
            reupload: vec![],
            version: case.version,
        },
    };
    let key = format!("video-end:{}", session.id);
    let decision = match state.store.decide(user, &case_id, &key, &input).await? {
        DecideOutcome::Decided(d) | DecideOutcome::Replayed(d) => d,
    };
    state.announce(&user.tenant_id, decision.change_seq);
    let ended = state.store.end_video_session(&user.tenant_id, &session.id, reason, &actor).await?;
    let message =
        json!({"type": "ended", "outcome": if reason.is_some() { "aborted" } else { "completed" }, "reason": reason});
    for side in [Side::Applicant, Side::Operator] {
        state.video.rooms.send(&session.id, side, message.to_string());
    }
    Ok(ended)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ScreenshotQuery {
    /// `id_front`, `id_back`, `face` or `security_feature_N`.
    pub tag: String,
    /// When the frame was captured (ms since the epoch).
    pub captured_at_ms: i64,
}

#[utoipa::path(post, path = "/api/v1/video/sessions/{id}/screenshots", security(("bearer" = [])), params(ScreenshotQuery),
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 201, body = Evidence), (status = 409, description = "NO_CONSENT, INTERVIEW_OUT_OF_ORDER, SESSION_ENDED", body = ErrorBody),
              (status = 422, description = "NOT_AN_IMAGE, HASH_MISMATCH", body = ErrorBody)))]
pub async fn screenshot(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ScreenshotQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    staff.require(runs_calls, "take screenshots")?;
    let tag: ScreenshotTag = q.tag.parse()?;
    let facts = inspect_image(&body)?;
    if facts.content_type != "image/png" {
        return Err(Error::UnsupportedMediaType("screenshots are lossless: send a PNG".into()));
    }
    let sha256 = sha256_hex(&body);
    if let Some(claimed) = headers.get("x-content-sha256").and_then(|v| v.to_str().ok()) {
        if !claimed.eq_ignore_ascii_case(&sha256) {
            return Err(Error::InvalidBody(format!(
                "the screenshot's SHA-256 is {sha256}, not {claimed}: it changed on the way"
            )));
        }
    }
    let session = state.store.video_session(&staff.user.tenant_id, &id).await?;
    // Check the step before writing the file, so a refused capture leaves nothing behind.
    let mut probe = session.interview.clone();
    probe.capture(tag)?;
    let evidence = NewEvidence {
        kind: "screenshot",
        tag: tag.as_string(),
        sha256,
        media_key: String::new(),
        content_type: "image/png",
        bytes: body.len() as i64,
        captured_at_ms: q.captured_at_ms,
        width: Some(facts.width as i64),
        height: Some(facts.height as i64),
        duration_ms: None,
        screenshot: Some(tag),
    };
    keep_evidence(&state, &staff.user, &session, &body, evidence).await
}

/// Stores the bytes in the media folder and the evidence row; a refused row removes the file,
/// so nothing is left half-written.
async fn keep_evidence(
    state: &AppState,
    user: &StaffUser,
    session: &VideoSession,
    body: &[u8],
    mut evidence: NewEvidence,
) -> Result<Response> {
    let key = state.media.put(&session.tenant_id, &session.applicant_id, &crate::store::new_id(), body).await?;
    evidence.media_key = key.clone();
    match state.store.add_evidence(user, &session.id, evidence).await {
        Ok(evidence) => Ok((StatusCode::CREATED, Json(evidence)).into_response()),
        Err(e) => {
            let _ = state.media.remove(&key).await;
            Err(e)
        }
    }
}

#[utoipa::path(post, path = "/api/v1/video/sessions/{id}/read-out", security(("bearer" = [])),
    responses((status = 200, body = VideoSession), (status = 409, body = ErrorBody)))]
pub async fn read_out(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<VideoSession>> {
    staff.require(runs_calls, "confirm the read-out")?;
    Ok(Json(state.store.confirm_read_out(&staff.user, &id).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TanSent {
    pub expires_at_ms: i64,
}

#[utoipa::path(post, path = "/api/v1/video/sessions/{id}/tan", security(("bearer" = [])),
    responses((status = 202, body = TanSent), (status = 409, body = ErrorBody)))]
pub async fn send_tan(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Result<Response> {
    staff.require(runs_calls, "send a TAN")?;
    let tan = new_tan();
    let session = state.store.issue_tan(&staff.user, &id, &tan, state.video.tan_ttl_ms).await?;
    let destination = session.tan_destination.clone().ok_or(Error::SessionEnded)?;
    state.video.tan_sender.send(&session.id, &destination, &tan).await?;
    state.video.rooms.send(&id, Side::Applicant, json!({"type": "tan-sent"}).to_string());
    let expires_at_ms = session.tan_expires_at_ms.ok_or(Error::SessionEnded)?;
    Ok((StatusCode::ACCEPTED, Json(TanSent { expires_at_ms })).into_response())
}

#[utoipa::path(post, path = "/api/v1/video/sessions/{id}/finish", security(("bearer" = [])),
    responses((status = 200, body = VideoSession), (status = 409, description = "INTERVIEW_UNFINISHED", body = ErrorBody)))]
pub async fn finish(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Result<Json<VideoSession>> {
    staff.require(runs_calls, "finish video calls")?;
    let session = state.store.video_session(&staff.user.tenant_id, &id).await?;
    if session.operator_id.as_deref() != Some(staff.user.id.as_str()) {
        return Err(Error::Forbidden("only the operator in the call may finish it".into()));
    }
    if session.state.ended() {
        return Err(Error::SessionEnded);
    }
    session.interview.ready_for_decision()?;
    Ok(Json(end_call(&state, &staff.user, &session, None, Actor::User(staff.user.id.clone())).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AbortRequest {
    pub reason: AbortReason,
}

#[utoipa::path(post, path = "/api/v1/video/sessions/{id}/abort", security(("bearer" = [])),
    responses((status = 200, body = VideoSession), (status = 409, body = ErrorBody)))]
pub async fn abort(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AbortRequest>,
) -> Result<Json<VideoSession>> {
    staff.require(runs_calls, "abort video calls")?;
    let session = state.store.video_session(&staff.user.tenant_id, &id).await?;
    if session.operator_id.as_deref() != Some(staff.user.id.as_str()) {
        return Err(Error::Forbidden("only the operator in the call may abort it".into()));
    }
    if session.state.ended() {
        return Err(Error::SessionEnded);
    }
    Ok(Json(end_call(&state, &staff.user, &session, Some(body.reason), Actor::User(staff.user.id.clone())).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct RecordingQuery {
    /// `applicant_video` (VP8 in IVF), `applicant_audio` or `operator_audio` (Opus in Ogg), or
    /// `call` (the whole call for playback: WebM, VP8 and both directions of audio mixed).
    pub part: String,
    pub duration_ms: i64,
    /// When the recorded media started (ms since the epoch): the origin of its timeline.
    #[serde(default)]
    pub started_at_ms: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/video/sessions/{id}/recording", security(("bearer" = [])), params(RecordingQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Evidence), (status = 422, body = ErrorBody)))]
pub async fn recording(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RecordingQuery>,
    body: Bytes,
) -> Result<Response> {
    staff.require(runs_calls, "store recordings")?;
    let (content_type, signature): (&'static str, &[u8]) = match q.part.as_str() {
        "applicant_video" => ("video/x-ivf", b"DKIF"),
        "applicant_audio" | "operator_audio" => ("audio/ogg", b"OggS"),
        "call" => ("video/webm", b"\x1A\x45\xDF\xA3"),
        other => {
            return Err(Error::InvalidQuery(format!(
                "part {other}: applicant_video, applicant_audio, operator_audio or call"
            )))
        }
    };
    if !body.starts_with(signature) {
        return Err(Error::InvalidBody(format!("the {} part is not a {content_type} file", q.part)));
    }
    let session = state.store.video_session(&staff.user.tenant_id, &id).await?;
    let evidence = NewEvidence {
        kind: "recording",
        tag: q.part.clone(),
        sha256: sha256_hex(&body),
        media_key: String::new(),
        content_type,
        bytes: body.len() as i64,
        captured_at_ms: q.started_at_ms.unwrap_or_else(crate::store::now_ms),
        width: None,
        height: None,
        duration_ms: Some(q.duration_ms),
        screenshot: None,
    };
    keep_evidence(&state, &staff.user, &session, &body, evidence).await
}

#[utoipa::path(get, path = "/api/v1/video/evidence/{id}/content", security(("bearer" = [])),
    responses((status = 200, description = "the screenshot or recording part"), (status = 404, body = ErrorBody)))]
pub async fn evidence_content(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Result<Response> {
    staff.require(sees_evidence, "see video evidence")?;
    let evidence = state.store.evidence(&staff.user.tenant_id, &id).await?;
    let bytes = state.media.get(&evidence.media_key).await?;
    state
        .store
        .record(
            &staff.user.tenant_id,
            &Actor::User(staff.user.id.clone()),
            "video.evidence_viewed",
            &format!("video:{}", evidence.session_id),
            json!({"evidenceId": evidence.id, "tag": evidence.tag}),
        )
        .await?;
    Ok(([(axum::http::header::CONTENT_TYPE, evidence.content_type)], bytes).into_response())
}
