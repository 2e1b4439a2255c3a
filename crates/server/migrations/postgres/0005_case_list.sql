-- The case list filtered by state, in due order: counted and paged from the index alone, so
-- a list of 100,000 cases answers in milliseconds at any offset.
CREATE INDEX cases_by_state ON cases (tenant_id, state, due_at_ms, id);
