//! Applicants and their documents as client systems create and submit them. Submitting an
//! applicant queues the job that runs the automated checks (`store::checks`).

use identdesk_domain::{ApplicantInfo, ApplicantStatus, CaseKind, DocumentSide, DocumentType, Environment};
use serde_json::json;
use sqlx::Row;

use super::accounts::sha256_hex;
use super::audit::{self, Actor};
use super::cases::NewCase;
use super::{new_id, now_ms, Store};
use crate::error::{Error, Result};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Applicant {
    pub id: String,
    pub tenant_id: String,
    pub environment: Environment,
    pub external_user_id: Option<String>,
    /// Which checks apply (the client's verification level).
    pub level: String,
    pub status: ApplicantStatus,
    pub info: ApplicantInfo,
    /// GREEN or RED once a decision is made.
    pub review_answer: Option<String>,
    pub reject_type: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    pub id: String,
    pub applicant_id: String,
    pub doc_type: DocumentType,
    pub side: Option<DocumentSide>,
    /// ISO 3166-1 alpha-3 of the issuing country.
    pub country: Option<String>,
    pub content_type: String,
    pub byte_size: i64,
    /// SHA-256 of the stored bytes: what a decision's evidence hash is built from.
    pub sha256: String,
    pub width: i64,
    pub height: i64,
    pub created_at_ms: i64,
    /// What the client read off the document: `{mrz, number, expiry, address}`.
    #[schema(value_type = Option<Object>)]
    pub extracted: Option<serde_json::Value>,
    #[serde(skip)]
    pub storage_key: String,
}

/// A document whose bytes are already in the media store.
pub struct NewDocument {
    pub id: String,
    pub doc_type: DocumentType,
    pub side: Option<DocumentSide>,
    pub country: Option<String>,
    pub content_type: String,
    pub byte_size: i64,
    pub sha256: String,
    pub width: i64,
    pub height: i64,
    pub storage_key: String,
    /// JSON `{mrz, number, expiry, address}` as the client read them.
    pub extracted: Option<String>,
}

/// A new applicant as a client system creates it. The phone number and e-mail address are not
/// here: only what the risk checks derived from them, and keyed hashes for finding duplicates.
pub struct NewApplicant<'a> {
    pub environment: Environment,
    pub external_user_id: Option<&'a str>,
    pub level: &'a str,
    pub info: &'a ApplicantInfo,
    /// JSON `{phone, email}` of the contact signals.
    pub contact_signals: Option<String>,
    pub ip_country: Option<String>,
    /// `(kind, digest)`: `("email", …)`, `("phone", …)`.
    pub identifiers: Vec<(&'static str, String)>,
    /// The client attests a parent's consent (needed under the tenant's age of majority).
    pub parental_consent: bool,
}

/// What a decision is made on: SHA-256 over the sorted SHA-256 of every document.
pub fn evidence_hash(mut document_hashes: Vec<String>) -> String {
    document_hashes.sort();
    sha256_hex(document_hashes.concat().as_bytes())
}

const APPLICANT_COLUMNS: &str = "id, tenant_id, environment, external_user_id, level, status, info, review_answer, \
                                 reject_type, created_at_ms, updated_at_ms";

fn applicant_from_row(row: &sqlx::any::AnyRow) -> Result<Applicant> {
    let info: String = row.try_get("info")?;
    Ok(Applicant {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        environment: row.try_get::<String, _>("environment")?.parse()?,
        external_user_id: row.try_get("external_user_id")?,
        level: row.try_get("level")?,
        status: row.try_get::<String, _>("status")?.parse()?,
        info: serde_json::from_str(&info).map_err(|e| Error::Internal(format!("stored applicant info: {e}")))?,
        review_answer: row.try_get("review_answer")?,
        reject_type: row.try_get("reject_type")?,
        created_at_ms: row.try_get("created_at_ms")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
    })
}

pub(super) fn document_from_row(row: &sqlx::any::AnyRow) -> Result<Document> {
    let side: Option<String> = row.try_get("side")?;
    Ok(Document {
        id: row.try_get("id")?,
        applicant_id: row.try_get("applicant_id")?,
        doc_type: row.try_get::<String, _>("doc_type")?.parse()?,
        side: side.map(|s| s.parse()).transpose()?,
        country: row.try_get("country")?,
        content_type: row.try_get("content_type")?,
        byte_size: row.try_get("byte_size")?,
        sha256: row.try_get("sha256")?,
        width: row.try_get("width")?,
        height: row.try_get("height")?,
        created_at_ms: row.try_get("created_at_ms")?,
        extracted: row
            .try_get::<Option<String>, _>("extracted")?
            .map(|e| serde_json::from_str(&e))
            .transpose()
            .map_err(|e| Error::Internal(format!("stored document extract: {e}")))?,
        storage_key: row.try_get("storage_key")?,
    })
}

impl Store {
    pub async fn create_applicant(&self, tenant_id: &str, new: &NewApplicant<'_>, actor: &Actor) -> Result<Applicant> {
        let id = new_id();
        let now = now_ms();
        debug_assert!(new.info.phone.is_none() && new.info.email.is_none(), "contact identifiers are never stored");
        let mut tx = self.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO applicants ({APPLICANT_COLUMNS}, contact_signals, ip_country) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, $8, $8, $9, $10)"
        ))
        .bind(&id)
        .bind(tenant_id)
        .bind(new.environment.as_str())
        .bind(new.external_user_id)
        .bind(new.level)
        .bind(ApplicantStatus::Init.as_str())
        .bind(serde_json::to_string(new.info).expect("applicant info serialises"))
        .bind(now)
        .bind(new.contact_signals.as_deref())
        .bind(new.ip_country.as_deref())
        .execute(&mut *tx)
        .await?;
        super::checks::insert_identifiers(&mut tx, tenant_id, &id, &new.identifiers).await?;
        if new.parental_consent {
            sqlx::query("UPDATE applicants SET parental_consent_at_ms = $1 WHERE id = $2")
                .bind(now)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        audit::append(
            &mut tx,
            tenant_id,
            actor,
            "applicant.created",
            &format!("applicant:{id}"),
            json!({"level": new.level}),
        )
        .await?;
        tx.commit().await?;
        self.applicant(tenant_id, &id).await
    }

    /// One applicant of a tenant; another tenant's applicant is "not found".
    pub async fn applicant(&self, tenant_id: &str, id: &str) -> Result<Applicant> {
        let row = sqlx::query(&format!("SELECT {APPLICANT_COLUMNS} FROM applicants WHERE id = $1 AND tenant_id = $2"))
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(Error::NotFound("applicant"))?;
        applicant_from_row(&row)
    }

    pub async fn documents(&self, tenant_id: &str, applicant_id: &str) -> Result<Vec<Document>> {
        let rows = sqlx::query(
            "SELECT * FROM documents WHERE applicant_id = $1 AND tenant_id = $2 ORDER BY created_at_ms, id",
        )
        .bind(applicant_id)
        .bind(tenant_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(document_from_row).collect()
    }

    pub async fn document(&self, tenant_id: &str, id: &str) -> Result<Document> {
        let row = sqlx::query("SELECT * FROM documents WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(Error::NotFound("document"))?;
        document_from_row(&row)
    }

    /// Records a stored document. Only applicants not yet submitted take new documents.
    pub async fn add_document(
        &self,
        tenant_id: &str,
        applicant_id: &str,
        doc: &NewDocument,
        actor: &Actor,
    ) -> Result<Document> {
        let mut tx = self.begin().await?;
        let status = sqlx::query(&format!(
            "SELECT status FROM applicants WHERE id = $1 AND tenant_id = $2{}",
            self.lock_for_update()
        ))
        .bind(applicant_id)
        .bind(tenant_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("applicant"))?;
        let status: ApplicantStatus = status.try_get::<String, _>("status")?.parse()?;
        if status != ApplicantStatus::Init {
            return Err(Error::InvalidState(format!(
                "the applicant is {status}; documents can be added only before submitting"
            )));
        }
        insert_document(&mut tx, tenant_id, applicant_id, doc, now_ms()).await?;
        audit::append(
            &mut tx,
            tenant_id,
            actor,
            "document.added",
            &format!("document:{}", doc.id),
            json!({"applicantId": applicant_id, "type": doc.doc_type, "sha256": doc.sha256}),
        )
        .await?;
        tx.commit().await?;
        self.document(tenant_id, &doc.id).await
    }

    /// Submits an applicant for verification: `init → pending`, with the job that runs the
    /// automated checks queued in the same transaction.
    pub async fn submit_applicant(&self, tenant_id: &str, applicant_id: &str, actor: &Actor) -> Result<Applicant> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT status FROM applicants WHERE id = $1 AND tenant_id = $2{}",
            self.lock_for_update()
        ))
        .bind(applicant_id)
        .bind(tenant_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("applicant"))?;
        let status: ApplicantStatus = row.try_get::<String, _>("status")?.parse()?;
        if status != ApplicantStatus::Init {
            return Err(Error::InvalidState(format!(
                "the applicant is {status}; only a new applicant can be submitted"
            )));
        }
        let hashes = document_hashes(&mut tx, applicant_id).await?;
        if hashes.is_empty() {
            return Err(Error::InvalidState("the applicant has no documents yet; upload at least one".into()));
        }
        let now = now_ms();
        sqlx::query("UPDATE applicants SET status = $1, evidence_hash = $2, updated_at_ms = $3 WHERE id = $4")
            .bind(ApplicantStatus::Pending.as_str())
            .bind(evidence_hash(hashes))
            .bind(now)
            .bind(applicant_id)
            .execute(&mut *tx)
            .await?;
        super::checks::enqueue(&mut tx, tenant_id, applicant_id, now).await?;
        audit::append(
            &mut tx,
            tenant_id,
            actor,
            "applicant.submitted",
            &format!("applicant:{applicant_id}"),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        self.applicant(tenant_id, applicant_id).await
    }

    /// Inserts many applicants with their documents and cases in one transaction: the demo and
    /// the benchmarks fill the queue this way. Each case gets its audit event like any other.
    pub async fn seed_applicants(&self, tenant_id: &str, rows: &[SeedApplicant]) -> Result<()> {
        let mut tx = self.begin().await?;
        for a in rows {
            sqlx::query(&format!(
                "INSERT INTO applicants ({APPLICANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"
            ))
            .bind(&a.id)
            .bind(tenant_id)
            .bind(Environment::Production.as_str())
            .bind(a.external_user_id.as_str())
            .bind(a.level.as_str())
            .bind(a.status.as_str())
            .bind(serde_json::to_string(&a.info).expect("applicant info serialises"))
            .bind(a.review_answer.as_deref())
            .bind(a.reject_type.as_deref())
            .bind(a.created_at_ms)
            .execute(&mut *tx)
            .await?;
            if !a.documents.is_empty() && a.status != ApplicantStatus::Init {
                sqlx::query("UPDATE applicants SET evidence_hash = $1 WHERE id = $2")
                    .bind(evidence_hash(a.documents.iter().map(|d| d.sha256.clone()).collect()))
                    .bind(&a.id)
                    .execute(&mut *tx)
                    .await?;
            }
            for d in &a.documents {
                insert_document(&mut tx, tenant_id, &a.id, d, a.created_at_ms).await?;
            }
            if let Some(case) = &a.case {
                self.insert_case(&mut tx, tenant_id, case, &Actor::System).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The hashes of an applicant's documents: what their evidence hash is built from.
pub(super) async fn document_hashes(tx: &mut super::Tx, applicant_id: &str) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT sha256 FROM documents WHERE applicant_id = $1")
        .bind(applicant_id)
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows.iter().map(|r| r.try_get::<String, _>("sha256")).collect::<Result<_, _>>()?)
}

async fn insert_document(
    tx: &mut super::Tx,
    tenant_id: &str,
    applicant_id: &str,
    doc: &NewDocument,
    created_at_ms: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO documents (id, tenant_id, applicant_id, doc_type, side, country, content_type, byte_size, \
         sha256, width, height, storage_key, created_at_ms, extracted) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&doc.id)
    .bind(tenant_id)
    .bind(applicant_id)
    .bind(doc.doc_type.as_str())
    .bind(doc.side.map(|s| s.as_str()))
    .bind(doc.country.as_deref())
    .bind(&doc.content_type)
    .bind(doc.byte_size)
    .bind(&doc.sha256)
    .bind(doc.width)
    .bind(doc.height)
    .bind(&doc.storage_key)
    .bind(created_at_ms)
    .bind(doc.extracted.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An applicant as the demo and the benchmarks create it.
pub struct SeedApplicant {
    pub id: String,
    pub external_user_id: String,
    pub level: String,
    pub status: ApplicantStatus,
    pub info: ApplicantInfo,
    pub review_answer: Option<String>,
    pub reject_type: Option<String>,
    pub created_at_ms: i64,
    pub documents: Vec<NewDocument>,
    pub case: Option<NewCase>,
}

impl SeedApplicant {
    /// A queued applicant with one review case and no documents: enough for queue load tests.
    pub fn queued(n: usize, kind: CaseKind, now: i64) -> SeedApplicant {
        let id = new_id();
        SeedApplicant {
            external_user_id: format!("load-{n}"),
            level: "basic-kyc".into(),
            status: ApplicantStatus::Queued,
            info: ApplicantInfo { first_name: "Load".into(), last_name: format!("Test {n}"), ..Default::default() },
            review_answer: None,
            reject_type: None,
            created_at_ms: now,
            documents: vec![],
            case: Some(NewCase { kind, ..NewCase::review(&id, now) }),
            id,
        }
    }
}
