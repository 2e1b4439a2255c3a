//! A reviewer's word on each screening hit of a case (confirmed: the applicant is the listed
//! person; dismissed: someone else), and the rule that a case is approved only when every hit
//! was dismissed.

use serde_json::json;
use sqlx::Row;

use super::accounts::StaffUser;
use super::audit::{self, Actor};
use super::{now_ms, Store};
use crate::error::{Error, Result};
use identdesk_domain::CaseState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum HitResolution {
    /// The applicant is the listed person.
    Confirmed,
    /// A namesake: someone else.
    Dismissed,
}

impl HitResolution {
    fn as_str(self) -> &'static str {
        match self {
            HitResolution::Confirmed => "confirmed",
            HitResolution::Dismissed => "dismissed",
        }
    }

    fn audit_action(self) -> &'static str {
        match self {
            HitResolution::Confirmed => "screening.hit_confirmed",
            HitResolution::Dismissed => "screening.hit_dismissed",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HitReview {
    /// The hit's list entry, e.g. `ofac:306`.
    pub entity_id: String,
    pub resolution: HitResolution,
    pub note: Option<String>,
    pub reviewer_id: String,
    pub at_ms: i64,
}

/// Why a case with screening hits may not be approved yet.
#[derive(Debug, Clone)]
pub(crate) enum HitsRefusal {
    /// This hit was confirmed: the applicant is the listed person.
    Confirmed(String),
    /// These hits (comma-separated) have no word yet.
    Open(String),
}

impl HitsRefusal {
    pub(crate) fn error(&self) -> Error {
        match self {
            HitsRefusal::Confirmed(id) => Error::ScreeningHitConfirmed(id.clone()),
            HitsRefusal::Open(ids) => Error::ScreeningHitsOpen(ids.clone()),
        }
    }
}

/// The entries the automated screening matched for an applicant, from its stored verdict.
fn hit_ids(results: &serde_json::Value) -> Vec<String> {
    let screening = results.as_array().into_iter().flatten().find(|r| r["check"] == "screening");
    let hits = screening.and_then(|r| r["details"]["hits"].as_array());
    hits.into_iter().flatten().filter_map(|h| h["entityId"].as_str().map(str::to_owned)).collect()
}

impl Store {
    /// The words on a case's hits. A four-eyes case starts from the first reviewer's words on
    /// the case it checks; the checker's own word on a hit replaces theirs.
    pub async fn hit_reviews(&self, tenant_id: &str, case_id: &str) -> Result<Vec<HitReview>> {
        let rows = sqlx::query(
            "SELECT entity_id, resolution, note, reviewer_id, at_ms, case_id = $2 AS own FROM hit_reviews \
             WHERE tenant_id = $1 AND (case_id = $2 OR case_id = (SELECT d.case_id FROM cases c \
               JOIN decisions d ON d.id = c.checks_decision_id WHERE c.id = $2 AND c.kind = 'four_eyes')) \
             ORDER BY entity_id",
        )
        .bind(tenant_id)
        .bind(case_id)
        .fetch_all(self.reader())
        .await?;
        let mut words: Vec<(bool, HitReview)> = Vec::with_capacity(rows.len());
        for r in &rows {
            let own = r.try_get::<bool, _>("own").or_else(|_| r.try_get::<i64, _>("own").map(|v| v != 0))?;
            let review = HitReview {
                entity_id: r.try_get("entity_id")?,
                resolution: match r.try_get::<String, _>("resolution")?.as_str() {
                    "confirmed" => HitResolution::Confirmed,
                    _ => HitResolution::Dismissed,
                },
                note: r.try_get("note")?,
                reviewer_id: r.try_get("reviewer_id")?,
                at_ms: r.try_get("at_ms")?,
            };
            match words.last_mut() {
                Some((last_own, last)) if last.entity_id == review.entity_id => {
                    if own || !*last_own {
                        *last = review;
                        *last_own = own;
                    }
                }
                _ => words.push((own, review)),
            }
        }
        Ok(words.into_iter().map(|(_, w)| w).collect())
    }

    /// Records the word of the case's holder on one of its hits; a later word replaces it.
    pub async fn review_hit(
        &self,
        user: &StaffUser,
        case_id: &str,
        entity_id: &str,
        resolution: HitResolution,
        note: Option<&str>,
    ) -> Result<Vec<HitReview>> {
        let case = self.case(&user.tenant_id, case_id).await?;
        if case.state == CaseState::Decided {
            return Err(Error::CaseAlreadyDecided);
        }
        if case.state != CaseState::Claimed || case.holder_id.as_deref() != Some(user.id.as_str()) {
            return Err(Error::LeaseNotHeld);
        }
        if case.lease_until_ms.is_some_and(|until| until <= now_ms()) {
            return Err(Error::LeaseExpired);
        }
        let verdict = self.verdict(&user.tenant_id, &case.applicant_id).await?;
        if !verdict.is_some_and(|v| hit_ids(&v.results).iter().any(|id| id == entity_id)) {
            return Err(Error::NotFound("screening hit"));
        }
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM hit_reviews WHERE case_id = $1 AND entity_id = $2")
            .bind(case_id)
            .bind(entity_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO hit_reviews (tenant_id, case_id, entity_id, resolution, note, reviewer_id, at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&user.tenant_id)
        .bind(case_id)
        .bind(entity_id)
        .bind(resolution.as_str())
        .bind(note)
        .bind(&user.id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &user.tenant_id,
            &Actor::User(user.id.clone()),
            resolution.audit_action(),
            &format!("case:{case_id}"),
            json!({"entityId": entity_id}),
        )
        .await?;
        tx.commit().await?;
        self.hit_reviews(&user.tenant_id, case_id).await
    }

    /// Why the case may not be approved while its screening hits stand, if it may not: one
    /// of them confirmed, or some not yet looked at. `verdict_results` is the applicant's
    /// stored check results; the words are read only when the screening matched someone,
    /// which is rare, so the queue writer pays for this read almost never.
    pub(crate) async fn hits_refusal(
        &self,
        tenant_id: &str,
        case_id: &str,
        verdict_results: &str,
    ) -> Result<Option<HitsRefusal>> {
        let results: serde_json::Value =
            serde_json::from_str(verdict_results).map_err(|e| Error::Internal(format!("stored check results: {e}")))?;
        let hits = hit_ids(&results);
        if hits.is_empty() {
            return Ok(None);
        }
        let reviews = self.hit_reviews(tenant_id, case_id).await?;
        let word = |id: &str| reviews.iter().find(|r| r.entity_id == id).map(|r| r.resolution);
        if let Some(confirmed) = hits.iter().find(|id| word(id) == Some(HitResolution::Confirmed)) {
            return Ok(Some(HitsRefusal::Confirmed(confirmed.clone())));
        }
        let open: Vec<&str> = hits.iter().filter(|id| word(id).is_none()).map(String::as_str).collect();
        Ok((!open.is_empty()).then(|| HitsRefusal::Open(open.join(", "))))
    }
}
