//! The server's HTTP API as the console calls it: the change feed, claims, case details,
//! document images and decisions. Every failure becomes a `SyncError`.

use std::time::Duration;

use identdesk_domain::DecisionInput;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Result, SyncError};

/// One page of the server's change feed.
#[derive(Debug)]
pub struct ChangePage {
    pub changes: Vec<FeedChange>,
    pub next_cursor: i64,
    pub has_more: bool,
}

/// One change of the feed: what the cache indexes, and the server's JSON kept as it came.
#[derive(Debug, Clone)]
pub struct FeedChange {
    pub seq: i64,
    pub entity: FeedEntity,
}

#[derive(Debug, Clone)]
pub enum FeedEntity {
    Case {
        id: String,
        state: String,
        holder_id: Option<String>,
        version: i64,
        body: String,
    },
    Decision {
        case_id: String,
        body: String,
    },
    /// The applicant was erased on the server: nothing of them may stay here.
    Erased {
        applicant_id: String,
    },
    /// A kind of change this console does not know (a newer server): skipped.
    Other,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePage<'a> {
    #[serde(borrow)]
    changes: Vec<WireChange<'a>>,
    next_cursor: i64,
    has_more: bool,
}

#[derive(Deserialize)]
struct WireChange<'a> {
    entity: std::borrow::Cow<'a, str>,
    seq: i64,
    #[serde(borrow)]
    case: Option<&'a serde_json::value::RawValue>,
    #[serde(borrow)]
    decision: Option<&'a serde_json::value::RawValue>,
    #[serde(rename = "applicantId")]
    applicant_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaseHead {
    id: String,
    state: String,
    holder_id: Option<String>,
    version: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DecisionHead {
    case_id: String,
}

impl FeedChange {
    /// A case as the server sent it (JSON text), with the fields the cache indexes.
    pub fn case(seq: i64, body: &str) -> Result<FeedChange> {
        let head: CaseHead = serde_json::from_str(body).map_err(|e| SyncError::Protocol(format!("a case: {e}")))?;
        let entity = FeedEntity::Case {
            id: head.id,
            state: head.state,
            holder_id: head.holder_id,
            version: head.version,
            body: body.to_owned(),
        };
        Ok(FeedChange { seq, entity })
    }

    fn decision(seq: i64, body: &str) -> Result<FeedChange> {
        let head: DecisionHead =
            serde_json::from_str(body).map_err(|e| SyncError::Protocol(format!("a decision: {e}")))?;
        Ok(FeedChange { seq, entity: FeedEntity::Decision { case_id: head.case_id, body: body.to_owned() } })
    }
}

/// Reads a feed page without building a JSON tree of it: each case and decision stays text.
fn parse_page(text: &str) -> Result<ChangePage> {
    let wire: WirePage = serde_json::from_str(text).map_err(|e| SyncError::Protocol(format!("a feed page: {e}")))?;
    let changes = wire
        .changes
        .into_iter()
        .map(|c| match (c.entity.as_ref(), c.case, c.decision) {
            ("case", Some(case), _) => FeedChange::case(c.seq, case.get()),
            ("decision", _, Some(decision)) => FeedChange::decision(c.seq, decision.get()),
            ("erased", _, _) if c.applicant_id.is_some() => Ok(FeedChange {
                seq: c.seq,
                entity: FeedEntity::Erased { applicant_id: c.applicant_id.unwrap_or_default() },
            }),
            _ => Ok(FeedChange { seq: c.seq, entity: FeedEntity::Other }),
        })
        .collect::<Result<_>>()?;
    Ok(ChangePage { changes, next_cursor: wire.next_cursor, has_more: wire.has_more })
}

/// The server's answer to a decision.
#[derive(Debug)]
pub enum DecisionAnswer {
    /// Made now, or made before with the same idempotency key (a replay).
    Accepted(Value),
    /// Refused for good: the lease is gone, the case changed or was decided elsewhere.
    Refused { code: String, message: String },
}

#[derive(Clone)]
pub struct ServerApi {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl ServerApi {
    /// `server`: e.g. `http://127.0.0.1:8080`.
    pub fn new(server: &str, token: &str) -> ServerApi {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .expect("the HTTP client builds");
        ServerApi { http, base: format!("{}/api/v1", server.trim_end_matches('/')), token: token.to_owned() }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// The server's address, as signed in to (e.g. `http://127.0.0.1:8080`).
    pub fn server(&self) -> &str {
        self.base.trim_end_matches("/api/v1")
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let res = request.bearer_auth(&self.token).send().await.map_err(|e| SyncError::Offline(e.to_string()))?;
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        let code = body["code"].as_str().unwrap_or("HTTP_ERROR").to_owned();
        if status == 401 {
            return Err(SyncError::SignedOut);
        }
        let message = body["message"].as_str().map(str::to_owned).unwrap_or_else(|| format!("HTTP {status}"));
        Err(SyncError::Server { status, code, message })
    }

    async fn json(&self, request: reqwest::RequestBuilder) -> Result<Value> {
        let res = self.send(request).await?;
        res.json().await.map_err(|e| SyncError::Protocol(e.to_string()))
    }

    pub async fn changes(&self, cursor: i64, limit: i64) -> Result<ChangePage> {
        let url = format!("{}/sync?cursor={cursor}&limit={limit}", self.base);
        let res = self.send(self.http.get(url)).await?;
        let text = res.text().await.map_err(|e| SyncError::Offline(e.to_string()))?;
        parse_page(&text)
    }

    /// The next case for this user, or `None` when the queue is empty.
    pub async fn claim(&self) -> Result<Option<Value>> {
        let res = self.send(self.http.post(format!("{}/cases/claim", self.base))).await?;
        if res.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        res.json().await.map(Some).map_err(|e| SyncError::Protocol(e.to_string()))
    }

    pub async fn case_detail(&self, case_id: &str) -> Result<Value> {
        self.json(self.http.get(format!("{}/cases/{case_id}", self.base))).await
    }

    pub async fn document(&self, document_id: &str) -> Result<Vec<u8>> {
        let res = self.send(self.http.get(format!("{}/documents/{document_id}/content", self.base))).await?;
        Ok(res.bytes().await.map_err(|e| SyncError::Offline(e.to_string()))?.to_vec())
    }

    pub async fn me(&self) -> Result<Value> {
        self.json(self.http.get(format!("{}/auth/me", self.base))).await
    }

    /// Sends a decision with its idempotency key. Conflicts (409) and refusals (422) are
    /// answers, not errors; only the network and the server's own failures are errors.
    pub async fn decide(&self, case_id: &str, key: &str, input: &DecisionInput) -> Result<DecisionAnswer> {
        let request = self
            .http
            .post(format!("{}/cases/{case_id}/decision", self.base))
            .header("idempotency-key", key)
            .json(input);
        match self.send(request).await {
            Ok(res) => Ok(DecisionAnswer::Accepted(res.json().await.map_err(|e| SyncError::Protocol(e.to_string()))?)),
            Err(SyncError::Server { status: 404 | 409 | 422, code, message }) => {
                Ok(DecisionAnswer::Refused { code, message })
            }
            Err(e) => Err(e),
        }
    }

    /// Any other call of the UI, passed on as it is: JSON in, JSON out (`null` for 204).
    pub async fn forward(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            "GET" => self.http.get(url),
            "POST" => self.http.post(url),
            other => return Err(SyncError::Protocol(format!("the desktop does not pass on {other} requests"))),
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        let res = self.send(request).await?;
        if res.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        res.json().await.map_err(|e| SyncError::Protocol(e.to_string()))
    }

    /// Signs in; returns the server's answer (token, expiry, user).
    pub async fn login(server: &str, email: &str, password: &str) -> Result<Value> {
        let api = ServerApi::new(server, "");
        let url = format!("{}/auth/login", api.base);
        let res = api
            .http
            .post(url)
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .map_err(|e| SyncError::Offline(e.to_string()))?;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if status == 200 {
            return Ok(body);
        }
        Err(SyncError::Server {
            status,
            code: body["code"].as_str().unwrap_or("HTTP_ERROR").to_owned(),
            message: body["message"].as_str().unwrap_or("sign-in failed").to_owned(),
        })
    }

    /// The push channel's address: `ws://…/api/v1/events`.
    pub fn events_url(&self) -> String {
        format!("{}/events", self.base.replacen("http", "ws", 1))
    }
}
