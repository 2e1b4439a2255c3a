-- A case's history: its events and its applicant's, read when a reviewer opens the case.
CREATE INDEX audit_events_by_subject ON audit_events (tenant_id, subject, seq);
