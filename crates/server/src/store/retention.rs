//! Retention per tenant: which applicants' data is past its time. An applicant approved
//! (GREEN) is a client's customer: their time runs from the end of the relationship, which the
//! client reports. Anyone else (rejected, abandoned, never submitted) never became one: their
//! time runs from their last change.

use sqlx::Row;

use super::{int_column, now_ms, Store};
use crate::error::{Error, Result};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl Store {
    /// Sets a tenant's retention time and age of majority.
    pub async fn set_data_protection(&self, tenant_id: &str, retention_days: i64, age_of_majority: i64) -> Result<()> {
        if retention_days < 1 || !(1..=30).contains(&age_of_majority) {
            return Err(Error::InvalidBody("retention is at least a day; the age of majority 1 to 30".into()));
        }
        sqlx::query("UPDATE tenants SET retention_days = $1, age_of_majority = $2 WHERE id = $3")
            .bind(retention_days)
            .bind(age_of_majority)
            .bind(tenant_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// (retention days, age of majority) of a tenant.
    pub async fn data_protection(&self, tenant_id: &str) -> Result<(i64, i64)> {
        let row = sqlx::query("SELECT retention_days, age_of_majority FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        Ok((int_column(&row, "retention_days")?, int_column(&row, "age_of_majority")?))
    }

    /// Whether the client recorded a parent's consent for the applicant.
    pub async fn has_parental_consent(&self, tenant_id: &str, applicant_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT parental_consent_at_ms FROM applicants WHERE id = $1 AND tenant_id = $2")
            .bind(applicant_id)
            .bind(tenant_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(Error::NotFound("applicant"))?;
        Ok(super::optional_int_column(&row, "parental_consent_at_ms")?.is_some())
    }

    /// The client reports that the business relationship with the applicant ended.
    pub async fn end_relationship(&self, tenant_id: &str, applicant_id: &str) -> Result<()> {
        let done = sqlx::query("UPDATE applicants SET relationship_ended_at_ms = $1 WHERE id = $2 AND tenant_id = $3")
            .bind(now_ms())
            .bind(applicant_id)
            .bind(tenant_id)
            .execute(self.writer())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("applicant"));
        }
        Ok(())
    }

    /// Applicants past their tenant's retention time at `now_ms`: (tenant, applicant).
    pub async fn expired_applicants(&self, now_ms: i64, limit: i64) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT a.tenant_id, a.id FROM applicants a JOIN tenants t ON t.id = a.tenant_id \
             WHERE (a.relationship_ended_at_ms IS NOT NULL AND a.relationship_ended_at_ms < $1 - t.retention_days * $2) \
                OR ((a.review_answer IS NULL OR a.review_answer <> 'GREEN') AND a.updated_at_ms < $1 - t.retention_days * $2) \
             LIMIT $3",
        )
        .bind(now_ms)
        .bind(DAY_MS)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| Ok((r.try_get("tenant_id")?, r.try_get("id")?))).collect()
    }
}
