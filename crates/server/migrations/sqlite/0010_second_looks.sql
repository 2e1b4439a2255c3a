-- Second looks at decisions: four-eyes (a second person confirms before a decision counts)
-- and QA sampling (a second person re-decides blind after it counted).

-- The tenant's rules: labels whose decisions need four eyes, and the random shares (percent).
ALTER TABLE tenants ADD COLUMN four_eyes_labels TEXT NOT NULL DEFAULT '["SANCTIONS","PEP","FORGERY"]';
ALTER TABLE tenants ADD COLUMN four_eyes_percent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN qa_sample_percent INTEGER NOT NULL DEFAULT 0;

-- final | staged | confirmed | overruled | voided
ALTER TABLE decisions ADD COLUMN status TEXT NOT NULL DEFAULT 'final';

-- A four_eyes or qa_sample case checks one earlier decision; the people named here (its maker,
-- and for an escalation the checker too) may not decide the case.
ALTER TABLE cases ADD COLUMN checks_decision_id TEXT;
ALTER TABLE cases ADD COLUMN excluded_user_ids TEXT NOT NULL DEFAULT '[]';
-- The state a case waits in while nobody holds it: 'queued', or 'escalated' for a
-- disagreement only a supervisor resolves. A released or expired claim returns to it.
ALTER TABLE cases ADD COLUMN unclaimed_state TEXT NOT NULL DEFAULT 'queued';
CREATE INDEX cases_checks_decision ON cases (checks_decision_id);
