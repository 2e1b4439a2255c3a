//! The desktop console's side of the UI's transport: what `invoke("api_request")` and
//! `invoke("api_bytes")` reach. Sign-in starts the sync for the user (cache, outbox, push) and
//! keeps the sign-in in the keyring; a case is read from the server and cached, or from the
//! cache when the server is away; a decision always goes through the outbox; every other call
//! is passed on to the server. The desktop shell's commands are one-line calls into this.

use std::collections::HashMap;
use std::path::PathBuf;

use identdesk_domain::DecisionInput;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::{watch, Mutex};

use crate::credentials::{Credentials, SavedSignIn};
use crate::engine::{Status, Sync};
use crate::error::SyncError;
use crate::{Cache, Conflict, ServerApi};

/// A request of the UI, as its transport module sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct UiRequest {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default)]
    pub headers: Option<HashMap<String, String>>,
}

/// The `{status, code, message}` the UI's transport turns into its `ApiError`.
#[derive(Debug, Clone, Serialize)]
pub struct UiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl From<SyncError> for UiError {
    fn from(e: SyncError) -> UiError {
        let status = match &e {
            SyncError::Server { status, .. } => *status,
            SyncError::SignedOut => 401,
            SyncError::Offline(_) => 0,
            SyncError::NotCached(_) => 404,
            _ => 500,
        };
        UiError { status, code: e.code().to_owned(), message: e.to_string() }
    }
}

struct Session {
    sync: Sync,
    user_id: String,
    stop: watch::Sender<bool>,
}

/// The signed-in console: at most one user at a time.
pub struct Desk {
    server: String,
    cache_dir: PathBuf,
    credentials: Option<Credentials>,
    /// Why there is no keyring, when there is none: shown to the user once signed in.
    pub keyring_problem: Option<String>,
    session: Mutex<Option<Session>>,
}

impl Desk {
    /// `server`: where to sign in; `cache_dir`: the app's data folder. The keyring is looked
    /// for once; without one, sign-ins live in memory only.
    pub fn new(server: &str, cache_dir: PathBuf) -> Desk {
        let (credentials, keyring_problem) = match Credentials::system() {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Desk { server: server.to_owned(), cache_dir, credentials, keyring_problem, session: Mutex::new(None) }
    }

    /// The sign-in the keyring kept from the last run, resumed; `None` when there is none or
    /// it has expired.
    pub async fn resume(&self) -> Option<Value> {
        let saved = self.credentials.as_ref()?.load().ok().flatten()?;
        if saved.expires_at_ms <= crate::cache::now_ms() {
            return None;
        }
        let api = ServerApi::new(&saved.server, &saved.token);
        let user = api.me().await.ok()?;
        self.start(api, &user).await.ok()?;
        Some(json!({"token": saved.token, "expiresAtMs": saved.expires_at_ms, "user": user}))
    }

    async fn start(&self, api: ServerApi, user: &Value) -> Result<(), SyncError> {
        let user_id = user["id"].as_str().ok_or_else(|| SyncError::Protocol("a user without id".into()))?.to_owned();
        std::fs::create_dir_all(&self.cache_dir).map_err(|e| SyncError::Protocol(e.to_string()))?;
        let cache = Cache::open(&self.cache_dir.join(format!("cache-{user_id}.db"))).await?;
        let sync = Sync::new(api, cache).await?;
        let (stop, stopped) = watch::channel(false);
        let running = sync.clone();
        tokio::spawn(async move {
            if let Err(e) = running.run(stopped).await {
                tracing::warn!(error = %e, "sync stopped");
            }
        });
        *self.session.lock().await = Some(Session { sync, user_id, stop });
        Ok(())
    }

    async fn sync(&self) -> Result<Sync, UiError> {
        let session = self.session.lock().await;
        session.as_ref().map(|s| s.sync.clone()).ok_or_else(|| SyncError::SignedOut.into())
    }

    /// The signed-in server and token, for the parts of the console that reach the server on
    /// their own (the video call); `None` when signed out.
    pub async fn signed_in(&self) -> Option<(String, String)> {
        let session = self.session.lock().await;
        session.as_ref().map(|s| (s.sync.api.server().to_owned(), s.sync.api.token().to_owned()))
    }

    pub async fn status(&self) -> Result<Status, UiError> {
        Ok(self.sync().await?.status().await?)
    }

    /// Answers one request of the UI.
    pub async fn request(&self, request: UiRequest) -> Result<Value, UiError> {
        // Routed on the path alone: `/cases?state=queued` is the case list, not a case.
        let route = request.path.split_once('?').map_or(request.path.as_str(), |(route, _)| route);
        let parts: Vec<&str> = route.trim_start_matches('/').split('/').collect();
        match (request.method.as_str(), parts.as_slice()) {
            ("POST", ["auth", "login"]) => self.sign_in(request.body.unwrap_or_default()).await,
            ("POST", ["auth", "logout"]) => self.sign_out().await,
            ("POST", ["cases", "claim", ..]) => {
                let sync = self.sync().await?;
                Ok(sync.claim().await?.unwrap_or(Value::Null))
            }
            ("GET", ["cases", id]) => self.case_detail(id).await,
            ("POST", ["cases", id, "decision"]) => self.decide(id, request.body.unwrap_or_default()).await,
            (method, _) => {
                let sync = self.sync().await?;
                Ok(sync.api.forward(method, &request.path, request.body.as_ref()).await?)
            }
        }
    }

    async fn sign_in(&self, body: Value) -> Result<Value, UiError> {
        let email = body["email"].as_str().unwrap_or_default();
        let password = body["password"].as_str().unwrap_or_default();
        let answer = ServerApi::login(&self.server, email, password).await?;
        let token = answer["token"].as_str().unwrap_or_default().to_owned();
        self.start(ServerApi::new(&self.server, &token), &answer["user"]).await?;
        if let Some(credentials) = &self.credentials {
            let saved = SavedSignIn {
                server: self.server.clone(),
                email: email.to_owned(),
                token,
                expires_at_ms: answer["expiresAtMs"].as_i64().unwrap_or_default(),
            };
            if let Err(e) = credentials.save(&saved) {
                tracing::warn!(error = %e, "the sign-in is kept in memory only");
            }
        }
        Ok(answer)
    }

    /// Ends the session on the server when it can, stops the sync, clears the cache's personal
    /// data (decisions not yet sent stay, to go out at the next sign-in) and the keyring.
    async fn sign_out(&self) -> Result<Value, UiError> {
        let Some(session) = self.session.lock().await.take() else { return Ok(Value::Null) };
        let _ = session.sync.api.forward("POST", "/auth/logout", None).await;
        let _ = session.stop.send(true);
        session.sync.cache.clear(false).await?;
        if let Some(credentials) = &self.credentials {
            credentials.delete()?;
        }
        Ok(Value::Null)
    }

    async fn case_detail(&self, id: &str) -> Result<Value, UiError> {
        let (sync, user_id) = {
            let session = self.session.lock().await;
            let s = session.as_ref().ok_or(UiError::from(SyncError::SignedOut))?;
            (s.sync.clone(), s.user_id.clone())
        };
        match sync.api.case_detail(id).await {
            Ok(detail) => {
                // Only the user's own claimed cases are kept for offline work.
                if detail["case"]["holderId"].as_str() == Some(&user_id) && detail["case"]["state"] == "claimed" {
                    sync.keep(id, &detail).await?;
                }
                Ok(detail)
            }
            Err(SyncError::Offline(_)) => {
                Ok(sync.cache.detail(id).await?.ok_or_else(|| SyncError::NotCached(id.to_owned()))?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Into the outbox first; the server's decision when it answered at once, otherwise the
    /// decision as saved, marked `pending`.
    async fn decide(&self, case_id: &str, body: Value) -> Result<Value, UiError> {
        let sync = self.sync().await?;
        let input: DecisionInput = serde_json::from_value(body).map_err(|e| UiError {
            status: 400,
            code: "INVALID_BODY".into(),
            message: format!("the decision is not valid: {e}"),
        })?;
        let item = sync.decide(case_id, &input).await?;
        let (state, answer) = sync.cache.outbox_entry(item.seq).await?;
        match state.as_str() {
            "sent" => Ok(answer.unwrap_or(Value::Null)),
            "conflict" => {
                let conflict = sync.cache.conflicts().await?.into_iter().find(|c| c.item.seq == item.seq);
                let (code, message) = conflict.map(|c| (c.code, c.message)).unwrap_or_default();
                Err(UiError { status: 409, code, message })
            }
            _ => {
                let mut saved = serde_json::to_value(&input).unwrap_or_default();
                saved["caseId"] = json!(case_id);
                saved["pending"] = json!(true);
                Ok(saved)
            }
        }
    }

    /// A document image: from the cache when it is there, else from the server.
    pub async fn bytes(&self, path: &str) -> Result<Vec<u8>, UiError> {
        let sync = self.sync().await?;
        let id = path.trim_start_matches("/documents/").trim_end_matches("/content");
        if let Some(bytes) = sync.cache.media(id).await? {
            return Ok(bytes);
        }
        Ok(sync.api.document(id).await?)
    }

    /// Decisions the server refused, each with the server's version of the case beside it.
    pub async fn conflicts(&self) -> Result<Vec<Conflict>, UiError> {
        Ok(self.sync().await?.cache.conflicts().await?)
    }

    /// The reviewer has read a conflict: it leaves the list.
    pub async fn dismiss_conflict(&self, seq: i64) -> Result<(), UiError> {
        Ok(self.sync().await?.cache.dismiss_conflict(seq).await?)
    }
}
