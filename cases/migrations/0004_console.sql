-- The web console: its users and their sessions, QA evaluations of calls and the review queue
-- that feeds them. Same portability rules as 0002 (TEXT/BIGINT only, app-made ids, unix ms).

-- Console users. `password_hash` is an argon2id PHC string (never a plain password).
-- `lawyer_id` ties a lawyer user to the roster; `region` scopes a supervisor to that region
-- and the regions below it ('' = everything).
CREATE TABLE console_users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('lawyer', 'supervisor', 'admin')),
    lawyer_id     TEXT,
    region        TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL DEFAULT '',
    lang          TEXT NOT NULL DEFAULT 'zh' CHECK (lang IN ('zh', 'en')),
    created_at    BIGINT NOT NULL
);

-- Logged-in sessions. Only the SHA-256 of the cookie's token is stored, so a copy of the
-- database cannot be used to log in. A session expires `expires_at` (12 h after last use).
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES console_users (username) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (username);

-- A supervisor's quality evaluation of a call: answers is a JSON object {question id: score},
-- score the weighted percentage. Stored with the ticket the call is on.
CREATE TABLE qa_evaluations (
    id         TEXT PRIMARY KEY,
    call_id    TEXT NOT NULL REFERENCES calls (id),
    ticket_id  TEXT,
    evaluator  TEXT NOT NULL,
    answers    TEXT NOT NULL,
    comment    TEXT NOT NULL DEFAULT '',
    score      BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX qa_evaluations_call ON qa_evaluations (call_id, created_at);
CREATE INDEX qa_evaluations_ticket ON qa_evaluations (ticket_id);

-- Calls waiting for a QA review: a random sample of answered calls, every unsatisfied survey
-- and every red alert. One row per call and reason.
CREATE TABLE review_queue (
    call_id  TEXT NOT NULL REFERENCES calls (id),
    reason   TEXT NOT NULL CHECK (reason IN ('sample', 'red_alert', 'unsatisfied')),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (call_id, reason)
);
CREATE INDEX review_queue_added ON review_queue (added_at);
