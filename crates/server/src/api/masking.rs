//! Masking a document image: a reviewer, operator or supervisor blurs regions the tenant may
//! not keep; the masked image replaces the original.

use axum::extract::{Path, State};
use axum::Json;
use identdesk_domain::Role;
use serde::Deserialize;

use super::extract::{ApiJson, Staff};
use super::AppState;
use crate::error::{Error, ErrorBody, Result};
use crate::masking::{mask_regions, MaskRegion};
use crate::store::accounts::sha256_hex;
use crate::store::applicants::Document;
use crate::store::audit::Actor;
use crate::store::masking::MaskedImage;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MaskRequest {
    /// The rectangles to blur, in the stored image's pixels.
    pub regions: Vec<MaskRegion>,
    /// Why, for the audit trail: "national number the tenant may not process".
    pub reason: String,
}

/// Blurs regions of a document image for good. A decision staged on the original is void
/// (its four-eyes case closes and the applicant goes back to review).
#[utoipa::path(post, path = "/api/v1/documents/{id}/mask", request_body = MaskRequest, security(("bearer" = [])),
    responses((status = 200, description = "The document, now pointing at the masked image", body = Document),
        (status = 400, description = "INVALID_BODY: no regions, or one outside the image", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mask(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<MaskRequest>,
) -> Result<Json<Document>> {
    staff.require(Role::works_cases, "mask documents")?;
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::InvalidBody("say why, in 1 to 500 characters".into()));
    }
    let tenant = &staff.user.tenant_id;
    let document = state.store.document(tenant, &id).await?;
    let original = state.media.get(&document.storage_key).await?;
    let regions = request.regions.clone();
    let (png, width, height) = tokio::task::spawn_blocking(move || mask_regions(&original, &regions))
        .await
        .map_err(|e| Error::Internal(format!("masking task: {e}")))??;
    let object_id = format!("{id}-masked-{}", uuid::Uuid::new_v4().simple());
    let storage_key = state.media.put(tenant, &document.applicant_id, &object_id, &png).await?;
    let masked = MaskedImage {
        sha256: sha256_hex(&png),
        byte_size: png.len() as i64,
        width: i64::from(width),
        height: i64::from(height),
        storage_key,
    };
    let detail = serde_json::json!({"regions": request.regions, "reason": reason});
    let actor = Actor::User(staff.user.id.clone());
    let replaced = match state.store.replace_with_masked(tenant, &id, &masked, detail, &actor).await {
        Ok(r) => r,
        Err(e) => {
            // Nothing points at the masked copy: the original stays.
            state.media.remove(&masked.storage_key).await?;
            return Err(e);
        }
    };
    // The original is replaced: nothing may read it back.
    state.media.remove(&replaced.original_storage_key).await?;
    state.announce(tenant, replaced.change_seq);
    Ok(Json(replaced.document))
}
