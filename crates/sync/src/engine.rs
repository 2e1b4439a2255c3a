//! The sync loop: pull the change feed from the saved cursor, listen on the server's push
//! channel and pull when told, send the outbox in order, and reconnect with backoff when the
//! server goes away. The UI reads everything from the cache, online or not.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use identdesk_domain::DecisionInput;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::api::{DecisionAnswer, FeedChange, ServerApi};
use crate::cache::Cache;
use crate::error::{Result, SyncError};
use crate::outbox::OutboxItem;

/// Feed page size: the server's maximum.
const PAGE: i64 = 1000;
/// Document images of claimed cases are kept this long.
pub const MEDIA_TTL_MS: i64 = 8 * 60 * 60 * 1000;
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(8);
/// While decisions wait, the outbox is tried again this often even without news.
const RETRY_EVERY: Duration = Duration::from_secs(2);

/// What the window's status bar shows.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub online: bool,
    pub pending: usize,
    pub conflicts: usize,
    pub last_sync_ms: Option<i64>,
    pub cursor: i64,
}

#[derive(Clone)]
pub struct Sync {
    pub api: ServerApi,
    pub cache: Cache,
    online: Arc<AtomicBool>,
    /// The cursor the cache has applied up to; watchers learn of every pull.
    applied: watch::Sender<i64>,
    /// One drain at a time: the outbox goes out in order.
    draining: Arc<tokio::sync::Mutex<()>>,
}

impl Sync {
    pub async fn new(api: ServerApi, cache: Cache) -> Result<Sync> {
        let cursor = cache.cursor().await?;
        let (applied, _) = watch::channel(cursor);
        Ok(Sync {
            api,
            cache,
            online: Arc::new(AtomicBool::new(false)),
            applied,
            draining: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Follows the cursor the cache has applied.
    pub fn applied(&self) -> watch::Receiver<i64> {
        self.applied.subscribe()
    }

    fn seen<T>(&self, result: Result<T>) -> Result<T> {
        match &result {
            Ok(_) => self.online.store(true, Ordering::Relaxed),
            Err(SyncError::Offline(_)) => self.online.store(false, Ordering::Relaxed),
            Err(_) => {}
        }
        result
    }

    /// Pulls the feed from the saved cursor to its end, page by page; returns the changes
    /// applied. The next page is fetched while the current one is written, so a long backlog
    /// costs the slower of the two, not their sum.
    pub async fn pull(&self) -> Result<usize> {
        let fetch = |cursor: i64| {
            let api = self.api.clone();
            tokio::spawn(async move { api.changes(cursor, PAGE).await })
        };
        let mut applied = 0;
        let mut cursor = self.cache.cursor().await?;
        let mut next = Some(fetch(cursor));
        while let Some(fetching) = next.take() {
            let page = self.seen(fetching.await.map_err(|e| SyncError::Protocol(e.to_string()))?)?;
            if page.has_more {
                next = Some(fetch(page.next_cursor));
            }
            self.cache.apply(&page.changes, page.next_cursor).await?;
            applied += page.changes.len();
            cursor = page.next_cursor.max(cursor);
            self.applied.send_replace(cursor);
        }
        Ok(applied)
    }

    /// Claims the next case and caches what finishing it offline needs: its detail and images.
    pub async fn claim(&self) -> Result<Option<Value>> {
        let Some(case) = self.seen(self.api.claim().await)? else { return Ok(None) };
        let id = case["id"].as_str().ok_or_else(|| SyncError::Protocol("a claimed case without id".into()))?;
        self.cache_case(id).await?;
        Ok(Some(case))
    }

    /// Pulls, then caches every case this user holds (claimed, or assigned by a supervisor)
    /// that is not cached yet, and drops what no open case needs; returns the held case ids.
    pub async fn cache_held(&self) -> Result<Vec<String>> {
        self.pull().await?;
        let me = self.seen(self.api.me().await)?;
        let user_id = me["id"].as_str().ok_or_else(|| SyncError::Protocol("a user without id".into()))?;
        let mut held = Vec::new();
        for case in self.cache.claimed_by(user_id).await? {
            let id = case["id"].as_str().unwrap_or_default().to_owned();
            if self.cache.detail(&id).await?.is_none() {
                self.cache_case(&id).await?;
            }
            held.push(id);
        }
        self.cache.prune(user_id, MEDIA_TTL_MS).await?;
        Ok(held)
    }

    /// Fetches a case's detail and document images into the cache.
    pub async fn cache_case(&self, case_id: &str) -> Result<Value> {
        let detail = self.seen(self.api.case_detail(case_id).await)?;
        self.keep(case_id, &detail).await?;
        Ok(detail)
    }

    /// Keeps a case detail read from the server, with its document images, for offline work.
    pub async fn keep(&self, case_id: &str, detail: &Value) -> Result<()> {
        self.cache.save_detail(case_id, detail).await?;
        for doc in detail["documents"].as_array().into_iter().flatten() {
            if let Some(doc_id) = doc["id"].as_str() {
                let bytes = self.seen(self.api.document(doc_id).await)?;
                self.cache.save_media(doc_id, case_id, &bytes).await?;
            }
        }
        // The feed may not have the claim yet: the detail's case is newer or as new.
        let seq = detail["case"]["changeSeq"].as_i64().unwrap_or(0);
        self.cache.apply(&[FeedChange::case(seq, &detail["case"].to_string())?], 0).await
    }

    /// Records a decision: in the outbox on disk first ("saved"), then sent if the server is
    /// there. Offline is not an error: the outbox sends it later.
    pub async fn decide(&self, case_id: &str, input: &DecisionInput) -> Result<OutboxItem> {
        let item = self.cache.enqueue(case_id, input).await?;
        match self.drain().await {
            Ok(_) | Err(SyncError::Offline(_)) => Ok(item),
            Err(e) if e.is_transient() => Ok(item),
            Err(e) => Err(e),
        }
    }

    /// Sends the outbox in order until it is empty or the server is unreachable; returns how
    /// many were sent. A refusal becomes a conflict with the server's version beside it.
    pub async fn drain(&self) -> Result<usize> {
        let _one_at_a_time = self.draining.lock().await;
        let mut sent = 0;
        for item in self.cache.pending().await? {
            match self.seen(self.api.decide(&item.case_id, &item.idempotency_key, &item.input).await) {
                Ok(DecisionAnswer::Accepted(decision)) => {
                    self.cache.mark_sent(item.seq, &decision).await?;
                    sent += 1;
                }
                Ok(DecisionAnswer::Refused { code, message }) => {
                    let server = self.api.case_detail(&item.case_id).await.ok();
                    self.cache.mark_conflict(item.seq, &code, &message, server.as_ref()).await?;
                    tracing::warn!(case = %item.case_id, %code, "decision refused by the server: kept as a conflict");
                }
                Err(e) => {
                    self.cache.mark_failed_attempt(item.seq, &e).await?;
                    return Err(e);
                }
            }
        }
        Ok(sent)
    }

    pub async fn status(&self) -> Result<Status> {
        Ok(Status {
            online: self.online.load(Ordering::Relaxed),
            pending: self.cache.pending().await?.len(),
            conflicts: self.cache.conflicts().await?.len(),
            last_sync_ms: self.cache.last_sync_ms().await?,
            cursor: self.cache.cursor().await?,
        })
    }

    /// Runs until `stop` turns true: connects to the push channel, pulls and drains on connect
    /// and on every push, retries the outbox while it holds decisions, and reconnects with
    /// backoff (250 ms doubling to 8 s) when the connection drops.
    pub async fn run(&self, mut stop: watch::Receiver<bool>) -> Result<()> {
        let mut backoff = BACKOFF_FIRST;
        while !*stop.borrow() {
            match self.listen(&mut stop).await {
                Ok(()) => return Ok(()),
                Err(SyncError::SignedOut) => return Err(SyncError::SignedOut),
                Err(e) => {
                    self.online.store(false, Ordering::Relaxed);
                    tracing::info!(error = %e, retry_in_ms = backoff.as_millis() as u64, "sync disconnected");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.changed() => {}
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
        Ok(())
    }

    /// One connection's life: returns `Ok` when stopped, an error when the connection is lost.
    async fn listen(&self, stop: &mut watch::Receiver<bool>) -> Result<()> {
        let mut request =
            self.api.events_url().into_client_request().map_err(|e| SyncError::Protocol(e.to_string()))?;
        let bearer = format!("Bearer {}", self.api.token())
            .parse()
            .map_err(|_| SyncError::Protocol("the token is not a valid header".into()))?;
        request.headers_mut().insert("authorization", bearer);
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(res) if res.status() == 401 => SyncError::SignedOut,
            e => SyncError::Offline(e.to_string()),
        })?;
        self.online.store(true, Ordering::Relaxed);
        self.pull().await?;
        self.drain_quietly().await;
        let mut retry = tokio::time::interval(RETRY_EVERY);
        loop {
            tokio::select! {
                _ = stop.changed() => {
                    if *stop.borrow() {
                        let _ = socket.close(None).await;
                        return Ok(());
                    }
                }
                message = socket.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        let cursor = serde_json::from_str::<Value>(&text).ok().and_then(|v| v["cursor"].as_i64());
                        if cursor.is_some_and(|c| c > *self.applied.borrow()) {
                            self.pull().await?;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => return Err(SyncError::Offline("the server closed the push channel".into())),
                    Some(Err(e)) => return Err(SyncError::Offline(e.to_string())),
                    Some(Ok(_)) => {}
                },
                _ = retry.tick() => self.drain_quietly().await,
            }
        }
    }

    /// Drains the outbox; a failure is logged and left for the next try.
    async fn drain_quietly(&self) {
        match self.drain().await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "outbox sent"),
            Err(e) => tracing::info!(error = %e, "outbox waits"),
        }
    }
}
