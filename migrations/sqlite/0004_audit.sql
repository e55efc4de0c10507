-- Audit log (CORE 270 §4.3.4): one row per request/response exchange, inbound and outbound
-- together, so the answer sent for a PayloadID can be found again.
-- Metadata only: payload bodies stay out (PHI, size); a SHA-1 of each identifies the files.
-- Timestamps are UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (fixed width: sorts and compares as
-- times); booleans are 0/1. Keep in step with ../postgres/0004_audit.sql.

CREATE TABLE messages (
    id                    INTEGER PRIMARY KEY,
    correlation_id        TEXT NOT NULL UNIQUE,     -- the gateway's id of the exchange
    received_at           TEXT NOT NULL,
    answered_at           TEXT,                     -- NULL: no answer was sent
    operation             TEXT,                     -- CORE operation, e.g. RealTimeTransaction
    wire                  TEXT CHECK (wire IN ('soap', 'mtom', 'mime')),
    organization          TEXT,                     -- NULL until authenticated
    user_name             TEXT,
    sender_id             TEXT,
    receiver_id           TEXT,
    payload_id            TEXT,
    payload_type          TEXT,                     -- of the request
    response_payload_type TEXT,
    request_bytes         INTEGER NOT NULL CHECK (request_bytes >= 0),
    response_bytes        INTEGER CHECK (response_bytes >= 0),
    http_status           INTEGER,
    error_code            TEXT,                     -- CORE ErrorCode of the answer
    isa13                 TEXT,                     -- first ISA13/GS06/ST02 of the request
    gs06                  TEXT,
    st02                  TEXT,
    response_isa13        TEXT,
    test_mode             INTEGER NOT NULL DEFAULT 0 CHECK (test_mode IN (0, 1)),  -- ISA15 = T
    request_sha1          TEXT,                     -- lower-case hex of the payload
    response_sha1         TEXT
);
CREATE INDEX messages_payload_id ON messages (payload_id);
CREATE INDEX messages_received_at ON messages (received_at);
CREATE INDEX messages_organization_received_at ON messages (organization, received_at);
