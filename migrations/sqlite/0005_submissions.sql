-- Batch submissions: the durable queue (issue #4 receipt; issue #5 processes it). A receipt is
-- sent only after the row, payload included, is committed.
CREATE TABLE submissions (
    id               INTEGER PRIMARY KEY,
    tracking_number  TEXT NOT NULL UNIQUE,
    correlation_id   TEXT NOT NULL,
    organization     TEXT NOT NULL,
    user_name        TEXT NOT NULL,
    sender_id        TEXT NOT NULL,
    receiver_id      TEXT NOT NULL,
    payload_id       TEXT NOT NULL,
    payload_type     TEXT NOT NULL,
    operation        TEXT NOT NULL,
    test_mode        INTEGER NOT NULL CHECK (test_mode IN (0, 1)),  -- ISA15 = T
    payload_bytes    INTEGER NOT NULL,
    payload_sha1     TEXT NOT NULL,
    payload          BLOB NOT NULL,
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'processing', 'done', 'failed')),
    received_at      TEXT NOT NULL,
    -- A PayloadID names one submission per sender: a retransmission gets the same receipt.
    UNIQUE (sender_id, payload_id)
);
CREATE INDEX submissions_queue ON submissions (status, id);
CREATE INDEX submissions_organization ON submissions (organization, received_at);
