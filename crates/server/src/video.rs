//! What video identification needs beyond the store: its configuration (ICE servers, retries,
//! TAN lifetime), the pluggable TAN senders, and the signalling rooms that relay offer, answer
//! and ICE candidates between the applicant's browser and the operator's media core.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rand::Rng;
use tokio::sync::mpsc;

use crate::error::{Error, Result};

pub struct VideoConfig {
    /// STUN/TURN servers handed to both peers, as WebRTC's `iceServers` JSON.
    pub ice_servers: serde_json::Value,
    /// Aborted sessions an applicant may have before no new invitation is allowed.
    pub max_attempts: i64,
    pub tan_ttl_ms: i64,
    pub tan_sender: Arc<dyn TanSender>,
    pub rooms: Rooms,
}

impl VideoConfig {
    pub fn new(data_dir: Option<PathBuf>) -> VideoConfig {
        VideoConfig {
            ice_servers: serde_json::json!([]),
            max_attempts: 3,
            tan_ttl_ms: 5 * 60 * 1000,
            tan_sender: Arc::new(LogSender { path: data_dir.map(|d| d.join("tan-outbox.log")) }),
            rooms: Rooms::default(),
        }
    }

    /// Reads `IDENTDESK_ICE_SERVERS` (JSON), `IDENTDESK_VIDEO_ATTEMPTS` and
    /// `IDENTDESK_TAN_SENDER` (`log`, or an HTTP SMS gateway's URL).
    pub fn from_env(data_dir: PathBuf) -> Result<VideoConfig> {
        let mut config = VideoConfig::new(Some(data_dir));
        if let Ok(json) = std::env::var("IDENTDESK_ICE_SERVERS") {
            config.ice_servers = serde_json::from_str(&json)
                .map_err(|e| Error::Config(format!("IDENTDESK_ICE_SERVERS is not JSON: {e}")))?;
        }
        if let Ok(n) = std::env::var("IDENTDESK_VIDEO_ATTEMPTS") {
            config.max_attempts =
                n.parse().map_err(|_| Error::Config("IDENTDESK_VIDEO_ATTEMPTS must be a number".into()))?;
        }
        match std::env::var("IDENTDESK_TAN_SENDER").ok().as_deref() {
            None | Some("log") => {}
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                config.tan_sender = Arc::new(SmsGateway { url: url.to_owned(), client: reqwest::Client::new() });
            }
            Some(other) => {
                return Err(Error::Config(format!("IDENTDESK_TAN_SENDER {other}: use log or an http(s) URL")))
            }
        }
        Ok(config)
    }
}

/// A fresh six-digit TAN.
pub fn new_tan() -> String {
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000))
}

/// Delivers a TAN to the applicant's phone or e-mail address.
#[async_trait::async_trait]
pub trait TanSender: Send + Sync {
    async fn send(&self, session_id: &str, destination: &str, tan: &str) -> Result<()>;
}

/// For demos and tests: writes the TAN to `tan-outbox.log` in the data folder (never to the
/// server log), with the destination masked.
pub struct LogSender {
    path: Option<PathBuf>,
}

pub fn mask(destination: &str) -> String {
    let keep: String = destination.chars().rev().take(2).collect::<Vec<_>>().into_iter().rev().collect();
    format!("…{keep}")
}

#[async_trait::async_trait]
impl TanSender for LogSender {
    async fn send(&self, session_id: &str, destination: &str, tan: &str) -> Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        use tokio::io::AsyncWriteExt;
        let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(path).await?;
        file.write_all(format!("{session_id} {tan} {}\n", mask(destination)).as_bytes()).await?;
        // tokio writes in the background: the TAN must be in the file when the call returns.
        file.flush().await?;
        Ok(())
    }
}

/// An HTTP SMS gateway: `POST {url}` with `{"to", "text"}`.
pub struct SmsGateway {
    url: String,
    client: reqwest::Client,
}

#[async_trait::async_trait]
impl TanSender for SmsGateway {
    async fn send(&self, _session_id: &str, destination: &str, tan: &str) -> Result<()> {
        let text = format!("Your IdentDesk video identification TAN is {tan}. It is valid for 5 minutes.");
        let answer = self
            .client
            .post(&self.url)
            .json(&serde_json::json!({"to": destination, "text": text}))
            .send()
            .await
            .map_err(|e| Error::Internal(format!("SMS gateway unreachable: {}", e.without_url())))?;
        if !answer.status().is_success() {
            return Err(Error::Internal(format!("SMS gateway answered {}", answer.status())));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Applicant,
    Operator,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Applicant => Side::Operator,
            Side::Operator => Side::Applicant,
        }
    }
}

/// The open signalling sockets, per session and side. One node holds a call's both sockets;
/// several nodes would need a shared bus here.
/// One side's socket in a room: its membership id and where its messages go.
type Member = (u64, mpsc::UnboundedSender<String>);

#[derive(Default)]
pub struct Rooms {
    rooms: Mutex<HashMap<String, HashMap<Side, Member>>>,
    next: std::sync::atomic::AtomicU64,
}

impl Rooms {
    /// Joins a side to the room; an earlier socket of that side is replaced. Returns the
    /// membership id (for `leave`) and the messages for this side.
    pub fn join(&self, session_id: &str, side: Side) -> (u64, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.rooms.lock().expect("not poisoned").entry(session_id.to_owned()).or_default().insert(side, (id, tx));
        (id, rx)
    }

    /// Leaves, unless a newer socket took this side's place meanwhile.
    pub fn leave(&self, session_id: &str, side: Side, id: u64) {
        let mut rooms = self.rooms.lock().expect("not poisoned");
        if let Some(room) = rooms.get_mut(session_id) {
            if room.get(&side).map(|(i, _)| *i) == Some(id) {
                room.remove(&side);
            }
            if room.is_empty() {
                rooms.remove(session_id);
            }
        }
    }

    pub fn present(&self, session_id: &str, side: Side) -> bool {
        self.rooms.lock().expect("not poisoned").get(session_id).is_some_and(|r| r.contains_key(&side))
    }

    /// Sends to one side; false when nobody is there.
    pub fn send(&self, session_id: &str, side: Side, message: String) -> bool {
        let rooms = self.rooms.lock().expect("not poisoned");
        match rooms.get(session_id).and_then(|r| r.get(&side)) {
            Some((_, tx)) => tx.send(message).is_ok(),
            None => false,
        }
    }
}

/// Signalling messages a peer may send; anything else is refused, never relayed.
pub fn relayable(side: Side, text: &str) -> std::result::Result<String, &'static str> {
    if text.len() > 64 * 1024 {
        return Err("signalling messages are limited to 64 KiB");
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| "a signalling message is JSON")?;
    let kind = value.get("type").and_then(|t| t.as_str()).ok_or("a signalling message has a type")?;
    let allowed = match side {
        Side::Applicant => ["offer", "candidate"].contains(&kind),
        Side::Operator => ["answer", "candidate"].contains(&kind),
    };
    if !allowed {
        return Err("this side may not send that message type");
    }
    if kind != "candidate" && !value.get("sdp").is_some_and(|s| s.is_string()) {
        return Err("offer and answer carry an sdp string");
    }
    Ok(value.to_string())
}
