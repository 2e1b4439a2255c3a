-- Data protection per tenant: how long an applicant's data is kept once the business
-- relationship ended (the AML rules' five years by default), and the age of majority below
-- which an applicant needs recorded parental consent.
ALTER TABLE tenants ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 1826;
ALTER TABLE tenants ADD COLUMN age_of_majority INTEGER NOT NULL DEFAULT 18;
-- When the client reported the relationship's end; the retention time runs from then.
ALTER TABLE applicants ADD COLUMN relationship_ended_at_ms BIGINT;
-- When the client attested a parent's consent for an applicant under the age of majority.
ALTER TABLE applicants ADD COLUMN parental_consent_at_ms BIGINT;
