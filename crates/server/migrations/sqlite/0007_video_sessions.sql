-- Video identification sessions: one per invitation link. The interview's progress is the
-- domain's Interview as JSON. The TAN destination is kept only while the session is open.
CREATE TABLE video_sessions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    applicant_id TEXT NOT NULL,
    case_id TEXT,
    link_hash TEXT NOT NULL UNIQUE,
    applicant_secret_hash TEXT,
    state TEXT NOT NULL,
    interview TEXT NOT NULL,
    consent_at_ms INTEGER,
    consent_text_version TEXT,
    consent_ip TEXT,
    tan_destination TEXT,
    tan_hash TEXT,
    tan_expires_at_ms INTEGER,
    tan_attempts INTEGER NOT NULL DEFAULT 0,
    operator_id TEXT,
    call_started_at_ms INTEGER,
    abort_reason TEXT,
    created_at_ms INTEGER NOT NULL,
    ended_at_ms INTEGER
);
CREATE INDEX video_sessions_by_applicant ON video_sessions (applicant_id);
CREATE INDEX video_sessions_by_case ON video_sessions (case_id);

-- Screenshots and the call recording's parts, stored in the media folder.
CREATE TABLE video_evidence (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    tag TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    media_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    captured_at_ms INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    duration_ms INTEGER
);
CREATE INDEX video_evidence_by_session ON video_evidence (session_id);
