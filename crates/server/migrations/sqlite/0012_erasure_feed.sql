-- The change feed tells consoles which applicants were erased, from these events alone.
CREATE INDEX audit_events_erasures ON audit_events (tenant_id, seq) WHERE action = 'applicant.erased';
