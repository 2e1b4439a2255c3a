-- The automated checks: what clients read off documents, the durable job queue that runs the
-- checks, the verdicts, and what a review case carries from them.

-- JSON {mrz, number, expiry, address}: personal data, erased with the applicant.
ALTER TABLE documents ADD COLUMN extracted TEXT;

-- JSON of the phone and e-mail signals (valid, type, country, disposable). The phone number
-- and e-mail address themselves are never stored.
ALTER TABLE applicants ADD COLUMN contact_signals TEXT;
ALTER TABLE applicants ADD COLUMN ip_country TEXT;

-- Keyed hashes (HMAC-SHA256 under a key outside the database) of what duplicates are found
-- by: document number, e-mail, phone, name and date of birth.
CREATE TABLE applicant_identifiers (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    applicant_id TEXT NOT NULL REFERENCES applicants(id),
    kind TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (applicant_id, kind, digest)
);
CREATE INDEX applicant_identifiers_by_digest ON applicant_identifiers (tenant_id, kind, digest);

-- One job per submission. A worker leases a job; a lease that runs out makes it claimable
-- again; the verdict and the job's completion commit together, so no job counts twice.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    applicant_id TEXT NOT NULL REFERENCES applicants(id),
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    run_after_ms BIGINT NOT NULL,
    locked_until_ms BIGINT,
    last_error TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_after_ms) WHERE state IN ('queued', 'running');

CREATE TABLE verdicts (
    applicant_id TEXT PRIMARY KEY REFERENCES applicants(id),
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    answer TEXT NOT NULL,
    reject_type TEXT,
    labels TEXT NOT NULL,
    four_eyes BIGINT NOT NULL,
    reason TEXT NOT NULL,
    -- JSON: every check result with its explanation.
    results TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

-- Labels the pipeline suggests to the reviewer, and whether a second reviewer must check.
ALTER TABLE cases ADD COLUMN suggested_labels TEXT NOT NULL DEFAULT '[]';
ALTER TABLE cases ADD COLUMN four_eyes BIGINT NOT NULL DEFAULT 0;
