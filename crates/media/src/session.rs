//! The operator's connection to identdesk-server for one video identification: takes the next
//! waiting applicant, joins the signalling socket, answers the applicant's offer with an
//! `OperatorCall`, and reports each interview step (screenshots, read-out, TAN, finish or
//! abort, the recording) through the API.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use identdesk_domain::{AbortReason, Interview};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::audio::AudioSource;
use crate::call::{CallConfig, IceServer, OperatorCall};
use crate::recording::RecordingFiles;
use crate::screenshot::Screenshot;
use crate::MediaError;

/// The server's view of a call, as `POST /video/next` returns it (the parts the operator uses).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallPlan {
    pub session: PlanSession,
    pub features: Vec<PlannedFeature>,
    pub read_out: String,
    pub ice_servers: Vec<IceServer>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSession {
    pub id: String,
    pub case_id: Option<String>,
    pub applicant_id: String,
    /// The steps the server enforces, and how many are done.
    pub interview: Interview,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedFeature {
    pub n: u8,
    pub feature: String,
    pub optically_variable: bool,
    pub instruction: String,
}

/// What the server tells the operator during the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerNews {
    TanConfirmed,
    ApplicantLeft,
    Ended { outcome: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvidence {
    pub id: String,
    pub tag: String,
    pub sha256: String,
}

/// An API error as the server words it.
fn api_error(status: reqwest::StatusCode, body: &str) -> MediaError {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let code = parsed.as_ref().and_then(|v| v["code"].as_str()).unwrap_or("HTTP").to_owned();
    let message = parsed.as_ref().and_then(|v| v["message"].as_str()).unwrap_or(body).to_owned();
    MediaError::Server { status: status.as_u16(), code, message }
}

fn http_error(e: reqwest::Error) -> MediaError {
    MediaError::Server { status: 0, code: "UNREACHABLE".into(), message: e.without_url().to_string() }
}

/// The operator's client: a server URL and a signed-in token.
#[derive(Clone)]
pub struct OperatorClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl OperatorClient {
    pub fn new(base: &str, token: &str) -> OperatorClient {
        OperatorClient {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, MediaError> {
        let response = request.bearer_auth(&self.token).send().await.map_err(http_error)?;
        if response.status().is_success() {
            Ok(response)
        } else {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            Err(api_error(status, &body))
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// Takes the next waiting applicant (the server picks at random); `None` when nobody waits.
    pub async fn next(&self) -> Result<Option<CallPlan>, MediaError> {
        let response = self.send(self.http.post(self.url("/video/next"))).await?;
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        response.json().await.map(Some).map_err(http_error)
    }

    /// Joins the signalling socket, waits for the applicant's offer and answers it.
    pub async fn connect(
        &self,
        plan: &CallPlan,
        config: &CallConfig,
        audio: Box<dyn AudioSource>,
        offer_timeout: Duration,
    ) -> Result<(OperatorCall, mpsc::UnboundedReceiver<ServerNews>), MediaError> {
        let ws_url = format!(
            "{}/api/v1/video/sessions/{}/signal?token={}",
            self.base.replacen("http", "ws", 1),
            plan.session.id,
            self.token
        );
        let (socket, _) = tokio_tungstenite::connect_async(ws_url.as_str()).await.map_err(|e| MediaError::Server {
            status: 0,
            code: "SIGNALLING".into(),
            message: e.to_string(),
        })?;
        let (mut sink, mut stream) = socket.split();
        let offer = tokio::time::timeout(offer_timeout, async {
            while let Some(message) = stream.next().await {
                let Ok(Message::Text(text)) = message else { continue };
                let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                if value["type"] == "offer" {
                    return value["sdp"].as_str().map(str::to_owned);
                }
            }
            None
        })
        .await
        .map_err(|_| MediaError::Timeout("the applicant sent no offer in time".into()))?
        .ok_or_else(|| MediaError::Timeout("the signalling socket closed before an offer came".into()))?;
        let mut config = config.clone();
        config.ice_servers = plan.ice_servers.clone();
        let (call, answer) = OperatorCall::answer(&config, &offer, audio).await?;
        let answer = serde_json::json!({"type": "answer", "sdp": answer}).to_string();
        sink.send(Message::Text(answer.into())).await.map_err(|e| MediaError::Server {
            status: 0,
            code: "SIGNALLING".into(),
            message: e.to_string(),
        })?;
        let (news_tx, news) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            // Keep the socket open for the call; pass on what matters to the operator.
            let _sink = sink;
            while let Some(Ok(Message::Text(text))) = stream.next().await {
                let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                let news = match value["type"].as_str() {
                    Some("tan-confirmed") => ServerNews::TanConfirmed,
                    Some("peer-left") => ServerNews::ApplicantLeft,
                    Some("ended") => ServerNews::Ended { outcome: value["outcome"].as_str().unwrap_or("").to_owned() },
                    _ => continue,
                };
                if news_tx.send(news).is_err() {
                    break;
                }
            }
        });
        Ok((call, news))
    }

    pub async fn upload_screenshot(&self, session_id: &str, shot: &Screenshot) -> Result<StoredEvidence, MediaError> {
        let url = self.url(&format!(
            "/video/sessions/{session_id}/screenshots?tag={}&capturedAtMs={}",
            shot.tag, shot.captured_at_ms
        ));
        let request = self
            .http
            .post(url)
            .header("content-type", "image/png")
            .header("x-content-sha256", &shot.sha256)
            .body(shot.png.clone());
        self.send(request).await?.json().await.map_err(http_error)
    }

    pub async fn confirm_read_out(&self, session_id: &str) -> Result<(), MediaError> {
        self.send(self.http.post(self.url(&format!("/video/sessions/{session_id}/read-out")))).await.map(|_| ())
    }

    pub async fn send_tan(&self, session_id: &str) -> Result<(), MediaError> {
        self.send(self.http.post(self.url(&format!("/video/sessions/{session_id}/tan")))).await.map(|_| ())
    }

    pub async fn finish(&self, session_id: &str) -> Result<(), MediaError> {
        self.send(self.http.post(self.url(&format!("/video/sessions/{session_id}/finish")))).await.map(|_| ())
    }

    pub async fn abort(&self, session_id: &str, reason: AbortReason) -> Result<(), MediaError> {
        let request = self
            .http
            .post(self.url(&format!("/video/sessions/{session_id}/abort")))
            .json(&serde_json::json!({"reason": reason}));
        self.send(request).await.map(|_| ())
    }

    /// Uploads the recording's three parts, and the call as one WebM for playback.
    pub async fn upload_recording(&self, session_id: &str, files: &RecordingFiles) -> Result<(), MediaError> {
        let video = tokio::fs::read(&files.applicant_video).await?;
        let applicant_audio = tokio::fs::read(&files.applicant_audio).await?;
        let operator_audio = tokio::fs::read(&files.operator_audio).await?;
        let audio_ms = |bytes: &[u8]| crate::recording::ogg_duration_ms(bytes).unwrap_or(0);
        // The parts go into the mixing task and come back: a recording is not copied in memory.
        let (video, applicant_audio, operator_audio, call) = tokio::task::spawn_blocking(move || {
            let call = crate::webm::mux_call(&video, &[&applicant_audio, &operator_audio]);
            (video, applicant_audio, operator_audio, call)
        })
        .await
        .map_err(|e| MediaError::Codec(format!("the call could not be put together: {e}")))?;
        let call_ms = files.video_duration_ms.max(audio_ms(&applicant_audio)).max(audio_ms(&operator_audio));
        let mut parts = vec![
            ("applicant_video", files.video_duration_ms, video),
            ("applicant_audio", audio_ms(&applicant_audio), applicant_audio),
            ("operator_audio", audio_ms(&operator_audio), operator_audio),
        ];
        match call {
            Ok(webm) => parts.push(("call", call_ms, webm)),
            // The parts are the evidence; the playback file is a convenience built from them.
            Err(e) => tracing::warn!("no playback file for the call: {e}"),
        }
        let started = files.started_at_ms.map(|t| format!("&startedAtMs={t}")).unwrap_or_default();
        for (part, duration, bytes) in parts {
            let url =
                self.url(&format!("/video/sessions/{session_id}/recording?part={part}&durationMs={duration}{started}"));
            self.send(self.http.post(url).header("content-type", "application/octet-stream").body(bytes)).await?;
        }
        Ok(())
    }
}
