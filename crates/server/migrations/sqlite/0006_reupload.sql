-- A RETRY's re-upload requests: JSON [{documentId, reason}], empty for every other decision.
ALTER TABLE decisions ADD COLUMN reupload TEXT NOT NULL DEFAULT '[]';
