-- The queue writes every case twice (claimed, then decided), and neither write can be a HOT
-- update (state and change_seq are indexed), so each index of `cases` costs on both writes.
-- Only second looks name a decision they check: the index keeps just those rows.
DROP INDEX cases_checks_decision;
CREATE INDEX cases_checks_decision ON cases (checks_decision_id) WHERE checks_decision_id IS NOT NULL;

-- Foreign-key checks were a quarter of the queue writer's statement (measured with
-- auto_explain: five per decision). These three are implied by others: a decision's tenant and
-- applicant are its case's (decisions.case_id still references cases, whose tenant and
-- applicant are references), and an event joins its tenant's chain only under the lock of the
-- tenant's head row, which references the tenant.
ALTER TABLE decisions DROP CONSTRAINT decisions_tenant_id_fkey;
ALTER TABLE decisions DROP CONSTRAINT decisions_applicant_id_fkey;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_tenant_id_fkey;
