//! What an export of one applicant's data holds (portability): their profile, documents, the
//! checks' results, the decisions as the applicant and client may see them (no staff notes),
//! their video sessions with consent, and the media objects to put beside it.

use serde_json::{json, Value};
use sqlx::Row;

use super::cases::decision_from_row;
use super::{int_column, optional_int_column, Store};
use crate::error::Result;

/// A media object of the export: its name in the archive and where it is stored.
pub struct ExportFile {
    pub name: String,
    pub storage_key: String,
    pub sha256: String,
}

pub struct ApplicantExport {
    /// `applicant.json`: everything but the media, with a list of the files and their hashes.
    pub data: Value,
    pub files: Vec<ExportFile>,
}

fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "video/webm" => "webm",
        "audio/ogg" => "ogg",
        _ => "bin",
    }
}

impl Store {
    pub async fn applicant_export(&self, tenant_id: &str, applicant_id: &str) -> Result<ApplicantExport> {
        let applicant = self.applicant(tenant_id, applicant_id).await?;
        let documents = self.documents(tenant_id, applicant_id).await?;
        let verdict = self.verdict(tenant_id, applicant_id).await?;
        let mut files: Vec<ExportFile> = Vec::new();
        for d in &documents {
            files.push(ExportFile {
                name: format!("documents/{}.{}", d.id, extension(&d.content_type)),
                storage_key: d.storage_key.clone(),
                sha256: d.sha256.clone(),
            });
        }
        let decisions: Vec<Value> = sqlx::query(
            "SELECT * FROM decisions WHERE applicant_id = $1 AND tenant_id = $2 ORDER BY decided_at_ms, id",
        )
        .bind(applicant_id)
        .bind(tenant_id)
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(|row| {
            let d = decision_from_row(row)?;
            // Staff notes are the staff's, not the applicant's data.
            Ok(json!({"id": d.id, "answer": d.answer, "rejectType": d.reject_type, "labels": d.labels,
                      "moderationComment": d.moderation_comment, "clientComment": d.client_comment,
                      "status": d.status, "decidedAtMs": d.decided_at_ms}))
        })
        .collect::<Result<_>>()?;
        let mut sessions = Vec::new();
        let session_rows = sqlx::query(
            "SELECT id, state, consent_at_ms, consent_text_version, consent_ip, call_started_at_ms, abort_reason, \
             created_at_ms, ended_at_ms FROM video_sessions WHERE applicant_id = $1 AND tenant_id = $2 \
             ORDER BY created_at_ms, id",
        )
        .bind(applicant_id)
        .bind(tenant_id)
        .fetch_all(self.reader())
        .await?;
        for s in &session_rows {
            let session_id: String = s.try_get("id")?;
            let mut evidence = Vec::new();
            let rows = sqlx::query(
                "SELECT id, kind, tag, sha256, media_key, content_type, bytes, captured_at_ms \
                 FROM video_evidence WHERE session_id = $1 ORDER BY captured_at_ms, id",
            )
            .bind(&session_id)
            .fetch_all(self.reader())
            .await?;
            for e in &rows {
                let id: String = e.try_get("id")?;
                let content_type: String = e.try_get("content_type")?;
                let name = format!("video/{session_id}/{id}.{}", extension(&content_type));
                evidence.push(json!({"file": name, "kind": e.try_get::<String, _>("kind")?,
                    "tag": e.try_get::<String, _>("tag")?, "contentType": content_type,
                    "bytes": int_column(e, "bytes")?, "capturedAtMs": int_column(e, "captured_at_ms")?}));
                files.push(ExportFile { name, storage_key: e.try_get("media_key")?, sha256: e.try_get("sha256")? });
            }
            sessions.push(json!({"id": session_id, "state": s.try_get::<String, _>("state")?,
                "consentAtMs": optional_int_column(s, "consent_at_ms")?,
                "consentTextVersion": s.try_get::<Option<String>, _>("consent_text_version")?,
                "consentIp": s.try_get::<Option<String>, _>("consent_ip")?,
                "callStartedAtMs": optional_int_column(s, "call_started_at_ms")?,
                "abortReason": s.try_get::<Option<String>, _>("abort_reason")?,
                "createdAtMs": int_column(s, "created_at_ms")?, "endedAtMs": optional_int_column(s, "ended_at_ms")?,
                "evidence": evidence}));
        }
        let listed: Vec<Value> = files.iter().map(|f| json!({"name": f.name, "sha256": f.sha256})).collect();
        let documents: Vec<Value> = documents
            .iter()
            .zip(&files)
            .map(|(d, f)| {
                let mut v = json!(d);
                v["file"] = json!(f.name);
                v
            })
            .collect();
        let data = json!({
            "format": "identdesk-applicant-export/1",
            "applicant": applicant,
            "documents": documents,
            "checks": verdict,
            "decisions": decisions,
            "videoSessions": sessions,
            "files": listed,
        });
        Ok(ApplicantExport { data, files })
    }
}
