-- The queue writes every case twice (claimed, then decided), so each index of `cases` costs on
-- both writes. Only second looks name a decision they check: the index keeps just those rows.
DROP INDEX cases_checks_decision;
CREATE INDEX cases_checks_decision ON cases (checks_decision_id) WHERE checks_decision_id IS NOT NULL;
