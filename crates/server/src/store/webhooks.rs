//! Webhooks as stored: a tenant's endpoints, the cursor up to which its audit trail has been
//! turned into deliveries, and the deliveries with their attempts (the tenant's delivery log).

use rand::RngCore;
use serde_json::json;
use sqlx::Row;

use super::accounts::StaffUser;
use super::audit::{self, Actor};
use super::{int_column, new_id, now_ms, optional_int_column, Store};
use crate::error::{Error, Result};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    pub id: String,
    pub endpoint_id: String,
    /// `applicantCreated`, `applicantPending`, `applicantReviewed`, `applicantOnHold`,
    /// `applicantDeleted` or `videoIdentStatusChanged`.
    pub event_type: String,
    pub applicant_id: Option<String>,
    /// `pending` (waiting for its next attempt), `delivered` or `failed` (retries used up).
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at_ms: Option<i64>,
    /// The receiver's HTTP status at the last attempt.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub delivered_at_ms: Option<i64>,
}

/// A delivery to attempt now, with what signing and sending it needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: String,
    pub tenant_id: String,
    pub url: String,
    pub secret: String,
    pub event_type: String,
    pub body: String,
    pub attempts: i64,
}

/// A delivery to make for each of the tenant's endpoints.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub event_type: &'static str,
    pub applicant_id: Option<String>,
    pub audit_seq: i64,
    pub body: String,
}

/// How an attempt went.
#[derive(Debug, Clone)]
pub enum Attempt {
    Delivered {
        status: u16,
    },
    /// Failed; tried again at `retry_at_ms`, or never when `None`.
    Failed {
        status: Option<u16>,
        error: String,
        retry_at_ms: Option<i64>,
    },
}

const DELIVERY_COLUMNS: &str = "id, endpoint_id, event_type, applicant_id, state, attempts, next_attempt_at_ms, \
                                last_status, last_error, created_at_ms, delivered_at_ms";

fn delivery_from_row(r: &sqlx::any::AnyRow) -> Result<WebhookDelivery> {
    Ok(WebhookDelivery {
        id: r.try_get("id")?,
        endpoint_id: r.try_get("endpoint_id")?,
        event_type: r.try_get("event_type")?,
        applicant_id: r.try_get("applicant_id")?,
        state: r.try_get("state")?,
        attempts: int_column(r, "attempts")?,
        next_attempt_at_ms: r.try_get("next_attempt_at_ms")?,
        last_status: optional_int_column(r, "last_status")?,
        last_error: r.try_get("last_error")?,
        created_at_ms: r.try_get("created_at_ms")?,
        delivered_at_ms: r.try_get("delivered_at_ms")?,
    })
}

impl Store {
    /// Adds an endpoint for the admin's tenant; returns it with its signing secret (shown
    /// once). Deliveries start with the audit trail's next event, not its history.
    pub async fn add_webhook_endpoint(&self, admin: &StaffUser, url: &str) -> Result<(WebhookEndpoint, String)> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|_| Error::InvalidBody(format!("{url} is not a URL: give the receiver's http(s) address")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::InvalidBody("a webhook URL is http:// or https://".into()));
        }
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let secret = hex::encode(secret);
        let endpoint = WebhookEndpoint { id: new_id(), url: url.to_owned(), created_at_ms: now_ms() };
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, tenant_id, url, secret, created_at_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&endpoint.id)
        .bind(&admin.tenant_id)
        .bind(&endpoint.url)
        .bind(&secret)
        .bind(endpoint.created_at_ms)
        .execute(&mut *tx)
        .await?;
        let seq = audit::append(
            &mut tx,
            &admin.tenant_id,
            &Actor::User(admin.id.clone()),
            "webhook.endpoint_added",
            &format!("webhook:{}", endpoint.id),
            json!({"url": endpoint.url}),
        )
        .await?;
        sqlx::query("INSERT INTO webhook_cursors (tenant_id, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(&admin.tenant_id)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((endpoint, secret))
    }

    pub async fn webhook_endpoints(&self, tenant_id: &str) -> Result<Vec<WebhookEndpoint>> {
        let rows = sqlx::query(
            "SELECT id, url, created_at_ms FROM webhook_endpoints \
             WHERE tenant_id = $1 AND disabled_at_ms IS NULL ORDER BY created_at_ms",
        )
        .bind(tenant_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WebhookEndpoint {
                    id: r.try_get("id")?,
                    url: r.try_get("url")?,
                    created_at_ms: r.try_get("created_at_ms")?,
                })
            })
            .collect()
    }

    /// The tenant's delivery log, newest first.
    pub async fn webhook_deliveries(&self, tenant_id: &str, limit: i64) -> Result<Vec<WebhookDelivery>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 \
             ORDER BY created_at_ms DESC, id DESC LIMIT $2"
        ))
        .bind(tenant_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    /// Sends a delivery again, as a new delivery with the same body, due now.
    pub async fn resend_webhook(&self, user: &StaffUser, delivery_id: &str) -> Result<WebhookDelivery> {
        let row = sqlx::query(
            "SELECT endpoint_id, event_type, applicant_id, body FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&user.tenant_id)
        .bind(delivery_id)
        .fetch_optional(self.reader())
        .await?
        .ok_or(Error::NotFound("webhook delivery"))?;
        let id = new_id();
        let now = now_ms();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_type, applicant_id, audit_seq, body, \
             state, attempts, next_attempt_at_ms, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, NULL, $6, 'pending', 0, $7, $7)",
        )
        .bind(&id)
        .bind(&user.tenant_id)
        .bind(row.try_get::<String, _>("endpoint_id")?)
        .bind(row.try_get::<String, _>("event_type")?)
        .bind(row.try_get::<Option<String>, _>("applicant_id")?)
        .bind(row.try_get::<String, _>("body")?)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &user.tenant_id,
            &Actor::User(user.id.clone()),
            "webhook.resent",
            &format!("webhook-delivery:{delivery_id}"),
            json!({"newDeliveryId": id}),
        )
        .await?;
        tx.commit().await?;
        let row = sqlx::query(&format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1"))
            .bind(&id)
            .fetch_one(self.reader())
            .await?;
        delivery_from_row(&row)
    }

    /// Tenants with an endpoint, each with how far its audit trail was turned into deliveries.
    pub async fn webhook_cursors(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT c.tenant_id, c.seq FROM webhook_cursors c WHERE EXISTS \
             (SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = c.tenant_id AND e.disabled_at_ms IS NULL)",
        )
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| Ok((r.try_get("tenant_id")?, r.try_get("seq")?))).collect()
    }

    /// Makes `deliveries` for each of the tenant's endpoints and moves its cursor from `from`
    /// to `to`, in one transaction; another worker that moved the cursor first wins.
    pub async fn enqueue_webhooks(
        &self,
        tenant_id: &str,
        from: i64,
        to: i64,
        deliveries: &[NewDelivery],
    ) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let moved = sqlx::query("UPDATE webhook_cursors SET seq = $1 WHERE tenant_id = $2 AND seq = $3")
            .bind(to)
            .bind(tenant_id)
            .bind(from)
            .execute(&mut *tx)
            .await?;
        if moved.rows_affected() == 0 {
            return Ok(());
        }
        let endpoints: Vec<String> =
            sqlx::query("SELECT id FROM webhook_endpoints WHERE tenant_id = $1 AND disabled_at_ms IS NULL")
                .bind(tenant_id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<Result<_, _>>()?;
        for endpoint in &endpoints {
            for d in deliveries {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_type, applicant_id, audit_seq, \
                     body, state, attempts, next_attempt_at_ms, created_at_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8) ON CONFLICT DO NOTHING",
                )
                .bind(new_id())
                .bind(tenant_id)
                .bind(endpoint)
                .bind(d.event_type)
                .bind(d.applicant_id.as_deref())
                .bind(d.audit_seq)
                .bind(&d.body)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deliveries due now, each taken for `lease_ms` so that no other worker sends it meanwhile.
    pub async fn take_due_webhooks(&self, limit: i64, lease_ms: i64) -> Result<Vec<DueDelivery>> {
        let now = now_ms();
        let rows = sqlx::query(
            "SELECT d.id, d.tenant_id, e.url, e.secret, d.event_type, d.body, d.attempts, d.next_attempt_at_ms \
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE d.state = 'pending' AND d.next_attempt_at_ms <= $1 ORDER BY d.next_attempt_at_ms LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        let mut due = Vec::new();
        for r in &rows {
            let id: String = r.try_get("id")?;
            let taken = sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at_ms = $1 WHERE id = $2 AND next_attempt_at_ms = $3 \
                 AND state = 'pending'",
            )
            .bind(now + lease_ms)
            .bind(&id)
            .bind(r.try_get::<i64, _>("next_attempt_at_ms")?)
            .execute(self.writer())
            .await?;
            if taken.rows_affected() == 1 {
                due.push(DueDelivery {
                    id,
                    tenant_id: r.try_get("tenant_id")?,
                    url: r.try_get("url")?,
                    secret: r.try_get("secret")?,
                    event_type: r.try_get("event_type")?,
                    body: r.try_get("body")?,
                    attempts: int_column(r, "attempts")?,
                });
            }
        }
        Ok(due)
    }

    /// Records an attempt's outcome.
    pub async fn webhook_attempted(&self, id: &str, attempt: &Attempt) -> Result<()> {
        let now = now_ms();
        let query = match attempt {
            Attempt::Delivered { status } => sqlx::query(
                "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_status = $1, \
                 last_error = NULL, delivered_at_ms = $2, next_attempt_at_ms = NULL WHERE id = $3",
            )
            .bind(i64::from(*status))
            .bind(now)
            .bind(id),
            Attempt::Failed { status, error, retry_at_ms } => sqlx::query(
                "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, last_status = $2, last_error = $3, \
                 next_attempt_at_ms = $4 WHERE id = $5",
            )
            .bind(if retry_at_ms.is_some() { "pending" } else { "failed" })
            .bind(status.map(i64::from))
            .bind(error.clone())
            .bind(*retry_at_ms)
            .bind(id),
        };
        query.execute(self.writer()).await?;
        Ok(())
    }
}
