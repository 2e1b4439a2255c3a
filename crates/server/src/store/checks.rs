//! The automated checks' storage: the durable job queue a submission puts its applicant in,
//! the keyed identifiers duplicates are found by, and the verdicts with every check result.
//!
//! A worker leases a job; when its lease runs out (the worker died) the job can be leased
//! again. The verdict, its effects (the applicant's status, a review case) and the job's
//! completion commit in one transaction that also checks the lease is still this worker's,
//! so a job's effects happen once however often it runs.

use identdesk_checks::duplicates::DuplicateMatch;
use identdesk_checks::policy::{Verdict, VerdictAnswer};
use identdesk_domain::{ApplicantStatus, RejectLabel};
use serde_json::json;
use sqlx::Row;

use super::audit::{self, Actor};
use super::cases::NewCase;
use super::{new_id, now_ms, Store, Tx};
use crate::error::{Error, Result};

/// A leased job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub tenant_id: String,
    pub applicant_id: String,
    /// Which lease this is: completing checks it, so a late worker cannot complete it twice.
    pub attempts: i64,
}

/// The most times a job is tried before it waits for a human.
pub const MAX_ATTEMPTS: i64 = 5;

pub(crate) async fn enqueue(tx: &mut Tx, tenant_id: &str, applicant_id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (id, tenant_id, applicant_id, state, attempts, run_after_ms, locked_until_ms, last_error, \
         created_at_ms, updated_at_ms) VALUES ($1, $2, $3, 'queued', 0, $4, NULL, NULL, $4, $4)",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(applicant_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn insert_identifiers(
    tx: &mut Tx,
    tenant_id: &str,
    applicant_id: &str,
    identifiers: &[(&'static str, String)],
) -> Result<()> {
    for (kind, digest) in identifiers {
        // The same identifier twice (two documents with one number) is one row.
        sqlx::query(
            "INSERT INTO applicant_identifiers (tenant_id, applicant_id, kind, digest) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant_id)
        .bind(applicant_id)
        .bind(*kind)
        .bind(digest)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Stored verdict of an applicant.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoredVerdict {
    pub applicant_id: String,
    /// GREEN, RED or YELLOW.
    pub answer: String,
    pub reject_type: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub labels: Vec<RejectLabel>,
    pub four_eyes: bool,
    pub reason: String,
    /// Every check result with its explanation.
    #[schema(value_type = Vec<Object>)]
    pub results: serde_json::Value,
    pub created_at_ms: i64,
}

impl Store {
    /// Leases the oldest due job for `lease_ms`, or `None`.
    pub async fn lease_job(&self, lease_ms: i64) -> Result<Option<Job>> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT id, tenant_id, applicant_id, attempts FROM jobs \
             WHERE (state = 'queued' AND run_after_ms <= $1) OR (state = 'running' AND locked_until_ms < $1) \
             ORDER BY run_after_ms LIMIT 1{}",
            self.lock_skip_locked()
        ))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let job = Job {
            id: row.try_get("id")?,
            tenant_id: row.try_get("tenant_id")?,
            applicant_id: row.try_get("applicant_id")?,
            attempts: row.try_get::<i64, _>("attempts")? + 1,
        };
        sqlx::query(
            "UPDATE jobs SET state = 'running', attempts = $1, locked_until_ms = $2, updated_at_ms = $3 WHERE id = $4",
        )
        .bind(job.attempts)
        .bind(now + lease_ms)
        .bind(now)
        .bind(&job.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(job))
    }

    /// Records the document numbers and the name with date of birth of `applicant_id`, and
    /// returns the tenant's other applicants sharing any of them or a phone or e-mail.
    pub async fn find_duplicates(
        &self,
        tenant_id: &str,
        applicant_id: &str,
        identifiers: &[(&'static str, String)],
    ) -> Result<Vec<DuplicateMatch>> {
        let mut tx = self.begin().await?;
        insert_identifiers(&mut tx, tenant_id, applicant_id, identifiers).await?;
        let rows = sqlx::query(
            "SELECT other.applicant_id, other.kind FROM applicant_identifiers mine \
             JOIN applicant_identifiers other ON other.tenant_id = mine.tenant_id AND other.kind = mine.kind \
             AND other.digest = mine.digest AND other.applicant_id <> mine.applicant_id \
             WHERE mine.applicant_id = $1 AND mine.tenant_id = $2 ORDER BY other.applicant_id, other.kind",
        )
        .bind(applicant_id)
        .bind(tenant_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut matches: Vec<DuplicateMatch> = Vec::new();
        for row in rows {
            let (other, kind): (String, String) = (row.try_get("applicant_id")?, row.try_get("kind")?);
            match matches.last_mut() {
                Some(m) if m.applicant_id == other => {
                    if !m.shared.contains(&kind) {
                        m.shared.push(kind)
                    }
                }
                _ => matches.push(DuplicateMatch { applicant_id: other, shared: vec![kind] }),
            }
        }
        Ok(matches)
    }

    /// The contact signals and IP country stored for an applicant.
    pub async fn contact_on_file(
        &self,
        tenant_id: &str,
        applicant_id: &str,
    ) -> Result<(Option<String>, Option<String>)> {
        let row = sqlx::query("SELECT contact_signals, ip_country FROM applicants WHERE id = $1 AND tenant_id = $2")
            .bind(applicant_id)
            .bind(tenant_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(Error::NotFound("applicant"))?;
        Ok((row.try_get("contact_signals")?, row.try_get("ip_country")?))
    }

    /// Stores the verdict and acts on it, and completes the job, if the job's lease is still
    /// `job.attempts`. Returns false when another run completed or re-leased it meanwhile.
    pub async fn complete_job(&self, job: &Job, verdict: &Verdict) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', locked_until_ms = NULL, updated_at_ms = $1 \
             WHERE id = $2 AND state = 'running' AND attempts = $3",
        )
        .bind(now)
        .bind(&job.id)
        .bind(job.attempts)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let answer = match verdict.answer {
            VerdictAnswer::Green => "GREEN",
            VerdictAnswer::Red => "RED",
            VerdictAnswer::Yellow => "YELLOW",
        };
        let reject_type = verdict.reject_type.map(|t| t.as_str());
        sqlx::query(
            "INSERT INTO verdicts (applicant_id, tenant_id, answer, reject_type, labels, four_eyes, reason, results, \
             created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&job.applicant_id)
        .bind(&job.tenant_id)
        .bind(answer)
        .bind(reject_type)
        .bind(serde_json::to_string(&verdict.labels).expect("labels serialise"))
        .bind(i64::from(verdict.four_eyes))
        .bind(&verdict.reason)
        .bind(serde_json::to_string(&verdict.results).expect("results serialise"))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let (status, review_answer) = match verdict.answer {
            VerdictAnswer::Yellow => (ApplicantStatus::Queued, None),
            _ => (ApplicantStatus::Completed, Some(answer)),
        };
        sqlx::query(
            "UPDATE applicants SET status = $1, review_answer = $2, reject_type = $3, updated_at_ms = $4 WHERE id = $5",
        )
        .bind(status.as_str())
        .bind(review_answer)
        .bind(reject_type)
        .bind(now)
        .bind(&job.applicant_id)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &job.tenant_id,
            &Actor::System,
            "applicant.checked",
            &format!("applicant:{}", job.applicant_id),
            json!({"answer": answer, "labels": verdict.labels, "fourEyes": verdict.four_eyes}),
        )
        .await?;
        if verdict.answer == VerdictAnswer::Yellow {
            let mut case = NewCase::review(&job.applicant_id, now);
            case.suggested_labels = verdict.labels.clone();
            case.four_eyes = verdict.four_eyes;
            // Watchlist hits first.
            case.priority = i64::from(verdict.four_eyes);
            self.insert_case(&mut tx, &job.tenant_id, &case, &Actor::System).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// A run that failed: tried again after a back-off, or left for a human after
    /// `MAX_ATTEMPTS` (the error is kept on the job; it holds no personal data).
    pub async fn fail_job(&self, job: &Job, error: &str) -> Result<()> {
        let now = now_ms();
        let (state, run_after) = if job.attempts >= MAX_ATTEMPTS {
            ("failed", now)
        } else {
            ("queued", now + 1000 * (1 << job.attempts.min(10)))
        };
        sqlx::query(
            "UPDATE jobs SET state = $1, run_after_ms = $2, locked_until_ms = NULL, last_error = $3, updated_at_ms = $4 \
             WHERE id = $5 AND attempts = $6",
        )
        .bind(state)
        .bind(run_after)
        .bind(error)
        .bind(now)
        .bind(&job.id)
        .bind(job.attempts)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn verdict(&self, tenant_id: &str, applicant_id: &str) -> Result<Option<StoredVerdict>> {
        let row = sqlx::query("SELECT * FROM verdicts WHERE applicant_id = $1 AND tenant_id = $2")
            .bind(applicant_id)
            .bind(tenant_id)
            .fetch_optional(self.reader())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let json = |column: &str| -> Result<serde_json::Value> {
            serde_json::from_str(&row.try_get::<String, _>(column)?)
                .map_err(|e| Error::Internal(format!("stored verdict {column}: {e}")))
        };
        Ok(Some(StoredVerdict {
            applicant_id: row.try_get("applicant_id")?,
            answer: row.try_get("answer")?,
            reject_type: row.try_get("reject_type")?,
            labels: serde_json::from_value(json("labels")?)
                .map_err(|e| Error::Internal(format!("stored verdict labels: {e}")))?,
            four_eyes: row.try_get::<i64, _>("four_eyes")? != 0,
            reason: row.try_get("reason")?,
            results: json("results")?,
            created_at_ms: row.try_get("created_at_ms")?,
        }))
    }

    /// Jobs not done yet: what a restart must pick up.
    pub async fn open_jobs(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running')")
            .fetch_one(self.reader())
            .await?;
        Ok(row.try_get("n")?)
    }
}
