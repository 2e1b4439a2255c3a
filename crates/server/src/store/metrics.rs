//! The counts `/metrics` exposes, per tenant: the queue, SLA breaches, decisions and webhook
//! deliveries. Aggregates only: no row of personal data leaves here.

use sqlx::Row;

use super::{now_ms, Store};
use crate::error::Result;

/// One sample: the metric's labels (name, value) and its value.
pub type Sample = (Vec<(&'static str, String)>, i64);

#[derive(Debug, Default)]
pub struct Counts {
    pub queue_depth: Vec<Sample>,
    pub sla_breaches: Vec<Sample>,
    pub decisions: Vec<Sample>,
    pub webhook_deliveries: Vec<Sample>,
    pub webhook_failed_attempts: Vec<Sample>,
}

/// A COUNT or SUM; a SUM over no rows is NULL, counted as 0.
fn count(row: &sqlx::any::AnyRow, column: &str) -> Result<i64> {
    Ok(super::optional_int_column(row, column)?.unwrap_or(0))
}

impl Store {
    pub async fn metric_counts(&self) -> Result<Counts> {
        let mut counts = Counts::default();
        let open = "state IN ('queued', 'claimed', 'escalated', 'on_hold')";
        for r in sqlx::query(&format!(
            "SELECT tenant_id, kind, state, COUNT(*) AS n FROM cases WHERE {open} GROUP BY tenant_id, kind, state"
        ))
        .fetch_all(self.reader())
        .await?
        {
            let labels =
                vec![("tenant", r.try_get("tenant_id")?), ("kind", r.try_get("kind")?), ("state", r.try_get("state")?)];
            counts.queue_depth.push((labels, count(&r, "n")?));
        }
        for r in sqlx::query(&format!(
            "SELECT tenant_id, COUNT(*) AS n FROM cases WHERE {open} AND due_at_ms < $1 GROUP BY tenant_id"
        ))
        .bind(now_ms())
        .fetch_all(self.reader())
        .await?
        {
            counts.sla_breaches.push((vec![("tenant", r.try_get("tenant_id")?)], count(&r, "n")?));
        }
        for r in sqlx::query("SELECT tenant_id, answer, COUNT(*) AS n FROM decisions GROUP BY tenant_id, answer")
            .fetch_all(self.reader())
            .await?
        {
            counts
                .decisions
                .push((vec![("tenant", r.try_get("tenant_id")?), ("answer", r.try_get("answer")?)], count(&r, "n")?));
        }
        for r in sqlx::query(
            "SELECT tenant_id, state, COUNT(*) AS n, \
             SUM(CASE WHEN state = 'delivered' THEN attempts - 1 ELSE attempts END) AS failed \
             FROM webhook_deliveries GROUP BY tenant_id, state",
        )
        .fetch_all(self.reader())
        .await?
        {
            let tenant: String = r.try_get("tenant_id")?;
            counts
                .webhook_deliveries
                .push((vec![("tenant", tenant.clone()), ("state", r.try_get("state")?)], count(&r, "n")?));
            counts
                .webhook_failed_attempts
                .push((vec![("tenant", tenant), ("state", r.try_get("state")?)], count(&r, "failed")?));
        }
        Ok(counts)
    }
}
