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

/// Erases every applicant past their tenant's retention time; returns how many.
pub async fn erase_expired(
    store: &crate::store::Store,
    media: &crate::media::MediaStore,
    now_ms: i64,
) -> Result<usize> {
    let mut erased = 0;
    loop {
        let batch = store.expired_applicants(now_ms, 100).await?;
        if batch.is_empty() {
            return Ok(erased);
        }
        for (tenant_id, applicant_id) in batch {
            let erasure =
                store.erase_applicant(&tenant_id, &applicant_id, &Actor::System, ErasureReason::Retention).await?;
            remove_media(media, &erasure).await?;
            erased += 1;
        }
    }
}

/// Runs the retention erasure once an hour until the server stops.
pub fn spawn_retention(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match erase_expired(&state.store, &state.media, crate::store::now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(applicants = n, "retention: expired applicants erased"),
                Err(e) => tracing::warn!(error = %e, "retention run failed"),
            }
        }
    })
}
