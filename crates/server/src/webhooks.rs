//! Webhooks to client systems. What happened is read from the tenant's audit trail (written in
//! the same transaction as every change, so nothing is missed and the hot paths are untouched),
//! turned into `applicantCreated`, `applicantPending`, `applicantReviewed`, `applicantOnHold`,
//! `applicantDeleted` and `videoIdentStatusChanged` deliveries, and sent signed
//! (HMAC-SHA256 of the body, hex, in `X-Payload-Digest`), retried on a schedule (by default
//! 5 min, 1 h, 5 h, 18 h after the failed attempts) until the receiver answers 2xx.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use identdesk_domain::AuditEvent;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::api::AppState;
use crate::error::{Error, Result};
use crate::store::webhooks::{Attempt, DueDelivery, NewDelivery};
use crate::store::Store;

pub struct WebhookConfig {
    /// The waits after each failed attempt; when they are used up the delivery fails.
    pub retry_schedule: Vec<Duration>,
    /// How often the worker looks for news and due deliveries.
    pub tick: Duration,
    pub client: reqwest::Client,
}

impl WebhookConfig {
    pub fn new(retry_schedule: Vec<Duration>, tick: Duration) -> WebhookConfig {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .expect("the HTTP client builds");
        WebhookConfig { retry_schedule, tick, client }
    }

    /// `IDENTDESK_WEBHOOK_RETRIES` (e.g. `5m,1h,5h,18h`, the default; units ms, s, m, h).
    pub fn from_env() -> Result<WebhookConfig> {
        let spec = std::env::var("IDENTDESK_WEBHOOK_RETRIES").unwrap_or_else(|_| DEFAULT_RETRIES.into());
        Ok(WebhookConfig::new(parse_schedule(&spec)?, Duration::from_secs(1)))
    }
}

/// The waits after each failed attempt unless configured otherwise.
const DEFAULT_RETRIES: &str = "5m,1h,5h,18h";

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig::new(parse_schedule(DEFAULT_RETRIES).expect("the default parses"), Duration::from_secs(1))
    }
}

fn parse_schedule(spec: &str) -> Result<Vec<Duration>> {
    spec.split(',').map(|s| parse_duration(s.trim())).collect()
}

fn parse_duration(s: &str) -> Result<Duration> {
    let bad = || Error::Config(format!("IDENTDESK_WEBHOOK_RETRIES: {s} is not a duration like 300ms, 5m or 1h"));
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let n: u64 = s[..split].parse().map_err(|_| bad())?;
    Ok(match &s[split..] {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(bad()),
    })
}

/// The signature a receiver checks: HMAC-SHA256 of the exact body with the endpoint's secret.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The webhook an audit event stands for, if any; `applicant` is the applicant it concerns.
fn webhook_of(event: &AuditEvent, applicant: Option<&str>) -> Option<(&'static str, Value)> {
    let detail: Value = serde_json::from_str(&event.detail).unwrap_or_default();
    let video = |status: &str| ("videoIdentStatusChanged", json!({"videoIdentStatus": status}));
    let (kind, extra) = match event.action.as_str() {
        "applicant.created" => ("applicantCreated", json!({})),
        "applicant.submitted" => ("applicantPending", json!({})),
        // The pipeline decided on its own (GREEN, or RED where the tenant allows it).
        "applicant.checked" if detail["answer"] == "GREEN" || detail["answer"] == "RED" => (
            "applicantReviewed",
            json!({"reviewResult": {"reviewAnswer": detail["answer"], "rejectLabels": detail["labels"]}}),
        ),
        // A decision that counts: a review's, a supervisor's, or a staged one a checker confirmed.
        "case.decided" | "decision.confirmed" => (
            "applicantReviewed",
            json!({"reviewResult": {"reviewAnswer": detail["answer"], "reviewRejectType": detail["rejectType"],
                                     "rejectLabels": detail["labels"]}}),
        ),
        "case.on_hold" => ("applicantOnHold", json!({})),
        "applicant.erased" => ("applicantDeleted", json!({})),
        "video.invited" => video("invited"),
        "video.consent" => video("waiting"),
        "video.call_started" => video("in_call"),
        "video.completed" => video("completed"),
        "video.aborted" => video("aborted"),
        _ => return None,
    };
    let mut body = json!({
        "type": kind,
        "applicantId": applicant,
        "createdAtMs": event.at_ms,
        "correlationId": format!("{}:{}", event.tenant_id, event.seq),
    });
    if let (Some(map), Value::Object(more)) = (body.as_object_mut(), extra) {
        map.extend(more);
    }
    Some((kind, body))
}

/// The applicant an event's subject leads to (`applicant:`, `case:` or `video:`).
async fn applicant_of(store: &Store, event: &AuditEvent) -> Option<String> {
    let (kind, id) = event.subject.split_once(':')?;
    match kind {
        "applicant" => Some(id.to_owned()),
        "case" => store.case(&event.tenant_id, id).await.ok().map(|c| c.applicant_id),
        "video" => store.video_session(&event.tenant_id, id).await.ok().map(|s| s.applicant_id),
        _ => None,
    }
}

/// Turns each tenant's new audit events into deliveries.
async fn fan_out(store: &Store) -> Result<()> {
    for (tenant_id, cursor) in store.webhook_cursors().await? {
        let events = store.audit_events(&tenant_id, cursor, 500).await?;
        let Some(last) = events.last().map(|e| e.seq) else { continue };
        let mut deliveries = Vec::new();
        for event in &events {
            let applicant = applicant_of(store, event).await;
            if let Some((event_type, body)) = webhook_of(event, applicant.as_deref()) {
                deliveries.push(NewDelivery {
                    event_type,
                    applicant_id: applicant,
                    audit_seq: event.seq,
                    body: body.to_string(),
                });
            }
        }
        store.enqueue_webhooks(&tenant_id, cursor, last, &deliveries).await?;
    }
    Ok(())
}

/// One attempt at one delivery.
async fn attempt(config: &WebhookConfig, delivery: &DueDelivery) -> Attempt {
    let sent = config
        .client
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("x-payload-digest", signature(&delivery.secret, delivery.body.as_bytes()))
        .header("x-payload-digest-alg", "HMAC_SHA256_HEX")
        .header("x-webhook-id", &delivery.id)
        .header("x-webhook-attempt", (delivery.attempts + 1).to_string())
        .body(delivery.body.clone())
        .send()
        .await;
    let retry_at_ms = config
        .retry_schedule
        .get(delivery.attempts as usize)
        .map(|wait| crate::store::now_ms() + wait.as_millis() as i64);
    match sent {
        Ok(answer) if answer.status().is_success() => Attempt::Delivered { status: answer.status().as_u16() },
        Ok(answer) => Attempt::Failed {
            status: Some(answer.status().as_u16()),
            error: format!("the receiver answered {}", answer.status()),
            retry_at_ms,
        },
        Err(e) => Attempt::Failed { status: None, error: format!("not delivered: {}", e.without_url()), retry_at_ms },
    }
}

/// Fans out news and sends due deliveries until the server stops.
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    let config: Arc<WebhookConfig> = state.webhooks.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(config.tick);
        loop {
            tick.tick().await;
            if let Err(e) = fan_out(&state.store).await {
                tracing::warn!(error = %e, "webhook fan-out failed");
            }
            let due = match state.store.take_due_webhooks(50, 60_000).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook deliveries could not be read");
                    continue;
                }
            };
            for delivery in due {
                let outcome = attempt(&config, &delivery).await;
                if let Attempt::Failed { error, .. } = &outcome {
                    // The URL and body stay out of the log: ids and the reason only.
                    tracing::info!(delivery = %delivery.id, tenant = %delivery.tenant_id, kind = %delivery.event_type, "webhook attempt failed: {error}");
                }
                if let Err(e) = state.store.webhook_attempted(&delivery.id, &outcome).await {
                    tracing::warn!(error = %e, "webhook outcome not recorded");
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_signatures() {
        assert_eq!(parse_duration("300ms").unwrap(), Duration::from_millis(300));
        assert_eq!(parse_duration("18h").unwrap(), Duration::from_secs(18 * 3600));
        assert!(parse_duration("5 minutes").is_err());
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
