-- Phone accounts and registrations: shared by every hotline node, so they live in the store.
-- Portable between SQLite and PostgreSQL (sqlx Any): TEXT and BIGINT only, times in unix seconds.
CREATE TABLE sip_accounts (
    username   TEXT PRIMARY KEY,
    realm      TEXT NOT NULL,
    ha1_md5    TEXT NOT NULL,
    ha1_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sip_bindings (
    aor        TEXT NOT NULL REFERENCES sip_accounts(username) ON DELETE CASCADE,
    contact    TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    call_id    TEXT NOT NULL,
    cseq       BIGINT NOT NULL,
    source     TEXT NOT NULL,
    transport  TEXT NOT NULL,
    PRIMARY KEY (aor, contact)
);
CREATE INDEX sip_bindings_expiry ON sip_bindings (expires_at);
