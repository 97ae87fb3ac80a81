-- Transcription: one job per recorded call, its transcript segments and the risk-keyword
-- alerts it raised. Same portable conventions as 0002 (TEXT/BIGINT, app-made ids, unix ms).

-- The job queue. A worker claims a queued job (status -> running, `worker`, `lease_until`);
-- a job whose lease ran out (its node died) is queued again; `attempts` bounds the retries.
CREATE TABLE transcription_jobs (
    id                TEXT PRIMARY KEY,
    call_id           TEXT NOT NULL UNIQUE,
    recording_path    TEXT NOT NULL,
    language          TEXT,
    status            TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts          BIGINT NOT NULL DEFAULT 0,
    worker            TEXT,
    lease_until       BIGINT,
    error             TEXT,
    detected_language TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    started_at        BIGINT,
    finished_at       BIGINT
);
CREATE INDEX transcription_jobs_queue ON transcription_jobs (status, created_at);

-- The dialogue: one row per utterance, in time order (`seq`). `text` is what was said;
-- `redacted_text` has ID-card, phone and bank-card numbers masked for roles that must not
-- see them.
CREATE TABLE transcript_segments (
    job_id        TEXT NOT NULL REFERENCES transcription_jobs (id),
    seq           BIGINT NOT NULL,
    start_ms      BIGINT NOT NULL,
    end_ms        BIGINT NOT NULL,
    speaker       TEXT NOT NULL CHECK (speaker IN ('caller', 'lawyer')),
    text          TEXT NOT NULL,
    redacted_text TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- A risk keyword heard in a call: supervisors read the open ones; the call's ticket is put on
-- red alert in the same transaction.
CREATE TABLE transcript_alerts (
    id              TEXT PRIMARY KEY,
    call_id         TEXT NOT NULL,
    ticket_id       TEXT,
    keyword         TEXT NOT NULL,
    speaker         TEXT NOT NULL CHECK (speaker IN ('caller', 'lawyer')),
    offset_ms       BIGINT NOT NULL,
    excerpt         TEXT NOT NULL,
    at              BIGINT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT
);
CREATE INDEX transcript_alerts_at ON transcript_alerts (at);
CREATE INDEX transcript_alerts_call ON transcript_alerts (call_id);
