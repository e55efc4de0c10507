-- Trading partners and their users, for authentication (issue #4).
-- Timestamps are UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (fixed width: sorts and compares as
-- times); booleans are BOOLEAN. Keep in step with ../sqlite/0003_partners.sql.

CREATE TABLE organizations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created     TEXT NOT NULL
);

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization  BIGINT NOT NULL REFERENCES organizations (id),
    user_name     TEXT NOT NULL,               -- as the operator wrote it
    user_key      TEXT NOT NULL UNIQUE,        -- lower-cased: names are unique ignoring case
    password_hash TEXT NOT NULL,               -- argon2id PHC string, never the password
    is_primary    BOOLEAN NOT NULL DEFAULT FALSE,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    failed_count  BIGINT NOT NULL DEFAULT 0,  -- consecutive failed password checks
    locked_until  TEXT,                        -- refused until then, even with the right password
    last_failure  TEXT,
    created       TEXT NOT NULL
);
CREATE INDEX users_organization ON users (organization);
-- One Primary User per organization.
CREATE UNIQUE INDEX users_primary ON users (organization) WHERE is_primary;

-- SenderIDs a user may put in the CORE envelope.
CREATE TABLE user_sender_ids (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sender_id   TEXT NOT NULL,
    PRIMARY KEY (user_id, sender_id)
);

-- Provider IDs / service locations (10 characters) a user may inquire or submit for.
CREATE TABLE user_provider_ids (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL CHECK (length(provider_id) = 10),
    PRIMARY KEY (user_id, provider_id)
);

-- TLS client certificates. A certificate acts as its user, or, without one, as its
-- organization's Primary User.
CREATE TABLE client_certificates (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization  BIGINT NOT NULL REFERENCES organizations (id),
    user_id       BIGINT REFERENCES users (id),
    fingerprint   TEXT NOT NULL UNIQUE CHECK (length(fingerprint) = 64),  -- SHA-256 of the DER, lower-case hex
    subject       TEXT NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created       TEXT NOT NULL
);
