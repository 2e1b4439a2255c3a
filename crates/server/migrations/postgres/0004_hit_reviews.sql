-- A reviewer's word on each screening hit of a case: confirmed (the applicant is the listed
-- person) or dismissed (someone else), with why. The latest word counts; each is audited.
CREATE TABLE hit_reviews (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    entity_id TEXT NOT NULL,
    resolution TEXT NOT NULL,
    note TEXT,
    reviewer_id TEXT NOT NULL REFERENCES users(id),
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (case_id, entity_id)
);
