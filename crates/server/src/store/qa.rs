//! QA sampling's figures: how often a blind re-check agrees with the decision it samples, per
//! reviewer of the sampled decision and per label.

use std::collections::BTreeMap;

use identdesk_domain::{agrees, label_agreement, RejectLabel};
use sqlx::Row;

use super::cases::decision_from_row;
use super::Store;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QaAgreement {
    /// Re-checks decided in the period.
    pub sampled: i64,
    /// Of them, the same outcome for the applicant (answer and reject type).
    pub agreed: i64,
    /// Per reviewer whose decision was sampled, most sampled first.
    pub reviewers: Vec<ReviewerAgreement>,
    /// Per label either decision gave, most often given first.
    pub labels: Vec<LabelAgreement>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewerAgreement {
    pub reviewer_id: String,
    pub email: String,
    pub sampled: i64,
    pub agreed: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LabelAgreement {
    pub label: RejectLabel,
    /// Pairs in which either decision gave the label.
    pub given: i64,
    /// Pairs in which both did.
    pub agreed: i64,
}

impl Store {
    /// Agreement of the QA re-checks decided in `[from_ms, to_ms)`.
    pub async fn qa_agreement(&self, tenant_id: &str, from_ms: i64, to_ms: i64) -> Result<QaAgreement> {
        // Each re-check (q) with the decision it sampled (s), both whole.
        let rows = sqlx::query(
            "SELECT q.*, s.id AS s_id, s.answer AS s_answer, s.reject_type AS s_reject_type, s.labels AS s_labels, \
             s.reviewer_id AS s_reviewer_id, u.email AS s_email \
             FROM decisions q JOIN cases c ON c.id = q.case_id AND c.kind = 'qa_sample' \
             JOIN decisions s ON s.id = c.checks_decision_id JOIN users u ON u.id = s.reviewer_id \
             WHERE q.tenant_id = $1 AND q.decided_at_ms >= $2 AND q.decided_at_ms < $3",
        )
        .bind(tenant_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.reader())
        .await?;
        let mut out = QaAgreement { sampled: 0, agreed: 0, reviewers: Vec::new(), labels: Vec::new() };
        let mut reviewers: BTreeMap<String, ReviewerAgreement> = BTreeMap::new();
        let mut labels: BTreeMap<RejectLabel, (i64, i64)> = BTreeMap::new();
        for row in &rows {
            let recheck = decision_from_row(row)?;
            let s_reject: Option<String> = row.try_get("s_reject_type")?;
            let s_answer = row.try_get::<String, _>("s_answer")?.parse()?;
            let s_reject = s_reject.map(|t| t.parse()).transpose()?;
            let s_labels: Vec<RejectLabel> = serde_json::from_str(&row.try_get::<String, _>("s_labels")?)
                .map_err(|e| crate::error::Error::Internal(format!("stored labels: {e}")))?;
            let agree = agrees((s_answer, s_reject), (recheck.answer, recheck.reject_type));
            out.sampled += 1;
            out.agreed += i64::from(agree);
            let reviewer_id: String = row.try_get("s_reviewer_id")?;
            let r = reviewers.entry(reviewer_id.clone()).or_insert(ReviewerAgreement {
                reviewer_id,
                email: row.try_get("s_email")?,
                sampled: 0,
                agreed: 0,
            });
            r.sampled += 1;
            r.agreed += i64::from(agree);
            for (label, both) in label_agreement(&s_labels, &recheck.labels) {
                let entry = labels.entry(label).or_default();
                entry.0 += 1;
                entry.1 += i64::from(both);
            }
        }
        out.reviewers = reviewers.into_values().collect();
        out.reviewers.sort_by(|a, b| b.sampled.cmp(&a.sampled).then_with(|| a.email.cmp(&b.email)));
        out.labels =
            labels.into_iter().map(|(label, (given, agreed))| LabelAgreement { label, given, agreed }).collect();
        out.labels.sort_by(|a, b| b.given.cmp(&a.given).then_with(|| a.label.as_str().cmp(b.label.as_str())));
        Ok(out)
    }
}
