//! Erasing an applicant everywhere: the database rows (one transaction, `store::erasure`),
//! then their media objects, then news for the consoles so caches let go of the cases.

use crate::api::AppState;
use crate::error::Result;
use crate::store::audit::Actor;
use crate::store::erasure::{Erasure, ErasureReason};

pub async fn erase(
    state: &AppState,
    tenant_id: &str,
    applicant_id: &str,
    actor: &Actor,
    reason: ErasureReason,
) -> Result<Erasure> {
    let erasure = state.store.erase_applicant(tenant_id, applicant_id, actor, reason).await?;
    remove_media(&state.media, &erasure).await?;
    state.announce(tenant_id, state.store.head_seq(tenant_id).await?);
    Ok(erasure)
}

/// Removes the erased applicant's media objects (the rows naming them are already gone).
pub async fn remove_media(media: &crate::media::MediaStore, erasure: &Erasure) -> Result<()> {
    for key in &erasure.media_keys {
        media.remove(key).await?;
    }
    Ok(())
}
