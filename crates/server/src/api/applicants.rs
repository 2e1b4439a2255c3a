//! What client systems do with their API key: create applicants, upload documents, submit.

use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use identdesk_domain::{ApiPermission, ApplicantInfo, DocumentSide, DocumentType};
use serde::Deserialize;

use super::extract::{ApiJson, Client, ClientApplicant};
use super::AppState;
use crate::error::{Error, ErrorBody, Result};
use crate::media::inspect_image;
use crate::store::accounts::{sha256_hex, ClientKey};
use crate::store::applicants::{Applicant, Document, NewApplicant, NewDocument};
use crate::store::audit::Actor;
use crate::store::checks::StoredVerdict;
use crate::store::erasure::{Erasure, ErasureReason};
use crate::store::new_id;
use crate::verification::DocumentExtract;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApplicant {
    /// The client's own id for this person.
    pub external_user_id: Option<String>,
    /// The verification level (which checks apply); `basic-kyc` when absent.
    pub level: Option<String>,
    /// The applicant's phone and e-mail are used for the risk checks and never stored.
    pub info: ApplicantInfo,
    /// The country of the applicant's IP address (alpha-2 or alpha-3), when the client knows it.
    pub ip_country: Option<String>,
    /// The client has a parent's consent on record: needed for an applicant under the tenant's
    /// age of majority, who is otherwise not kept at all.
    #[serde(default)]
    pub parental_consent: bool,
}

#[utoipa::path(post, path = "/api/v1/applicants", request_body = CreateApplicant, security(("apiKey" = [])),
    responses((status = 201, body = Applicant), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(req): ApiJson<CreateApplicant>,
) -> Result<(StatusCode, Json<Applicant>)> {
    client.require(ApiPermission::ApplicantsWrite)?;
    if req.info.first_name.trim().is_empty() || req.info.last_name.trim().is_empty() {
        return Err(Error::InvalidBody("info.firstName and info.lastName must not be empty".into()));
    }
    if let Some(dob) = req.info.dob.as_deref() {
        let born = identdesk_checks::date::Date::parse_iso(dob)
            .ok_or_else(|| Error::InvalidBody(format!("info.dob must be a date as YYYY-MM-DD, got '{dob}'")))?;
        let (_, majority) = state.store.data_protection(&client.tenant_id).await?;
        if i64::from(born.years_until(identdesk_checks::date::Date::today())) < majority && !req.parental_consent {
            // A child without a parent's consent is not kept: nothing is stored but the refusal.
            let actor = Actor::ApiKey(client.key_id.clone());
            let detail = serde_json::json!({"ageOfMajority": majority});
            state.store.record(&client.tenant_id, &actor, "applicant.refused_minor", "applicant:-", detail).await?;
            return Err(Error::MinorWithoutConsent(majority));
        }
    }
    let level = req.level.as_deref().unwrap_or("basic-kyc");
    state.verification.levels_for(&client.tenant_id).level(level).map_err(|e| Error::InvalidBody(e.to_string()))?;
    let mut info = req.info;
    // The phone number and e-mail address stop here: only their signals are kept.
    let (signals, identifiers) = state.verification.take_contact(&mut info);
    let new = NewApplicant {
        environment: client.environment,
        external_user_id: req.external_user_id.as_deref(),
        level,
        info: &info,
        contact_signals: Some(serde_json::to_string(&signals).expect("signals serialise")),
        ip_country: req.ip_country.clone(),
        identifiers,
        parental_consent: req.parental_consent,
    };
    let applicant =
        state.store.create_applicant(&client.tenant_id, &new, &Actor::ApiKey(client.key_id.clone())).await?;
    Ok((StatusCode::CREATED, Json(applicant)))
}

#[utoipa::path(get, path = "/api/v1/applicants/{id}", security(("apiKey" = [])),
    responses((status = 200, body = Applicant), (status = 404, description = "APPLICANT_NOT_FOUND", body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ClientApplicant { client, applicant, .. }: ClientApplicant,
) -> Result<Json<Applicant>> {
    client.require(ApiPermission::ApplicantsRead)?;
    viewed(&state, &client, &applicant.id, "profile").await?;
    Ok(Json(applicant))
}

/// A client key reading personal data is an event of the audit trail, as a person's reading is.
async fn viewed(state: &AppState, client: &ClientKey, applicant_id: &str, what: &str) -> Result<()> {
    let actor = Actor::ApiKey(client.key_id.clone());
    let subject = format!("applicant:{applicant_id}");
    state
        .store
        .record(&client.tenant_id, &actor, "applicant.viewed", &subject, serde_json::json!({"what": what}))
        .await?;
    Ok(())
}

#[utoipa::path(delete, path = "/api/v1/applicants/{id}", security(("apiKey" = [])),
    responses((status = 200, body = Erasure, description = "erased: rows, documents, evidence and media"),
        (status = 404, description = "APPLICANT_NOT_FOUND", body = ErrorBody)))]
pub async fn erase(
    State(state): State<AppState>,
    ClientApplicant { client, id, .. }: ClientApplicant,
) -> Result<Json<Erasure>> {
    client.require(ApiPermission::ApplicantsErase)?;
    let actor = Actor::ApiKey(client.key_id.clone());
    Ok(Json(crate::erasure::erase(&state, &client.tenant_id, &id, &actor, ErasureReason::Request).await?))
}

/// Everything stored about one applicant, for them to take elsewhere (portability): a tar archive
/// of `applicant.json` and the documents, screenshots and recordings, decrypted. Its
/// `Content-Length` is set, so a client shows the progress of a large export.
#[utoipa::path(get, path = "/api/v1/applicants/{id}/export", security(("apiKey" = [])),
    responses((status = 200, description = "The archive", content_type = "application/x-tar"),
        (status = 404, description = "APPLICANT_NOT_FOUND", body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    ClientApplicant { client, id, .. }: ClientApplicant,
) -> Result<Response> {
    client.require(ApiPermission::ApplicantsExport)?;
    let archive = crate::export::applicant_archive(&state.store, &state.media, &client.tenant_id, &id).await?;
    // Handing out personal data is audited, with what was handed out.
    state
        .store
        .record(
            &client.tenant_id,
            &Actor::ApiKey(client.key_id.clone()),
            "applicant.exported",
            &format!("applicant:{id}"),
            serde_json::json!({"files": archive.files, "bytes": archive.len}),
        )
        .await?;
    let headers = [
        (header::CONTENT_TYPE, "application/x-tar".to_owned()),
        (header::CONTENT_LENGTH, archive.len.to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"applicant-{id}.tar\"")),
    ];
    Ok((headers, archive.body).into_response())
}

/// The client's business relationship with the applicant ended: the retention time runs from now.
#[utoipa::path(post, path = "/api/v1/applicants/{id}/relationship-end", security(("apiKey" = [])),
    responses((status = 204, description = "noted"), (status = 404, description = "APPLICANT_NOT_FOUND", body = ErrorBody)))]
pub async fn relationship_end(
    State(state): State<AppState>,
    ClientApplicant { client, id, .. }: ClientApplicant,
) -> Result<StatusCode> {
    client.require(ApiPermission::ApplicantsWrite)?;
    state.store.end_relationship(&client.tenant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Multipart fields: `type` (e.g. PASSPORT), `side` (FRONT/BACK, optional), `country` (ISO alpha-3,
/// optional), `file` (PNG or JPEG), and what the client read off the document, each optional:
/// `mrz` (its lines), `number`, `expiry` (YYYY-MM-DD) and `address` (on a proof of address).
#[utoipa::path(post, path = "/api/v1/applicants/{id}/documents", security(("apiKey" = [])),
    request_body(content_type = "multipart/form-data", description = "fields type, side, country, file"),
    responses((status = 201, body = Document), (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, description = "NOT_AN_IMAGE", body = ErrorBody)))]
pub async fn upload_document(
    State(state): State<AppState>,
    ClientApplicant { client, id, .. }: ClientApplicant,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<Document>)> {
    client.require(ApiPermission::ApplicantsWrite)?;
    let mut multipart =
        multipart.map_err(|_| Error::UnsupportedMediaType("send the document as multipart/form-data".into()))?;
    // Unknown applicants were refused (by `ClientApplicant`) before the upload is read.
    let limit = state.limits.max_upload_bytes;
    let field_error = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge { limit }
        } else {
            Error::InvalidBody(format!("the multipart body could not be read: {}", e.body_text()))
        }
    };
    let (mut doc_type, mut side, mut country, mut file) = (None, None, None, None);
    let mut extract = DocumentExtract::default();
    while let Some(field) = multipart.next_field().await.map_err(field_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "type" => doc_type = Some(field.text().await.map_err(field_error)?.parse::<DocumentType>()?),
            "side" => side = Some(field.text().await.map_err(field_error)?.parse::<DocumentSide>()?),
            "country" => {
                let c = field.text().await.map_err(field_error)?.trim().to_uppercase();
                if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
                    return Err(Error::InvalidBody(format!("country must be ISO 3166-1 alpha-3, got '{c}'")));
                }
                country = Some(c);
            }
            "file" => file = Some(field.bytes().await.map_err(field_error)?),
            "mrz" => extract.mrz = Some(field.text().await.map_err(field_error)?),
            "number" => extract.number = Some(field.text().await.map_err(field_error)?.trim().to_owned()),
            "address" => extract.address = Some(field.text().await.map_err(field_error)?.trim().to_owned()),
            "expiry" => {
                let expiry = field.text().await.map_err(field_error)?.trim().to_owned();
                if identdesk_checks::date::Date::parse_iso(&expiry).is_none() {
                    return Err(Error::InvalidBody(format!("expiry must be a date as YYYY-MM-DD, got '{expiry}'")));
                }
                extract.expiry = Some(expiry);
            }
            other => return Err(Error::InvalidBody(format!("unknown multipart field '{other}'"))),
        }
    }
    let doc_type = doc_type.ok_or_else(|| Error::InvalidBody("the field 'type' is required".into()))?;
    let bytes = file.ok_or_else(|| Error::InvalidBody("the field 'file' is required".into()))?;
    let decoded = bytes.clone();
    let facts = tokio::task::spawn_blocking(move || inspect_image(&decoded))
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    let doc_id = new_id();
    let storage_key = state.media.put(&client.tenant_id, &id, &doc_id, &bytes).await?;
    let new = NewDocument {
        id: doc_id,
        doc_type,
        side,
        country,
        content_type: facts.content_type.to_owned(),
        byte_size: bytes.len() as i64,
        sha256: sha256_hex(&bytes),
        width: facts.width.into(),
        height: facts.height.into(),
        storage_key: storage_key.clone(),
        extracted: (!extract.is_empty()).then(|| serde_json::to_string(&extract).expect("extract serialises")),
    };
    match state.store.add_document(&client.tenant_id, &id, &new, &Actor::ApiKey(client.key_id.clone())).await {
        Ok(doc) => Ok((StatusCode::CREATED, Json(doc))),
        Err(e) => {
            // The row was not written: the file must not stay behind either.
            state.media.remove(&storage_key).await?;
            Err(e)
        }
    }
}

#[utoipa::path(post, path = "/api/v1/applicants/{id}/submit", security(("apiKey" = [])),
    responses((status = 200, body = Applicant), (status = 409, description = "INVALID_STATE", body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    ClientApplicant { client, id, .. }: ClientApplicant,
) -> Result<Json<Applicant>> {
    client.require(ApiPermission::ApplicantsWrite)?;
    let applicant = state.store.submit_applicant(&client.tenant_id, &id, &Actor::ApiKey(client.key_id.clone())).await?;
    state.jobs.notify_one();
    Ok(Json(applicant))
}

/// The automated checks' verdict: every check result with its explanation. 404 until the
/// checks have run.
#[utoipa::path(get, path = "/api/v1/applicants/{id}/verdict", security(("apiKey" = [])),
    responses((status = 200, body = StoredVerdict), (status = 404, description = "VERDICT_NOT_FOUND", body = ErrorBody)))]
pub async fn verdict(
    State(state): State<AppState>,
    ClientApplicant { client, id, .. }: ClientApplicant,
) -> Result<Json<StoredVerdict>> {
    client.require(ApiPermission::ApplicantsRead)?;
    let verdict = state.store.verdict(&client.tenant_id, &id).await?.ok_or(Error::NotFound("verdict"))?;
    viewed(&state, &client, &id, "checks").await?;
    Ok(Json(verdict))
}
