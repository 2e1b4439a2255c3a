-- The console's cache of the case queue: the feed's cursor, every case and decision as the
-- feed last gave them, what a reviewer needs to finish their claimed cases offline, and the
-- outbox of decisions not yet confirmed by the server.

CREATE TABLE sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cursor INTEGER NOT NULL,
    last_sync_ms INTEGER
);
INSERT INTO sync_state (id, cursor) VALUES (1, 0);

-- The feed's newest form of each case (JSON as the server sends it).
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    holder_id TEXT,
    version INTEGER NOT NULL,
    change_seq INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX cases_by_holder ON cases (holder_id, state);

CREATE TABLE decisions (
    case_id TEXT PRIMARY KEY,
    change_seq INTEGER NOT NULL,
    body TEXT NOT NULL
);

-- Personal data: the detail (applicant, documents, check results) of the user's claimed cases
-- only, removed when the case is decided or the user signs out.
CREATE TABLE case_details (
    case_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    fetched_at_ms INTEGER NOT NULL
);

-- Document images of those cases; they expire.
CREATE TABLE media (
    document_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    bytes BLOB NOT NULL,
    fetched_at_ms INTEGER NOT NULL
);

-- Decisions in the order they were made. `state`: pending (not yet confirmed), sent (the server
-- has it), conflict (the server refused it: `server_body` holds its version of the case).
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    error_message TEXT,
    server_body TEXT,
    created_at_ms INTEGER NOT NULL,
    sent_at_ms INTEGER,
    server_decision_id TEXT
);
CREATE INDEX outbox_pending ON outbox (state, seq);
