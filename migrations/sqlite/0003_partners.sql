-- Trading partners and their users, for authentication (issue #4).
-- Timestamps are UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (fixed width: sorts and compares as
-- times); booleans are 0/1. Keep in step with ../postgres/0003_partners.sql.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created     TEXT NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    organization  INTEGER NOT NULL REFERENCES organizations (id),
    user_name     TEXT NOT NULL,               -- as the operator wrote it
    user_key      TEXT NOT NULL UNIQUE,        -- lower-cased: names are unique ignoring case
    password_hash TEXT NOT NULL,               -- argon2id PHC string, never the password
    is_primary    INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    failed_count  INTEGER NOT NULL DEFAULT 0,  -- consecutive failed password checks
    locked_until  TEXT,                        -- refused until then, even with the right password
    last_failure  TEXT,
    created       TEXT NOT NULL
);
CREATE INDEX users_organization ON users (organization);
-- One Primary User per organization.
CREATE UNIQUE INDEX users_primary ON users (organization) WHERE is_primary = 1;

-- SenderIDs a user may put in the CORE envelope.
CREATE TABLE user_sender_ids (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sender_id   TEXT NOT NULL,
    PRIMARY KEY (user_id, sender_id)
);

-- Provider IDs / service locations (10 characters) a user may inquire or submit for.
CREATE TABLE user_provider_ids (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL CHECK (length(provider_id) = 10),
    PRIMARY KEY (user_id, provider_id)
);

-- TLS client certificates. A certificate acts as its user, or, without one, as its
-- organization's Primary User.
CREATE TABLE client_certificates (
    id            INTEGER PRIMARY KEY,
    organization  INTEGER NOT NULL REFERENCES organizations (id),
    user_id       INTEGER REFERENCES users (id),
    fingerprint   TEXT NOT NULL UNIQUE CHECK (length(fingerprint) = 64),  -- SHA-256 of the DER, lower-case hex
    subject       TEXT NOT NULL DEFAULT '',
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created       TEXT NOT NULL
);
