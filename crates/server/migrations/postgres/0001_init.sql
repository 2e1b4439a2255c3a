-- IdentDesk schema, PostgreSQL. Times are milliseconds since the Unix epoch; ids are UUID text.
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    region TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    disabled_at_ms BIGINT
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    environment TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT
);

CREATE TABLE applicants (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    environment TEXT NOT NULL,
    external_user_id TEXT,
    level TEXT NOT NULL,
    status TEXT NOT NULL,
    info TEXT NOT NULL,
    -- SHA-256 over the documents' hashes, fixed when the applicant is submitted.
    evidence_hash TEXT,
    review_answer TEXT,
    reject_type TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX applicants_by_tenant ON applicants (tenant_id, created_at_ms);

CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    applicant_id TEXT NOT NULL REFERENCES applicants(id),
    doc_type TEXT NOT NULL,
    side TEXT,
    country TEXT,
    content_type TEXT NOT NULL,
    byte_size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    storage_key TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX documents_by_applicant ON documents (applicant_id);

CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    applicant_id TEXT NOT NULL REFERENCES applicants(id),
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    priority BIGINT NOT NULL,
    due_at_ms BIGINT NOT NULL,
    holder_id TEXT,
    lease_until_ms BIGINT,
    version BIGINT NOT NULL,
    change_seq BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
-- Partial indexes: a case leaving a state leaves the index, and updates stay cheap.
CREATE INDEX cases_queue ON cases (tenant_id, kind, priority DESC, due_at_ms) WHERE state = 'queued';
CREATE INDEX cases_changes ON cases (tenant_id, change_seq);
CREATE INDEX cases_by_tenant ON cases (tenant_id, due_at_ms);
CREATE INDEX cases_by_applicant ON cases (applicant_id);
CREATE INDEX cases_by_holder ON cases (holder_id) WHERE state = 'claimed';

CREATE TABLE decisions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    case_id TEXT NOT NULL UNIQUE REFERENCES cases(id),
    applicant_id TEXT NOT NULL REFERENCES applicants(id),
    reviewer_id TEXT NOT NULL REFERENCES users(id),
    answer TEXT NOT NULL,
    reject_type TEXT,
    labels TEXT NOT NULL,
    moderation_comment TEXT,
    client_comment TEXT,
    internal_note TEXT,
    evidence_hash TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    case_version BIGINT NOT NULL,
    change_seq BIGINT NOT NULL,
    decided_at_ms BIGINT NOT NULL
);
CREATE INDEX decisions_changes ON decisions (tenant_id, change_seq);
-- A replayed Idempotency-Key finds the decision it made.
CREATE UNIQUE INDEX decisions_idempotency ON decisions (reviewer_id, idempotency_key);


CREATE TABLE audit_heads (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE audit_events (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    seq BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

