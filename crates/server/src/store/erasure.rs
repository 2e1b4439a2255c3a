//! Erasing an applicant everywhere the database holds them: profile, documents, checks and
//! their derived identifiers, cases, decisions, hit reviews, video sessions and evidence, in
//! one transaction; what stays is the audit trail (which holds no personal data) and one
//! `applicant.erased` event saying why. The media objects are returned for the caller to
//! remove, after the rows are gone.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::audit::{self, Actor};
use super::Store;
use crate::error::{Error, Result};

/// Why an applicant is erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureReason {
    /// The applicant (through the client) asked for it.
    Request,
    /// The tenant's retention time has passed.
    Retention,
    /// A minor without recorded parental consent.
    Minor,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Erasure {
    pub applicant_id: String,
    /// Rows removed, all tables together.
    pub rows: u64,
    /// Stored media objects (documents, screenshots, recordings) to remove.
    #[serde(skip)]
    pub media_keys: Vec<String>,
    pub media_objects: usize,
}

impl Store {
    pub async fn erase_applicant(
        &self,
        tenant_id: &str,
        applicant_id: &str,
        actor: &Actor,
        reason: ErasureReason,
    ) -> Result<Erasure> {
        let mut tx = self.begin().await?;
        let exists = sqlx::query("SELECT 1 AS one FROM applicants WHERE id = $1 AND tenant_id = $2")
            .bind(applicant_id)
            .bind(tenant_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(Error::NotFound("applicant"));
        }
        let mut media_keys: Vec<String> = Vec::new();
        for sql in [
            "SELECT storage_key AS k FROM documents WHERE applicant_id = $1",
            "SELECT e.media_key AS k FROM video_evidence e JOIN video_sessions s ON s.id = e.session_id \
             WHERE s.applicant_id = $1",
        ] {
            for row in sqlx::query(sql).bind(applicant_id).fetch_all(&mut *tx).await? {
                media_keys.push(row.try_get("k")?);
            }
        }
        // Children before parents (foreign keys).
        let deletes = [
            "DELETE FROM hit_reviews WHERE case_id IN (SELECT id FROM cases WHERE applicant_id = $1)",
            "DELETE FROM decisions WHERE applicant_id = $1",
            "DELETE FROM video_evidence WHERE session_id IN (SELECT id FROM video_sessions WHERE applicant_id = $1)",
            "DELETE FROM video_sessions WHERE applicant_id = $1",
            "DELETE FROM cases WHERE applicant_id = $1",
            "DELETE FROM verdicts WHERE applicant_id = $1",
            "DELETE FROM jobs WHERE applicant_id = $1",
            "DELETE FROM applicant_identifiers WHERE applicant_id = $1",
            "DELETE FROM documents WHERE applicant_id = $1",
            "DELETE FROM applicants WHERE id = $1",
        ];
        let mut rows = 0;
        for sql in deletes {
            rows += sqlx::query(sql).bind(applicant_id).execute(&mut *tx).await?.rows_affected();
        }
        audit::append(
            &mut tx,
            tenant_id,
            actor,
            "applicant.erased",
            &format!("applicant:{applicant_id}"),
            json!({"reason": reason, "rows": rows, "mediaObjects": media_keys.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(Erasure { applicant_id: applicant_id.to_owned(), rows, media_objects: media_keys.len(), media_keys })
    }
}
