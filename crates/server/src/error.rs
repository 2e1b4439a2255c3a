//! The server's errors. Each variant has a stable `code` and an HTTP status; at the API
//! boundary an error becomes `{ "code", "message" }`. Internal failures are logged and answered
//! with a generic message: no SQL, path or stack trace reaches a client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use identdesk_domain::DomainError;
use serde::Serialize;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{0}")]
    InvalidBody(String),
    #[error("{0}")]
    InvalidQuery(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    NotAnImage(String),
    #[error("sign in first: a valid bearer token (staff) or X-Api-Key (client system) is needed")]
    Unauthenticated,
    #[error("the e-mail or password is wrong")]
    InvalidCredentials,
    #[error("the session has expired or was signed out; sign in again")]
    SessionExpired,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the case is not claimed by you; claim it first")]
    LeaseNotHeld,
    #[error("your lease on the case has expired; claim it again")]
    LeaseExpired,
    #[error("the case changed since you read it (now at version {current}); reload it")]
    VersionConflict { current: i64 },
    #[error("the case has already been decided")]
    CaseAlreadyDecided,
    #[error("the Idempotency-Key header is required for this request")]
    IdempotencyKeyRequired,
    #[error("this Idempotency-Key was used before with a different request")]
    IdempotencyKeyReused,
    #[error("{0}")]
    InvalidDecision(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("confirm or dismiss every screening hit before approving; open: {0}")]
    ScreeningHitsOpen(String),
    #[error("screening hit {0} was confirmed: the case cannot be approved")]
    ScreeningHitConfirmed(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// Four-eyes and QA: the person whose decision a case checks may not decide it.
    #[error("{0}")]
    SelfCheck(String),
    #[error("the evidence changed after the decision this case checks was made; that decision is void and the applicant is back in review")]
    StagedDecisionVoided,
    #[error("the evidence changed after the decision this case checks was made; reload the case")]
    EvidenceChanged,
    #[error("this video link was already used; ask for a new invitation")]
    LinkUsed,
    #[error("the video session has ended")]
    SessionEnded,
    #[error("{0}")]
    VideoRetriesExhausted(String),
    #[error("{0}")]
    Interview(#[from] identdesk_domain::InterviewRefusal),
    #[error("{0}")]
    TanRefused(String),
    /// The tenant's data lives in another region than this node serves.
    #[error("{0}")]
    WrongRegion(String),
    #[error("the applicant is under the age of majority ({0}) and no parent's consent is on record: nothing was stored; send parentalConsent once the client has it")]
    MinorWithoutConsent(i64),
    #[error("audit chain of tenant {tenant} is broken at event {seq}: {reason}")]
    AuditChainBroken { tenant: String, seq: i64, reason: String },
    #[error("{0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("storage error: {0}")]
    Io(#[from] std::io::Error),
    /// A stored object that does not decrypt: altered, moved, or its key is gone.
    #[error("{0}")]
    MediaUnreadable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<DomainError> for Error {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::InvalidDecision(m) => Error::InvalidDecision(m.to_owned()),
            other => Error::InvalidBody(other.to_string()),
        }
    }
}

impl Error {
    pub fn status(&self) -> StatusCode {
        use Error::*;
        match self {
            InvalidBody(_) | InvalidQuery(_) | IdempotencyKeyRequired => StatusCode::BAD_REQUEST,
            UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            NotAnImage(_)
            | InvalidDecision(_)
            | IdempotencyKeyReused
            | ScreeningHitsOpen(_)
            | ScreeningHitConfirmed(_)
            | TanRefused(_)
            | MinorWithoutConsent(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Unauthenticated | InvalidCredentials | SessionExpired => StatusCode::UNAUTHORIZED,
            Forbidden(_) | SelfCheck(_) => StatusCode::FORBIDDEN,
            WrongRegion(_) => StatusCode::MISDIRECTED_REQUEST,
            NotFound(_) => StatusCode::NOT_FOUND,
            LeaseNotHeld
            | LeaseExpired
            | VersionConflict { .. }
            | CaseAlreadyDecided
            | InvalidState(_)
            | AlreadyExists(_)
            | StagedDecisionVoided
            | EvidenceChanged
            | LinkUsed
            | SessionEnded
            | VideoRetriesExhausted(_)
            | Interview(_)
            | AuditChainBroken { .. } => StatusCode::CONFLICT,
            Config(_) | Database(_) | Migrate(_) | Io(_) | MediaUnreadable(_) | Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn code(&self) -> &'static str {
        use Error::*;
        match self {
            InvalidBody(_) => "INVALID_BODY",
            InvalidQuery(_) => "INVALID_QUERY",
            UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            NotAnImage(_) => "NOT_AN_IMAGE",
            Unauthenticated => "UNAUTHENTICATED",
            InvalidCredentials => "INVALID_CREDENTIALS",
            SessionExpired => "SESSION_EXPIRED",
            Forbidden(_) => "FORBIDDEN",
            NotFound("case") => "CASE_NOT_FOUND",
            NotFound("applicant") => "APPLICANT_NOT_FOUND",
            NotFound("tenant") => "TENANT_NOT_FOUND",
            NotFound("video session") => "VIDEO_SESSION_NOT_FOUND",
            NotFound("video link") => "VIDEO_LINK_NOT_FOUND",
            NotFound(_) => "NOT_FOUND",
            LeaseNotHeld => "LEASE_NOT_HELD",
            LeaseExpired => "LEASE_EXPIRED",
            VersionConflict { .. } => "VERSION_CONFLICT",
            CaseAlreadyDecided => "CASE_ALREADY_DECIDED",
            IdempotencyKeyRequired => "IDEMPOTENCY_KEY_REQUIRED",
            IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            InvalidDecision(_) => "INVALID_DECISION",
            InvalidState(_) => "INVALID_STATE",
            ScreeningHitsOpen(_) => "SCREENING_HITS_OPEN",
            ScreeningHitConfirmed(_) => "SCREENING_HIT_CONFIRMED",
            AlreadyExists(_) => "ALREADY_EXISTS",
            SelfCheck(_) => "SELF_CHECK",
            StagedDecisionVoided => "STAGED_DECISION_VOIDED",
            EvidenceChanged => "EVIDENCE_CHANGED",
            LinkUsed => "LINK_USED",
            SessionEnded => "SESSION_ENDED",
            VideoRetriesExhausted(_) => "VIDEO_RETRIES_EXHAUSTED",
            Interview(identdesk_domain::InterviewRefusal::NoConsent) => "NO_CONSENT",
            Interview(identdesk_domain::InterviewRefusal::OutOfOrder { .. }) => "INTERVIEW_OUT_OF_ORDER",
            Interview(identdesk_domain::InterviewRefusal::Unfinished(_)) => "INTERVIEW_UNFINISHED",
            Interview(identdesk_domain::InterviewRefusal::Over) => "INTERVIEW_OVER",
            TanRefused(_) => "TAN_REFUSED",
            WrongRegion(_) => "WRONG_REGION",
            MinorWithoutConsent(_) => "MINOR_WITHOUT_CONSENT",
            AuditChainBroken { .. } => "AUDIT_CHAIN_BROKEN",
            MediaUnreadable(_) => "MEDIA_UNREADABLE",
            Config(_) | Database(_) | Migrate(_) | Io(_) | Internal(_) => "INTERNAL",
        }
    }

    /// Whether the cause is ours, not the caller's: logged, never shown in detail.
    fn is_internal(&self) -> bool {
        self.status() == StatusCode::INTERNAL_SERVER_ERROR
    }

    /// A unique-constraint violation: another request wrote the same row first.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Error::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, Clone, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Stable, machine-readable, e.g. `CASE_ALREADY_DECIDED`.
    pub code: String,
    /// One sentence for a person.
    pub message: String,
    /// For `AUDIT_CHAIN_BROKEN`: the first event that does not verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let message = if self.is_internal() {
            tracing::error!(error = %self, "request failed");
            "something went wrong on the server; the request changed nothing".to_owned()
        } else {
            self.to_string()
        };
        let seq = match &self {
            Error::AuditChainBroken { seq, .. } => Some(*seq),
            _ => None,
        };
        let body = ErrorBody { code: self.code().to_owned(), message, seq };
        (self.status(), Json(body)).into_response()
    }
}
