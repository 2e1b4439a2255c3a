-- The queue writes every case twice (claimed, then decided), so each index of `cases` costs on
-- both writes. The claims of a batch find their holders' live cases through cases_by_state
-- (the tenant's claimed cases are as many as its reviewers at work); the index by holder goes.
-- Only second looks name a decision they check: the index keeps just those rows.
DROP INDEX cases_by_holder;
DROP INDEX cases_checks_decision;
CREATE INDEX cases_checks_decision ON cases (checks_decision_id) WHERE checks_decision_id IS NOT NULL;
