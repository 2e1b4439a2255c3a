//! A masked image replaces a document's original. The document's hash changes and with it the
//! applicant's evidence: a decision staged on the old evidence is void, and the applicant goes
//! back to review.

use serde_json::json;

use super::applicants::{document_from_row, document_hashes, evidence_hash, Document};
use super::audit::{self, Actor};
use super::cases::{case_from_row, NewCase, CASE_COLUMNS};
use super::{now_ms, Store};
use crate::error::{Error, Result};

/// The stored masked image that replaces the original.
pub struct MaskedImage {
    pub storage_key: String,
    pub sha256: String,
    pub byte_size: i64,
    pub width: i64,
    pub height: i64,
}

/// What masking changed.
pub struct Masked {
    pub document: Document,
    /// The original's object, to remove from the media store once this is committed.
    pub original_storage_key: String,
    /// Staged decisions voided because their evidence changed.
    pub voided_decisions: Vec<String>,
    /// The change-feed position of the last change.
    pub change_seq: i64,
}

impl Store {
    /// Points the document at its masked image, in one transaction with the audit events and
    /// the voiding of staged decisions made on the original.
    pub async fn replace_with_masked(
        &self,
        tenant_id: &str,
        document_id: &str,
        masked: &MaskedImage,
        regions: serde_json::Value,
        actor: &Actor,
    ) -> Result<Masked> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let row =
            sqlx::query(&format!("SELECT * FROM documents WHERE id = $1 AND tenant_id = $2{}", self.lock_for_update()))
                .bind(document_id)
                .bind(tenant_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(Error::NotFound("document"))?;
        let original = document_from_row(&row)?;
        // Cases before the applicant, as the queue writer locks them: no deadlock between the two.
        let open_checks = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE applicant_id = $1 AND kind = 'four_eyes' AND state <> 'decided' \
             ORDER BY id{}",
            self.lock_for_update()
        ))
        .bind(&original.applicant_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(case_from_row)
        .collect::<Result<Vec<_>>>()?;
        sqlx::query(
            "UPDATE documents SET storage_key = $1, sha256 = $2, byte_size = $3, width = $4, height = $5, \
             content_type = 'image/png' WHERE id = $6",
        )
        .bind(&masked.storage_key)
        .bind(&masked.sha256)
        .bind(masked.byte_size)
        .bind(masked.width)
        .bind(masked.height)
        .bind(document_id)
        .execute(&mut *tx)
        .await?;
        // The evidence hash exists from submission on; before that nothing was decided on it.
        let hashes = document_hashes(&mut tx, &original.applicant_id).await?;
        sqlx::query(
            "UPDATE applicants SET evidence_hash = $1, updated_at_ms = $2 WHERE id = $3 AND evidence_hash IS NOT NULL",
        )
        .bind(evidence_hash(hashes))
        .bind(now)
        .bind(&original.applicant_id)
        .execute(&mut *tx)
        .await?;
        let mut change_seq = audit::append(
            &mut tx,
            tenant_id,
            actor,
            "document.masked",
            &format!("document:{document_id}"),
            json!({"applicantId": original.applicant_id, "originalSha256": original.sha256,
                   "sha256": masked.sha256, "regions": regions}),
        )
        .await?;
        let mut voided_decisions = Vec::new();
        for check in open_checks {
            let Some(staged) = check.checks_decision_id.clone() else { continue };
            let review = NewCase { due_at_ms: check.due_at_ms, ..NewCase::review(&original.applicant_id, now) };
            let seq = audit::append(
                &mut tx,
                tenant_id,
                actor,
                "decision.voided",
                &format!("case:{}", check.id),
                json!({"decisionId": staged, "reason": "the evidence changed after the decision was staged",
                       "reviewCaseId": review.id}),
            )
            .await?;
            sqlx::query(
                "UPDATE cases SET state = 'decided', holder_id = NULL, lease_until_ms = NULL, version = version + 1, \
                 change_seq = $1, updated_at_ms = $2 WHERE id = $3",
            )
            .bind(seq)
            .bind(now)
            .bind(&check.id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE decisions SET status = 'voided', change_seq = $1 WHERE id = $2")
                .bind(seq)
                .bind(&staged)
                .execute(&mut *tx)
                .await?;
            change_seq = self.insert_case(&mut tx, tenant_id, &review, actor).await?;
            voided_decisions.push(staged);
        }
        tx.commit().await?;
        let document = self.document(tenant_id, document_id).await?;
        Ok(Masked { document, original_storage_key: original.storage_key, voided_decisions, change_seq })
    }
}
