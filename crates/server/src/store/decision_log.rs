//! The decision log and reviewer statistics supervisors read: decisions filtered by period,
//! reviewer, answer and label, and per reviewer the counts, decisions per hour, time to
//! decision and labels used.

use std::collections::BTreeMap;

use identdesk_domain::{Answer, RejectLabel};
use sqlx::Row;

use super::cases::{decision_from_row, Decision};
use super::Store;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DecisionFilter {
    /// Decided at or after (ms since the epoch).
    pub from_ms: Option<i64>,
    /// Decided before (ms since the epoch).
    pub to_ms: Option<i64>,
    pub reviewer_id: Option<String>,
    pub answer: Option<Answer>,
    pub label: Option<RejectLabel>,
    /// At most 1000; 100 when absent.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionPage {
    pub items: Vec<Decision>,
    pub total: i64,
}

/// One reviewer's work over a period.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewerStats {
    pub reviewer_id: String,
    pub email: String,
    pub decisions: i64,
    pub green: i64,
    pub red: i64,
    /// Median time from the case entering the queue to its decision.
    pub median_ms_to_decision: i64,
    /// Oldest first; hours without decisions left out.
    pub per_hour: Vec<HourCount>,
    /// Most used first.
    pub labels: Vec<LabelCount>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HourCount {
    /// The hour's start, ms since the epoch.
    pub hour_ms: i64,
    pub decisions: i64,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LabelCount {
    pub label: String,
    pub count: i64,
}

const HOUR_MS: i64 = 3_600_000;

impl Store {
    pub async fn decision_log(&self, tenant_id: &str, f: &DecisionFilter) -> Result<DecisionPage> {
        let limit = f.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(Error::InvalidQuery("limit must be 1 to 1000".into()));
        }
        let (clause, binds) = where_clause(tenant_id, f);
        let count_sql = format!("SELECT COUNT(*) AS n FROM decisions d WHERE {clause}");
        let mut count = sqlx::query(&count_sql);
        for b in &binds {
            count = count.bind(b);
        }
        let total: i64 = count.fetch_one(self.reader()).await?.try_get("n")?;
        let sql = format!(
            "SELECT d.* FROM decisions d WHERE {clause} ORDER BY d.decided_at_ms DESC, d.id LIMIT {limit} OFFSET {}",
            f.offset.unwrap_or(0).max(0)
        );
        let mut query = sqlx::query(&sql);
        for b in &binds {
            query = query.bind(b);
        }
        let items = query.fetch_all(self.reader()).await?.iter().map(decision_from_row).collect::<Result<_>>()?;
        Ok(DecisionPage { items, total })
    }

    /// Every reviewer who decided something in `[from_ms, to_ms)`.
    pub async fn reviewer_stats(&self, tenant_id: &str, from_ms: i64, to_ms: i64) -> Result<Vec<ReviewerStats>> {
        let rows = sqlx::query(
            "SELECT d.reviewer_id, u.email, d.answer, d.labels, d.decided_at_ms, c.created_at_ms AS queued_at_ms \
             FROM decisions d JOIN users u ON u.id = d.reviewer_id JOIN cases c ON c.id = d.case_id \
             WHERE d.tenant_id = $1 AND d.decided_at_ms >= $2 AND d.decided_at_ms < $3",
        )
        .bind(tenant_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.reader())
        .await?;
        struct Acc {
            email: String,
            green: i64,
            red: i64,
            waits: Vec<i64>,
            hours: BTreeMap<i64, i64>,
            labels: BTreeMap<String, i64>,
        }
        let mut by_reviewer: BTreeMap<String, Acc> = BTreeMap::new();
        for row in rows {
            let reviewer: String = row.try_get("reviewer_id")?;
            let acc = by_reviewer.entry(reviewer).or_insert(Acc {
                email: row.try_get("email")?,
                green: 0,
                red: 0,
                waits: Vec::new(),
                hours: BTreeMap::new(),
                labels: BTreeMap::new(),
            });
            let answer: String = row.try_get("answer")?;
            if answer == "GREEN" {
                acc.green += 1;
            } else {
                acc.red += 1;
            }
            let decided: i64 = row.try_get("decided_at_ms")?;
            let queued: i64 = row.try_get("queued_at_ms")?;
            acc.waits.push((decided - queued).max(0));
            *acc.hours.entry(decided - decided.rem_euclid(HOUR_MS)).or_default() += 1;
            let labels: Vec<String> = serde_json::from_str(&row.try_get::<String, _>("labels")?)
                .map_err(|e| Error::Internal(format!("stored labels: {e}")))?;
            for label in labels {
                *acc.labels.entry(label).or_default() += 1;
            }
        }
        Ok(by_reviewer
            .into_iter()
            .map(|(reviewer_id, mut acc)| {
                acc.waits.sort_unstable();
                let mut labels: Vec<LabelCount> =
                    acc.labels.into_iter().map(|(label, count)| LabelCount { label, count }).collect();
                labels.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
                ReviewerStats {
                    reviewer_id,
                    email: acc.email,
                    decisions: acc.green + acc.red,
                    green: acc.green,
                    red: acc.red,
                    median_ms_to_decision: acc.waits.get(acc.waits.len() / 2).copied().unwrap_or(0),
                    per_hour: acc
                        .hours
                        .into_iter()
                        .map(|(hour_ms, decisions)| HourCount { hour_ms, decisions })
                        .collect(),
                    labels,
                }
            })
            .collect())
    }
}

/// The filter as SQL over `decisions d`, with its values in bind order.
fn where_clause(tenant_id: &str, f: &DecisionFilter) -> (String, Vec<String>) {
    let mut parts = vec!["d.tenant_id = $1".to_owned()];
    let mut binds = vec![tenant_id.to_owned()];
    let mut add = |sql: &str, value: String| {
        binds.push(value);
        parts.push(sql.replace('?', &format!("${}", binds.len())));
    };
    if let Some(r) = &f.reviewer_id {
        add("d.reviewer_id = ?", r.clone());
    }
    if let Some(a) = f.answer {
        add("d.answer = ?", a.as_str().to_owned());
    }
    if let Some(l) = f.label {
        // Labels are stored as a JSON array of their names.
        add("d.labels LIKE ?", format!("%\"{}\"%", l.as_str()));
    }
    let mut clause = parts.join(" AND ");
    // Times are numbers: written in, not bound, so both engines compare them as integers.
    if let Some(from) = f.from_ms {
        clause.push_str(&format!(" AND d.decided_at_ms >= {from}"));
    }
    if let Some(to) = f.to_ms {
        clause.push_str(&format!(" AND d.decided_at_ms < {to}"));
    }
    (clause, binds)
}
