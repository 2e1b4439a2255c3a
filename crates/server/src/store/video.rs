//! Video identification sessions: the invitation link, the applicant's consent, the interview's
//! progress (every change through the domain's `Interview`, which enforces the order), the TAN,
//! the evidence (screenshots, recording parts), and how a session ends. Every step is audited.

use identdesk_domain::video::{CONSENT_TEXT_VERSION, MIN_SECURITY_FEATURES};
use identdesk_domain::{
    AbortReason, CaseKind, CaseState, DocumentType, Interview, InterviewStep, ScreenshotTag, SecurityFeature,
};
use rand::Rng;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::accounts::{random_token, sha256_hex, StaffUser};
use super::audit::{self, Actor};
use super::cases::{NewCase, DEFAULT_SLA_MS};
use super::{new_id, now_ms, Store, Tx};
use crate::error::{Error, Result};

pub use identdesk_domain::video::SessionState;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoSession {
    pub id: String,
    pub tenant_id: String,
    pub applicant_id: String,
    pub case_id: Option<String>,
    pub state: SessionState,
    pub interview: Interview,
    pub consent_at_ms: Option<i64>,
    pub consent_text_version: Option<String>,
    pub operator_id: Option<String>,
    pub call_started_at_ms: Option<i64>,
    pub abort_reason: Option<AbortReason>,
    pub created_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    #[serde(skip)]
    pub(crate) tan_destination: Option<String>,
    #[serde(skip)]
    tan_hash: Option<String>,
    #[serde(skip)]
    pub(crate) tan_expires_at_ms: Option<i64>,
    #[serde(skip)]
    tan_attempts: i64,
    #[serde(skip)]
    link_used: bool,
}

/// A screenshot or a part of the recording.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    pub id: String,
    pub session_id: String,
    /// `screenshot` or `recording`.
    pub kind: String,
    /// The screenshot tag (`id_front`, `security_feature_2`, …) or the recording part.
    pub tag: String,
    pub sha256: String,
    pub content_type: String,
    pub bytes: i64,
    pub captured_at_ms: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration_ms: Option<i64>,
    #[serde(skip)]
    pub media_key: String,
}

pub struct NewEvidence {
    pub kind: &'static str,
    pub tag: String,
    pub sha256: String,
    pub media_key: String,
    pub content_type: &'static str,
    pub bytes: i64,
    pub captured_at_ms: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration_ms: Option<i64>,
    /// A screenshot's tag: it completes the interview step it belongs to.
    pub screenshot: Option<ScreenshotTag>,
}

/// How many tries a TAN allows before it is void.
pub const TAN_ATTEMPTS: i64 = 3;

const COLUMNS: &str = "id, tenant_id, applicant_id, case_id, applicant_secret_hash, state, interview, consent_at_ms, \
    consent_text_version, tan_destination, tan_hash, tan_expires_at_ms, tan_attempts, operator_id, \
    call_started_at_ms, abort_reason, created_at_ms, ended_at_ms";

fn session_from_row(row: &AnyRow) -> Result<VideoSession> {
    let interview: String = row.try_get("interview")?;
    Ok(VideoSession {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        applicant_id: row.try_get("applicant_id")?,
        case_id: row.try_get("case_id")?,
        state: row.try_get::<String, _>("state")?.parse()?,
        interview: serde_json::from_str(&interview).map_err(|e| Error::Internal(format!("stored interview: {e}")))?,
        consent_at_ms: row.try_get("consent_at_ms")?,
        consent_text_version: row.try_get("consent_text_version")?,
        operator_id: row.try_get("operator_id")?,
        call_started_at_ms: row.try_get("call_started_at_ms")?,
        abort_reason: row.try_get::<Option<String>, _>("abort_reason")?.map(|r| r.parse()).transpose()?,
        created_at_ms: row.try_get("created_at_ms")?,
        ended_at_ms: row.try_get("ended_at_ms")?,
        tan_destination: row.try_get("tan_destination")?,
        tan_hash: row.try_get("tan_hash")?,
        tan_expires_at_ms: row.try_get("tan_expires_at_ms")?,
        tan_attempts: row.try_get("tan_attempts")?,
        link_used: row.try_get::<Option<String>, _>("applicant_secret_hash")?.is_some(),
    })
}

fn evidence_from_row(row: &AnyRow) -> Result<Evidence> {
    Ok(Evidence {
        id: row.try_get("id")?,
        session_id: row.try_get("session_id")?,
        kind: row.try_get("kind")?,
        tag: row.try_get("tag")?,
        sha256: row.try_get("sha256")?,
        content_type: row.try_get("content_type")?,
        bytes: row.try_get("bytes")?,
        captured_at_ms: row.try_get("captured_at_ms")?,
        width: row.try_get("width")?,
        height: row.try_get("height")?,
        duration_ms: row.try_get("duration_ms")?,
        media_key: row.try_get("media_key")?,
    })
}

/// A random string for the applicant to read out: letters and digits that cannot be misheard.
fn read_out_code() -> String {
    const ALPHABET: &[u8] = b"ACDEFHJKLMNPRTUVWXY3479";
    let mut rng = rand::thread_rng();
    (0..6).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

impl Store {
    /// Invites an applicant to a video identification; returns the session and the link token
    /// (shown once). Refused when the retries are used up or a session is still open.
    pub async fn create_video_session(
        &self,
        tenant_id: &str,
        applicant_id: &str,
        tan_destination: &str,
        max_attempts: i64,
        actor: &Actor,
    ) -> Result<(VideoSession, String)> {
        self.applicant(tenant_id, applicant_id).await?;
        let earlier = self.video_sessions_of(tenant_id, applicant_id).await?;
        if let Some(open) = earlier.iter().find(|s| !s.state.ended()) {
            return Err(Error::AlreadyExists(format!("video session {} of this applicant is still open", open.id)));
        }
        if earlier.iter().any(|s| s.abort_reason.is_some_and(|r| !r.retry_allowed())) {
            return Err(Error::VideoRetriesExhausted("an earlier session ended on suspected fraud".into()));
        }
        let attempts = earlier.iter().filter(|s| s.state == SessionState::Aborted).count() as i64;
        if attempts >= max_attempts {
            return Err(Error::VideoRetriesExhausted(format!(
                "the applicant has used all {max_attempts} attempts at a video identification"
            )));
        }
        let document_type = self
            .documents(tenant_id, applicant_id)
            .await?
            .iter()
            .map(|d| d.doc_type)
            .find(|t| matches!(t, DocumentType::Passport | DocumentType::IdCard | DocumentType::ResidencePermit))
            .unwrap_or(DocumentType::IdCard);
        let features = {
            let mut rng = rand::thread_rng();
            SecurityFeature::choose(document_type, MIN_SECURITY_FEATURES, |n| rng.gen_range(0..n))
        };
        let interview = Interview::new(document_type, features, read_out_code());
        let token = random_token("v");
        let id = new_id();
        let now = now_ms();
        let mut tx = self.begin().await?;
        audit::append(
            &mut tx,
            tenant_id,
            actor,
            "video.invited",
            &format!("video:{id}"),
            json!({"applicantId": applicant_id, "features": interview.features}),
        )
        .await?;
        sqlx::query(
            "INSERT INTO video_sessions (id, tenant_id, applicant_id, link_hash, state, interview, tan_destination, created_at_ms) \
             VALUES ($1, $2, $3, $4, 'invited', $5, $6, $7)",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(applicant_id)
        .bind(sha256_hex(token.as_bytes()))
        .bind(serde_json::to_string(&interview).expect("interview serialises"))
        .bind(tan_destination)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((self.video_session(tenant_id, &id).await?, token))
    }

    pub async fn video_sessions_of(&self, tenant_id: &str, applicant_id: &str) -> Result<Vec<VideoSession>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM video_sessions WHERE tenant_id = $1 AND applicant_id = $2 ORDER BY created_at_ms"
        ))
        .bind(tenant_id)
        .bind(applicant_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// The one session matching `filter` (SQL over `video_sessions`, with its values in order).
    async fn one_session(&self, filter: &str, values: &[&str]) -> Result<VideoSession> {
        let sql = format!("SELECT {COLUMNS} FROM video_sessions WHERE {filter}");
        let mut query = sqlx::query(&sql);
        for v in values {
            query = query.bind(*v);
        }
        let row = query.fetch_optional(self.reader()).await?.ok_or(Error::NotFound("video session"))?;
        session_from_row(&row)
    }

    pub async fn video_session(&self, tenant_id: &str, id: &str) -> Result<VideoSession> {
        self.one_session("id = $1 AND tenant_id = $2", &[id, tenant_id]).await
    }

    /// A session by id alone, for the server's own bookkeeping (sockets know no tenant).
    pub async fn video_session_by_id(&self, id: &str) -> Result<VideoSession> {
        self.one_session("id = $1", &[id]).await
    }

    pub async fn video_session_of_case(&self, tenant_id: &str, case_id: &str) -> Result<VideoSession> {
        self.one_session("case_id = $1 AND tenant_id = $2", &[case_id, tenant_id]).await
    }

    /// The session an applicant's link opens. Once the link was used (consent given), only
    /// the browser holding the secret handed out then may continue.
    pub async fn video_session_by_link(&self, token: &str, secret: Option<&str>) -> Result<VideoSession> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM video_sessions WHERE link_hash = $1"))
            .bind(sha256_hex(token.as_bytes()))
            .fetch_optional(self.reader())
            .await?
            .ok_or(Error::NotFound("video link"))?;
        let session = session_from_row(&row)?;
        if session.link_used {
            let stored: Option<String> = row.try_get("applicant_secret_hash")?;
            if secret.map(|s| sha256_hex(s.as_bytes())) != stored {
                return Err(Error::LinkUsed);
            }
        }
        Ok(session)
    }

    /// The applicant consents to the recording: the link becomes theirs (a secret for this
    /// browser), the consent is stored with time, text version and address, and the case
    /// joins the video queue.
    pub async fn consent_video(&self, token: &str, text_version: &str, ip: &str) -> Result<(VideoSession, String)> {
        if text_version != CONSENT_TEXT_VERSION {
            return Err(Error::InvalidBody(format!(
                "consent was given to text version {text_version}; the current one is {CONSENT_TEXT_VERSION}"
            )));
        }
        let session = self.video_session_by_link(token, None).await?;
        if session.state != SessionState::Invited {
            return Err(Error::SessionEnded);
        }
        let mut interview = session.interview.clone();
        interview.complete(InterviewStep::Consent)?;
        let secret = random_token("a");
        let now = now_ms();
        let case = NewCase {
            kind: CaseKind::VideoIdent,
            // Queued only while the applicant's page is connected (see `video_queue_presence`).
            state: CaseState::OnHold,
            // Waiting applicants are answered within minutes, not a day.
            due_at_ms: now + DEFAULT_SLA_MS / 96,
            priority: 10,
            ..NewCase::review(&session.applicant_id, now)
        };
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE video_sessions SET applicant_secret_hash = $1, consent_at_ms = $2, consent_text_version = $3, \
             consent_ip = $4, interview = $5, state = 'waiting', case_id = $6 \
             WHERE id = $7 AND applicant_secret_hash IS NULL",
        )
        .bind(sha256_hex(secret.as_bytes()))
        .bind(now)
        .bind(text_version)
        .bind(ip)
        .bind(serde_json::to_string(&interview).expect("interview serialises"))
        .bind(&case.id)
        .bind(&session.id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(Error::LinkUsed);
        }
        audit::append(
            &mut tx,
            &session.tenant_id,
            &Actor::Applicant(session.applicant_id.clone()),
            "video.consent",
            &format!("video:{}", session.id),
            json!({"textVersion": text_version, "atMs": now}),
        )
        .await?;
        self.insert_case(&mut tx, &session.tenant_id, &case, &Actor::System).await?;
        tx.commit().await?;
        Ok((self.video_session(&session.tenant_id, &session.id).await?, secret))
    }

    /// Puts a waiting applicant's case in the video queue while their page is connected, and
    /// on hold when it is not, so operators are only ever handed applicants who are there.
    pub async fn video_queue_presence(&self, session: &VideoSession, present: bool) -> Result<Option<i64>> {
        let Some(case_id) = &session.case_id else { return Ok(None) };
        let (from, to, action, why) = if present {
            (CaseState::OnHold, CaseState::Queued, "case.resumed", "the applicant is in the waiting room")
        } else {
            (CaseState::Queued, CaseState::OnHold, "case.on_hold", "the applicant left the waiting room")
        };
        self.move_video_case(&session.tenant_id, case_id, from, to, action, why).await
    }

    /// A video case without a session (imported, or left from before sessions existed) cannot
    /// be called: the operator's claim ends and the case goes on hold, so the queue hands out
    /// the next one.
    pub async fn hold_sessionless_case(&self, user: &StaffUser, case_id: &str) -> Result<Option<i64>> {
        let why = "a video identification case without a session cannot be called";
        self.move_video_case(&user.tenant_id, case_id, CaseState::Claimed, CaseState::OnHold, "case.on_hold", why).await
    }

    /// Moves a case from one state to another (no holder afterwards), audited; `None` when it
    /// was not in `from` (nothing is written then).
    async fn move_video_case(
        &self,
        tenant_id: &str,
        case_id: &str,
        from: CaseState,
        to: CaseState,
        action: &'static str,
        why: &str,
    ) -> Result<Option<i64>> {
        let mut tx = self.begin().await?;
        let seq =
            audit::append(&mut tx, tenant_id, &Actor::System, action, &format!("case:{case_id}"), json!({"why": why}))
                .await?;
        let updated = sqlx::query(
            "UPDATE cases SET state = $1, holder_id = NULL, lease_until_ms = NULL, version = version + 1, \
             change_seq = $2, updated_at_ms = $3 WHERE id = $4 AND tenant_id = $5 AND state = $6",
        )
        .bind(to.as_str())
        .bind(seq)
        .bind(now_ms())
        .bind(case_id)
        .bind(tenant_id)
        .bind(from.as_str())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(seq))
    }

    /// How many applicants of the tenant wait before this one (0: next).
    pub async fn waiting_position(&self, session: &VideoSession) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM video_sessions WHERE tenant_id = $1 AND state = 'waiting' AND consent_at_ms < $2",
        )
        .bind(&session.tenant_id)
        .bind(session.consent_at_ms.unwrap_or(i64::MAX))
        .fetch_one(self.reader())
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Loads a session for a change by its operator; refuses ended sessions and other users.
    async fn operated_session(&self, tx: &mut Tx, user: &StaffUser, id: &str) -> Result<VideoSession> {
        let sql =
            format!("SELECT {COLUMNS} FROM video_sessions WHERE id = $1 AND tenant_id = $2{}", self.lock_for_update());
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(&user.tenant_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(Error::NotFound("video session"))?;
        let session = session_from_row(&row)?;
        if session.operator_id.as_deref() != Some(user.id.as_str()) {
            return Err(Error::Forbidden("only the operator in the call may do this".into()));
        }
        if session.state != SessionState::InCall {
            return Err(Error::SessionEnded);
        }
        Ok(session)
    }

    async fn save_interview(&self, tx: &mut Tx, session: &VideoSession, interview: &Interview) -> Result<()> {
        sqlx::query("UPDATE video_sessions SET interview = $1 WHERE id = $2")
            .bind(serde_json::to_string(interview).expect("interview serialises"))
            .bind(&session.id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The operator took the session's case: the call starts.
    pub async fn start_video_call(&self, user: &StaffUser, case_id: &str) -> Result<VideoSession> {
        let session = self.video_session_of_case(&user.tenant_id, case_id).await?;
        if session.state == SessionState::InCall && session.operator_id.as_deref() == Some(user.id.as_str()) {
            return Ok(session);
        }
        if session.state != SessionState::Waiting {
            return Err(Error::SessionEnded);
        }
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE video_sessions SET state = 'in_call', operator_id = $1, call_started_at_ms = $2 WHERE id = $3",
        )
        .bind(&user.id)
        .bind(now_ms())
        .bind(&session.id)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &user.tenant_id,
            &Actor::User(user.id.clone()),
            "video.call_started",
            &format!("video:{}", session.id),
            json!({"caseId": case_id}),
        )
        .await?;
        tx.commit().await?;
        self.video_session(&user.tenant_id, &session.id).await
    }

    /// Stores a screenshot or recording part; a screenshot also completes its interview step.
    pub async fn add_evidence(&self, user: &StaffUser, session_id: &str, new: NewEvidence) -> Result<Evidence> {
        let mut tx = self.begin().await?;
        let session = if new.kind == "recording" {
            // The recording is uploaded when the call has ended, by its operator.
            let s = self.video_session(&user.tenant_id, session_id).await?;
            if s.operator_id.as_deref() != Some(user.id.as_str()) {
                return Err(Error::Forbidden("only the call's operator may upload its recording".into()));
            }
            s
        } else {
            self.operated_session(&mut tx, user, session_id).await?
        };
        let mut detail =
            json!({"kind": new.kind, "tag": new.tag, "sha256": new.sha256, "capturedAtMs": new.captured_at_ms});
        if let Some(tag) = new.screenshot {
            let mut interview = session.interview.clone();
            let done = interview.capture(tag)?;
            self.save_interview(&mut tx, &session, &interview).await?;
            detail["step"] = json!(done);
        }
        let id = new_id();
        sqlx::query(
            "INSERT INTO video_evidence (id, session_id, tenant_id, kind, tag, sha256, media_key, content_type, bytes, \
             captured_at_ms, width, height, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&id)
        .bind(&session.id)
        .bind(&user.tenant_id)
        .bind(new.kind)
        .bind(&new.tag)
        .bind(&new.sha256)
        .bind(&new.media_key)
        .bind(new.content_type)
        .bind(new.bytes)
        .bind(new.captured_at_ms)
        .bind(new.width)
        .bind(new.height)
        .bind(new.duration_ms)
        .execute(&mut *tx)
        .await?;
        let action = if new.kind == "recording" { "video.recording_stored" } else { "video.screenshot" };
        audit::append(
            &mut tx,
            &user.tenant_id,
            &Actor::User(user.id.clone()),
            action,
            &format!("video:{}", session.id),
            detail,
        )
        .await?;
        tx.commit().await?;
        self.evidence(&user.tenant_id, &id).await
    }

    pub async fn evidence(&self, tenant_id: &str, id: &str) -> Result<Evidence> {
        let row = sqlx::query("SELECT * FROM video_evidence WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(Error::NotFound("evidence"))?;
        evidence_from_row(&row)
    }

    pub async fn evidence_of(&self, tenant_id: &str, session_id: &str) -> Result<Vec<Evidence>> {
        let rows = sqlx::query(
            "SELECT * FROM video_evidence WHERE session_id = $1 AND tenant_id = $2 ORDER BY captured_at_ms, id",
        )
        .bind(session_id)
        .bind(tenant_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(evidence_from_row).collect()
    }

    /// The operator heard the applicant read out the code (or not: then they abort).
    pub async fn confirm_read_out(&self, user: &StaffUser, session_id: &str) -> Result<VideoSession> {
        let mut tx = self.begin().await?;
        let session = self.operated_session(&mut tx, user, session_id).await?;
        let mut interview = session.interview.clone();
        interview.complete(InterviewStep::ReadOut)?;
        self.save_interview(&mut tx, &session, &interview).await?;
        audit::append(
            &mut tx,
            &user.tenant_id,
            &Actor::User(user.id.clone()),
            "video.read_out_confirmed",
            &format!("video:{session_id}"),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        self.video_session(&user.tenant_id, session_id).await
    }

    /// Issues a new TAN (voiding any earlier one) when the interview has reached that step;
    /// returns the session with its destination so the caller can send it.
    pub async fn issue_tan(&self, user: &StaffUser, session_id: &str, tan: &str, ttl_ms: i64) -> Result<VideoSession> {
        let mut tx = self.begin().await?;
        let session = self.operated_session(&mut tx, user, session_id).await?;
        if session.interview.next() != Some(InterviewStep::Tan) {
            return Err(identdesk_domain::InterviewRefusal::OutOfOrder {
                expected: format!("{:?}", session.interview.next()),
                attempted: "the TAN".into(),
            }
            .into());
        }
        let expires = now_ms() + ttl_ms;
        sqlx::query("UPDATE video_sessions SET tan_hash = $1, tan_expires_at_ms = $2, tan_attempts = 0 WHERE id = $3")
            .bind(sha256_hex(format!("{session_id}:{tan}").as_bytes()))
            .bind(expires)
            .bind(session_id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &user.tenant_id,
            &Actor::User(user.id.clone()),
            "video.tan_sent",
            &format!("video:{session_id}"),
            json!({"expiresAtMs": expires}),
        )
        .await?;
        tx.commit().await?;
        self.video_session(&user.tenant_id, session_id).await
    }

    /// The applicant enters the TAN: right, unused, unexpired, within the attempts, and while
    /// the call runs. A used TAN is void.
    pub async fn verify_tan(&self, session: &VideoSession, tan: &str) -> Result<VideoSession> {
        let mut tx = self.begin().await?;
        let sql = format!("SELECT {COLUMNS} FROM video_sessions WHERE id = $1{}", self.lock_for_update());
        let row = sqlx::query(&sql).bind(&session.id).fetch_one(&mut *tx).await?;
        let current = session_from_row(&row)?;
        if current.state != SessionState::InCall {
            return Err(Error::SessionEnded);
        }
        let (Some(hash), Some(expires)) = (current.tan_hash.as_deref(), current.tan_expires_at_ms) else {
            return Err(Error::TanRefused("no TAN is waiting to be entered (it was used or never sent)".into()));
        };
        if expires <= now_ms() {
            return Err(Error::TanRefused("the TAN has expired; ask the operator for a new one".into()));
        }
        let subject = format!("video:{}", session.id);
        let applicant = Actor::Applicant(current.applicant_id.clone());
        if sha256_hex(format!("{}:{tan}", session.id).as_bytes()) != hash {
            let attempts = current.tan_attempts + 1;
            let void = attempts >= TAN_ATTEMPTS;
            sqlx::query(if void {
                "UPDATE video_sessions SET tan_attempts = $1, tan_hash = NULL WHERE id = $2"
            } else {
                "UPDATE video_sessions SET tan_attempts = $1 WHERE id = $2"
            })
            .bind(attempts)
            .bind(&session.id)
            .execute(&mut *tx)
            .await?;
            audit::append(
                &mut tx,
                &current.tenant_id,
                &applicant,
                "video.tan_wrong",
                &subject,
                json!({"attempt": attempts}),
            )
            .await?;
            tx.commit().await?;
            return Err(Error::TanRefused(if void {
                "the TAN is wrong and now void; ask the operator for a new one".into()
            } else {
                format!("the TAN is wrong; {} tries left", TAN_ATTEMPTS - attempts)
            }));
        }
        let mut interview = current.interview.clone();
        interview.complete(InterviewStep::Tan)?;
        // Used once: the hash goes, so the same TAN can never be entered again.
        sqlx::query("UPDATE video_sessions SET tan_hash = NULL, interview = $1 WHERE id = $2")
            .bind(serde_json::to_string(&interview).expect("interview serialises"))
            .bind(&session.id)
            .execute(&mut *tx)
            .await?;
        audit::append(&mut tx, &current.tenant_id, &applicant, "video.tan_confirmed", &subject, json!({})).await?;
        tx.commit().await?;
        self.video_session(&current.tenant_id, &session.id).await
    }

    /// Ends the session (completed, or aborted with a reason). The TAN destination is erased.
    pub async fn end_video_session(
        &self,
        tenant_id: &str,
        session_id: &str,
        reason: Option<AbortReason>,
        actor: &Actor,
    ) -> Result<VideoSession> {
        let state = if reason.is_some() { SessionState::Aborted } else { SessionState::Completed };
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE video_sessions SET state = $1, abort_reason = $2, ended_at_ms = $3, tan_destination = NULL, tan_hash = NULL \
             WHERE id = $4 AND tenant_id = $5 AND state IN ('invited', 'waiting', 'in_call')",
        )
        .bind(state.as_str())
        .bind(reason.map(|r| r.as_str()))
        .bind(now_ms())
        .bind(session_id)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(Error::SessionEnded);
        }
        let action = if reason.is_some() { "video.aborted" } else { "video.completed" };
        audit::append(&mut tx, tenant_id, actor, action, &format!("video:{session_id}"), json!({"reason": reason}))
            .await?;
        tx.commit().await?;
        self.video_session(tenant_id, session_id).await
    }

    /// The staff user a session's operator is, for ending a call on their behalf.
    pub async fn staff_user(&self, tenant_id: &str, id: &str) -> Result<StaffUser> {
        let row = sqlx::query("SELECT id, tenant_id, email, role FROM users WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(Error::NotFound("user"))?;
        Ok(StaffUser {
            id: row.try_get("id")?,
            tenant_id: row.try_get("tenant_id")?,
            email: row.try_get("email")?,
            role: row.try_get::<String, _>("role")?.parse()?,
        })
    }
}
