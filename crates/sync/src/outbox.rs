//! Decisions on their way to the server. A decision is in the outbox, on disk, before the UI
//! says "saved"; it leaves the outbox only when the server has answered. Each carries its own
//! idempotency key, so sending it again after a crash or a lost answer never decides twice.

use identdesk_domain::DecisionInput;
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use crate::cache::{now_ms, parse, Cache};
use crate::error::{Result, SyncError};

/// A decision in the outbox.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxItem {
    pub seq: i64,
    pub case_id: String,
    pub idempotency_key: String,
    pub input: DecisionInput,
    /// `pending`, `sent` or `conflict`.
    pub state: String,
    pub attempts: i64,
    pub created_at_ms: i64,
}

/// A decision the server refused: the reviewer's version and the server's, side by side.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    pub item: OutboxItem,
    pub code: String,
    pub message: String,
    /// The case as the server has it now, with its decision if there is one.
    pub server: Option<Value>,
}

fn item(row: &sqlx::sqlite::SqliteRow) -> Result<OutboxItem> {
    let body: String = row.try_get("body")?;
    Ok(OutboxItem {
        seq: row.try_get("seq")?,
        case_id: row.try_get("case_id")?,
        idempotency_key: row.try_get("idempotency_key")?,
        input: serde_json::from_str(&body).map_err(|e| SyncError::Protocol(format!("outbox entry: {e}")))?,
        state: row.try_get("state")?,
        attempts: row.try_get("attempts")?,
        created_at_ms: row.try_get("created_at_ms")?,
    })
}

const ITEM_COLUMNS: &str = "seq, case_id, idempotency_key, body, state, attempts, created_at_ms";

impl Cache {
    /// Puts a decision in the outbox; when this returns, it is on disk.
    pub async fn enqueue(&self, case_id: &str, input: &DecisionInput) -> Result<OutboxItem> {
        let key = format!("desk-{}", uuid::Uuid::new_v4());
        let body = serde_json::to_string(input).expect("a decision serialises");
        let row = sqlx::query(&format!(
            "INSERT INTO outbox (case_id, idempotency_key, body, state, created_at_ms) \
             VALUES (?, ?, ?, 'pending', ?) RETURNING {ITEM_COLUMNS}"
        ))
        .bind(case_id)
        .bind(&key)
        .bind(body)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        item(&row)
    }

    /// Decisions not yet confirmed, oldest first.
    pub async fn pending(&self) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(&format!("SELECT {ITEM_COLUMNS} FROM outbox WHERE state = 'pending' ORDER BY seq"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(item).collect()
    }

    pub async fn outbox(&self) -> Result<Vec<OutboxItem>> {
        let rows =
            sqlx::query(&format!("SELECT {ITEM_COLUMNS} FROM outbox ORDER BY seq")).fetch_all(&self.pool).await?;
        rows.iter().map(item).collect()
    }

    /// The server has the decision; its answer is kept for the reviewer's screen.
    pub(crate) async fn mark_sent(&self, seq: i64, decision: &Value) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at_ms = ?, server_decision_id = ?, server_body = ?, \
             attempts = attempts + 1 WHERE seq = ?",
        )
        .bind(now_ms())
        .bind(decision["id"].as_str())
        .bind(decision.to_string())
        .bind(seq)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn mark_failed_attempt(&self, seq: i64, error: &SyncError) -> Result<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, error_code = ?, error_message = ? WHERE seq = ?")
            .bind(error.code())
            .bind(error.to_string())
            .bind(seq)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn mark_conflict(
        &self,
        seq: i64,
        code: &str,
        message: &str,
        server: Option<&Value>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'conflict', attempts = attempts + 1, error_code = ?, error_message = ?, \
             server_body = ? WHERE seq = ?",
        )
        .bind(code)
        .bind(message)
        .bind(server.map(Value::to_string))
        .bind(seq)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Decisions the server refused, for the reviewer to see both versions.
    pub async fn conflicts(&self) -> Result<Vec<Conflict>> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS}, error_code, error_message, server_body FROM outbox WHERE state = 'conflict' ORDER BY seq"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let server: Option<String> = r.try_get("server_body")?;
                Ok(Conflict {
                    item: item(r)?,
                    code: r.try_get::<Option<String>, _>("error_code")?.unwrap_or_default(),
                    message: r.try_get::<Option<String>, _>("error_message")?.unwrap_or_default(),
                    server: server.as_deref().map(parse).transpose()?,
                })
            })
            .collect()
    }

    /// An outbox entry's state now, and the server's answer when it has one.
    pub async fn outbox_entry(&self, seq: i64) -> Result<(String, Option<Value>)> {
        let row =
            sqlx::query("SELECT state, server_body FROM outbox WHERE seq = ?").bind(seq).fetch_one(&self.pool).await?;
        let body: Option<String> = row.try_get("server_body")?;
        Ok((row.try_get("state")?, body.as_deref().map(parse).transpose()?))
    }

    /// The reviewer has seen a conflict: it leaves the list.
    pub async fn dismiss_conflict(&self, seq: i64) -> Result<()> {
        sqlx::query("DELETE FROM outbox WHERE seq = ? AND state = 'conflict'").bind(seq).execute(&self.pool).await?;
        Ok(())
    }
}
