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
    /// `IDENTDESK_TAN_SENDER` (see `tan_sender`).
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
        if let Ok(spec) = std::env::var("IDENTDESK_TAN_SENDER") {
            if spec.trim() != "log" {
                let from =
                    std::env::var("IDENTDESK_TAN_FROM").unwrap_or_else(|_| "IdentDesk <tan@identdesk.invalid>".into());
                config.tan_sender = Arc::new(tan_sender(&spec, &from)?);
            }
        }
        Ok(config)
    }
}

/// The senders named in `spec`, comma-separated: an `http(s)://` URL is an SMS gateway for
/// phone numbers, an `smtp://` or `smtps://` URL (lettre's form: `smtp://user:pass@host:587?tls=required`)
/// a mail server for e-mail addresses, sent from `from`.
pub fn tan_sender(spec: &str, from: &str) -> Result<RoutedSender> {
    let mut routes = RoutedSender { sms: None, email: None };
    for url in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if url.starts_with("http://") || url.starts_with("https://") {
            routes.sms = Some(Box::new(SmsGateway { url: url.to_owned(), client: reqwest::Client::new() }));
        } else if url.starts_with("smtp://") || url.starts_with("smtps://") {
            routes.email = Some(Box::new(SmtpSender::new(url, from)?));
        } else {
            return Err(Error::Config(format!(
                "IDENTDESK_TAN_SENDER {url}: use log, an http(s) SMS gateway URL or an smtp(s) URL"
            )));
        }
    }
    Ok(routes)
}

/// Phone numbers to the SMS gateway, e-mail addresses to the mail server.
pub struct RoutedSender {
    sms: Option<Box<dyn TanSender>>,
    email: Option<Box<dyn TanSender>>,
}

#[async_trait::async_trait]
impl TanSender for RoutedSender {
    async fn send(&self, session_id: &str, destination: &str, tan: &str) -> Result<()> {
        let (sender, kind) =
            if destination.contains('@') { (&self.email, "e-mail addresses") } else { (&self.sms, "phone numbers") };
        let sender = sender
            .as_ref()
            .ok_or_else(|| Error::Config(format!("no TAN sender for {kind} is configured (IDENTDESK_TAN_SENDER)")))?;
        sender.send(session_id, destination, tan).await
    }
}

/// E-mail through an SMTP server (STARTTLS or TLS as its URL says).
pub struct SmtpSender {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl SmtpSender {
    pub fn new(url: &str, from: &str) -> Result<SmtpSender> {
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| Error::Config(format!("the SMTP URL is not usable: {e}")))?
            .build();
        let from = from.parse().map_err(|e| Error::Config(format!("IDENTDESK_TAN_FROM {from}: {e}")))?;
        Ok(SmtpSender { transport, from })
    }
}

#[async_trait::async_trait]
impl TanSender for SmtpSender {
    async fn send(&self, _session_id: &str, destination: &str, tan: &str) -> Result<()> {
        use lettre::AsyncTransport;
        let to = destination
            .parse()
            .map_err(|_| Error::InvalidBody("the TAN's destination is not a valid e-mail address".into()))?;
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject("Your video identification TAN")
            .body(format!("Your IdentDesk video identification TAN is {tan}. It is valid for 5 minutes.\n"))
            .map_err(|e| Error::Internal(format!("the TAN e-mail could not be written: {e}")))?;
        // The server's answer may echo the address: only its code goes to the error.
        self.transport.send(message).await.map_err(|e| {
            Error::Internal(format!(
                "the mail server refused the TAN e-mail ({})",
                e.status().map(|c| c.to_string()).unwrap_or_else(|| "unreachable".into())
            ))
        })?;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    /// A mail server as small as SMTP allows (RFC 5321's required commands), over real TCP:
    /// returns its port and the (recipients, message) it receives.
    async fn mail_server() -> (u16, tokio::sync::oneshot::Receiver<(Vec<String>, String)>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (got, received) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let (read, mut write) = socket.into_split();
            let mut lines = BufReader::new(read).lines();
            write.write_all(b"220 mail.test ESMTP\r\n").await.unwrap();
            let (mut recipients, mut data, mut in_data) = (Vec::new(), String::new(), false);
            while let Some(line) = lines.next_line().await.unwrap() {
                if in_data {
                    if line == "." {
                        in_data = false;
                        write.write_all(b"250 queued\r\n").await.unwrap();
                    } else {
                        data.push_str(&line);
                        data.push('\n');
                    }
                    continue;
                }
                let reply: &[u8] = match line.split(' ').next().unwrap_or("").to_ascii_uppercase().as_str() {
                    "EHLO" | "HELO" => b"250 mail.test\r\n",
                    "MAIL" => b"250 ok\r\n",
                    "RCPT" => {
                        recipients.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 ok\r\n"
                    }
                    "DATA" => {
                        in_data = true;
                        b"354 go on\r\n"
                    }
                    "QUIT" => {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    }
                    _ => b"250 ok\r\n",
                };
                write.write_all(reply).await.unwrap();
            }
            let _ = got.send((recipients, data));
        });
        (port, received)
    }

    #[tokio::test]
    async fn e_mail_tans_go_through_smtp_and_phone_numbers_need_a_gateway() {
        let (port, received) = mail_server().await;
        let sender = tan_sender(&format!("smtp://127.0.0.1:{port}"), "IdentDesk <tan@identdesk.test>").unwrap();
        sender.send("s-1", "vera@example.test", "482915").await.unwrap();
        let (recipients, message) = received.await.unwrap();
        assert_eq!(recipients, vec!["vera@example.test".to_owned()]);
        assert!(message.contains("482915"), "{message}");
        assert!(message.contains("From: IdentDesk <tan@identdesk.test>"), "{message}");
        let refused = sender.send("s-1", "+4915112345678", "482915").await.unwrap_err();
        assert!(refused.to_string().contains("no TAN sender for phone numbers"), "{refused}");
        assert!(tan_sender("ftp://x", "a@b.test").is_err(), "an unknown scheme is a configuration error");
    }
}
