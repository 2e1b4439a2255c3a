//! The per-tenant audit chain in the database. Every state change appends its event in the
//! same transaction. The tenant's chain head row is the lock that orders a tenant's events
//! (tenants never wait on each other), and its sequence number doubles as the change-feed
//! cursor: commit order and cursor order are the same, so a feed reader never skips a change.

use std::collections::HashMap;

use identdesk_domain::{AuditEvent, ChainVerifier, GENESIS_HASH};
use serde_json::json;
use sqlx::Row;

use super::bulk::{self, BulkWrite, Col};
use super::{now_ms, Backend, Store, Tx};
use crate::error::{Error, Result};

/// Who did something.
#[derive(Debug, Clone)]
pub enum Actor {
    User(String),
    ApiKey(String),
    /// The applicant, on their own video page.
    Applicant(String),
    System,
}

impl Actor {
    pub fn as_text(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::ApiKey(id) => format!("apikey:{id}"),
            Actor::Applicant(id) => format!("applicant:{id}"),
            Actor::System => "system".to_owned(),
        }
    }
}

/// An event about to join its tenant's chain.
pub struct NewEvent {
    pub tenant_id: String,
    pub actor: String,
    pub action: &'static str,
    pub subject: String,
    /// JSON text; never personal data.
    pub detail: String,
}

/// Appends an event to the tenant's chain inside `tx` and returns its sequence number.
pub async fn append(
    tx: &mut Tx,
    tenant_id: &str,
    actor: &Actor,
    action: &'static str,
    subject: &str,
    detail: serde_json::Value,
) -> Result<i64> {
    let event = NewEvent {
        tenant_id: tenant_id.to_owned(),
        actor: actor.as_text(),
        action,
        subject: subject.to_owned(),
        detail: detail.to_string(),
    };
    Ok(append_many(tx, std::slice::from_ref(&event)).await?[0])
}

/// Appends events to their tenants' chains inside `tx`; returns each one's sequence number.
pub async fn append_many(tx: &mut Tx, events: &[NewEvent]) -> Result<Vec<i64>> {
    let sealed = seal(tx, events).await?;
    bulk::execute(tx, &chain_writes(&sealed)).await?;
    Ok(sealed.iter().map(|e| e.seq).collect())
}

/// Reserves the events' sequence numbers and seals them, in the order given; they are written
/// by `chain_writes` in the same transaction. Per tenant, one head update takes the head's
/// lock, which orders the tenant's events by commit. Returns the events in the order given.
pub(crate) async fn seal(tx: &mut Tx, events: &[NewEvent]) -> Result<Vec<AuditEvent>> {
    let now = now_ms();
    let mut sealed: Vec<Option<AuditEvent>> = events.iter().map(|_| None).collect();
    let mut tenants: Vec<&str> = events.iter().map(|e| e.tenant_id.as_str()).collect();
    tenants.sort_unstable();
    tenants.dedup();
    // Heads are locked in tenant order, so two writers never wait on each other in a circle.
    for tenant in tenants {
        let mine: Vec<usize> = (0..events.len()).filter(|&i| events[i].tenant_id == tenant).collect();
        let head = sqlx::query("UPDATE audit_heads SET seq = seq + $1 WHERE tenant_id = $2 RETURNING seq, hash")
            .bind(mine.len() as i64)
            .bind(tenant)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let first = head.try_get::<i64, _>("seq")? - mine.len() as i64 + 1;
        let mut prev_hash: String = head.try_get("hash")?;
        for (n, &i) in mine.iter().enumerate() {
            let e = &events[i];
            let event = AuditEvent {
                tenant_id: e.tenant_id.clone(),
                seq: first + n as i64,
                at_ms: now,
                actor: e.actor.clone(),
                action: e.action.to_owned(),
                subject: e.subject.clone(),
                detail: e.detail.clone(),
                prev_hash,
                hash: String::new(),
            }
            .sealed();
            prev_hash = event.hash.clone();
            sealed[i] = Some(event);
        }
    }
    Ok(sealed.into_iter().map(|e| e.expect("every event belongs to a tenant")).collect())
}

/// The writes that store sealed events and point each tenant's head at its newest event.
pub(crate) fn chain_writes(sealed: &[AuditEvent]) -> [BulkWrite; 2] {
    let mut heads: HashMap<&str, &str> = HashMap::new();
    for e in sealed {
        // Sealed in order per tenant: the last one seen is the newest.
        heads.insert(&e.tenant_id, &e.hash);
    }
    [
        BulkWrite {
            head: "INSERT INTO audit_events (tenant_id, seq, at_ms, actor, action, subject, detail, prev_hash, hash) \
                   SELECT v.tenant_id, v.seq, v.at_ms, v.actor, v.action, v.subject, v.detail, v.prev_hash, v.hash FROM ",
            columns: &[
                ("tenant_id", Col::Text),
                ("seq", Col::Int),
                ("at_ms", Col::Int),
                ("actor", Col::Text),
                ("action", Col::Text),
                ("subject", Col::Text),
                ("detail", Col::Text),
                ("prev_hash", Col::Text),
                ("hash", Col::Text),
            ],
            key: None,
            rows: sealed
                .iter()
                .map(|e| {
                    json!({"tenant_id": e.tenant_id, "seq": e.seq, "at_ms": e.at_ms, "actor": e.actor,
                           "action": e.action, "subject": e.subject, "detail": e.detail,
                           "prev_hash": e.prev_hash, "hash": e.hash})
                })
                .collect(),
        },
        BulkWrite {
            head: "UPDATE audit_heads SET hash = v.hash FROM ",
            columns: &[("tenant_id", Col::Text), ("hash", Col::Text)],
            key: Some(("audit_heads.tenant_id", "tenant_id")),
            rows: heads.into_iter().map(|(tenant_id, hash)| json!({"tenant_id": tenant_id, "hash": hash})).collect(),
        },
    ]
}

/// Starts a tenant's chain; called in the transaction that creates the tenant.
pub async fn start_chain(tx: &mut Tx, tenant_id: &str) -> Result<()> {
    sqlx::query("INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, $2)")
        .bind(tenant_id)
        .bind(GENESIS_HASH)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn event_from_row(row: &sqlx::any::AnyRow) -> Result<AuditEvent> {
    Ok(AuditEvent {
        tenant_id: row.try_get("tenant_id")?,
        seq: row.try_get("seq")?,
        at_ms: row.try_get("at_ms")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        subject: row.try_get("subject")?,
        detail: row.try_get("detail")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

const EVENT_COLUMNS: &str = "tenant_id, seq, at_ms, actor, action, subject, detail, prev_hash, hash";

/// The result of a successful verification.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChainReport {
    pub tenant_id: String,
    pub verified_events: i64,
    pub head_hash: String,
}

/// The tenant's chain head as the store recorded it: (seq, hash).
async fn chain_head(tx: &mut sqlx::Transaction<'_, sqlx::Any>, tenant_id: &str) -> Result<(i64, String)> {
    let head = sqlx::query("SELECT seq, hash FROM audit_heads WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(Error::NotFound("tenant"))?;
    Ok((head.try_get("seq")?, head.try_get("hash")?))
}

impl Store {
    /// Events of a tenant after sequence number `after`, oldest first.
    pub async fn audit_events(&self, tenant_id: &str, after: i64, limit: i64) -> Result<Vec<AuditEvent>> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        ))
        .bind(tenant_id)
        .bind(after)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The events about any of `subjects` (e.g. `case:<id>`, `applicant:<id>`), oldest first,
    /// at most `limit`.
    pub async fn subject_events(&self, tenant_id: &str, subjects: &[String], limit: i64) -> Result<Vec<AuditEvent>> {
        // `+seq`: ordering by an expression keeps SQLite on the subject index; by `seq` itself
        // it walks the tenant's whole chain in order (seconds with 100,000 cases).
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events WHERE tenant_id = $1 AND {} ORDER BY +seq LIMIT $3",
            bulk::json_in(self.backend() == Backend::Postgres, "subject", 2)
        );
        let rows = sqlx::query(&sql)
            .bind(tenant_id)
            .bind(serde_json::to_string(subjects).expect("strings serialise"))
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The newest sequence number of a tenant's chain: the change feed's current cursor.
    pub async fn head_seq(&self, tenant_id: &str) -> Result<i64> {
        let row = sqlx::query("SELECT seq FROM audit_heads WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        Ok(row.try_get("seq")?)
    }

    /// Recomputes a tenant's whole chain; names the first event that does not verify.
    /// The tenant's whole chain with its head (seq, hash), as one snapshot: what an auditor
    /// takes away to verify elsewhere.
    pub async fn audit_chain(&self, tenant_id: &str) -> Result<(i64, String, Vec<AuditEvent>)> {
        let mut tx = self.reader().begin().await?;
        let (head_seq, head_hash) = chain_head(&mut tx, tenant_id).await?;
        let rows = sqlx::query(&format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE tenant_id = $1 ORDER BY seq"))
            .bind(tenant_id)
            .fetch_all(&mut *tx)
            .await?;
        let events = rows.iter().map(event_from_row).collect::<Result<Vec<_>>>()?;
        Ok((head_seq, head_hash, events))
    }

    pub async fn verify_chain(&self, tenant_id: &str) -> Result<ChainReport> {
        // One read transaction so that the head and the events are the same snapshot.
        let mut tx = self.reader().begin().await?;
        let (head_seq, head_hash) = chain_head(&mut tx, tenant_id).await?;
        let mut verifier = ChainVerifier::default();
        let mut after = 0i64;
        let broken = |b: identdesk_domain::ChainBreak| Error::AuditChainBroken {
            tenant: tenant_id.to_owned(),
            seq: b.seq,
            reason: b.reason,
        };
        loop {
            let rows = sqlx::query(&format!(
                "SELECT {EVENT_COLUMNS} FROM audit_events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT 5000"
            ))
            .bind(tenant_id)
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let event = event_from_row(row)?;
                verifier.push(&event).map_err(broken)?;
                after = event.seq;
            }
        }
        tx.commit().await?;
        let verified_events = verifier.finish(head_seq, &head_hash).map_err(broken)?;
        Ok(ChainReport { tenant_id: tenant_id.to_owned(), verified_events, head_hash })
    }
}

impl Store {
    /// Records an event that changes nothing else, such as a view of personal data.
    pub async fn record(
        &self,
        tenant_id: &str,
        actor: &Actor,
        action: &'static str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let seq = append(&mut tx, tenant_id, actor, action, subject, detail).await?;
        tx.commit().await?;
        Ok(seq)
    }
}
