//! The tenant's rules for second looks at decisions (four-eyes, QA sampling): stored on the
//! tenant, read by the queue writer with the cases it decides.

use identdesk_domain::{RejectLabel, ReviewPolicy};
use serde_json::json;

use super::audit::{self, Actor};
use super::{int_column, Store};
use crate::error::{Error, Result};

/// The policy columns of `tenants`, as `policy_from_row` reads them.
pub(super) const POLICY_COLUMNS: &str = "four_eyes_labels, four_eyes_percent, qa_sample_percent";

pub(super) fn policy_from_row(row: &sqlx::any::AnyRow) -> Result<ReviewPolicy> {
    use sqlx::Row;
    let labels: String = row.try_get("four_eyes_labels")?;
    let four_eyes_labels: Vec<RejectLabel> =
        serde_json::from_str(&labels).map_err(|e| Error::Internal(format!("stored four-eyes labels: {e}")))?;
    let percent = |column| -> Result<u8> {
        u8::try_from(int_column(row, column)?).map_err(|_| Error::Internal(format!("stored {column} out of range")))
    };
    Ok(ReviewPolicy {
        four_eyes_labels,
        four_eyes_percent: percent("four_eyes_percent")?,
        qa_sample_percent: percent("qa_sample_percent")?,
    })
}

impl Store {
    pub async fn review_policy(&self, tenant_id: &str) -> Result<ReviewPolicy> {
        let row = sqlx::query(&format!("SELECT {POLICY_COLUMNS} FROM tenants WHERE id = $1"))
            .bind(tenant_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        policy_from_row(&row)
    }

    /// Replaces the tenant's policy; the change is audited with the policy before and after.
    pub async fn set_review_policy(&self, tenant_id: &str, policy: &ReviewPolicy, actor: &Actor) -> Result<()> {
        policy.validate()?;
        let before = self.review_policy(tenant_id).await?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE tenants SET four_eyes_labels = $1, four_eyes_percent = $2, qa_sample_percent = $3 WHERE id = $4",
        )
        .bind(serde_json::to_string(&policy.four_eyes_labels).expect("labels serialise"))
        .bind(i64::from(policy.four_eyes_percent))
        .bind(i64::from(policy.qa_sample_percent))
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            tenant_id,
            actor,
            "tenant.review_policy_changed",
            &format!("tenant:{tenant_id}"),
            json!({"before": before, "after": policy}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
