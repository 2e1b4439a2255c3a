-- Webhooks to client systems: a tenant's endpoints, how far its audit trail has been turned
-- into deliveries, and each delivery with its attempts (the delivery log).
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    url TEXT NOT NULL,
    -- The HMAC key the client verifies signatures with; shown once when the endpoint is made.
    secret TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    disabled_at_ms BIGINT
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id);

CREATE TABLE webhook_cursors (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    seq BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
    event_type TEXT NOT NULL,
    applicant_id TEXT,
    -- The audit event it reports (a resend has none of its own: it copies the original's body).
    audit_seq BIGINT,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT,
    last_status INTEGER,
    last_error TEXT,
    created_at_ms BIGINT NOT NULL,
    delivered_at_ms BIGINT,
    UNIQUE (endpoint_id, audit_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at_ms);
CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant_id, created_at_ms);
