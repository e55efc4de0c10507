-- The batch pipeline (issue #5): queue leases and history, files for partners to retrieve
-- (acknowledgements, results, published files), certification, per-partner settings and
-- durable control numbers.

-- Queue processing. A worker takes a row by setting status = 'processing' with its name and
-- a lease; a row whose lease has run out is taken again (its worker died). Completion is
-- recorded only by the lease holder, in the same transaction as the files it produced.
ALTER TABLE submissions ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN lease_owner TEXT;
ALTER TABLE submissions ADD COLUMN lease_until TEXT;
ALTER TABLE submissions ADD COLUMN not_before TEXT NOT NULL DEFAULT '';
ALTER TABLE submissions ADD COLUMN processed_at TEXT;
ALTER TABLE submissions ADD COLUMN outcome TEXT;       -- accepted | partial | rejected | stored
ALTER TABLE submissions ADD COLUMN last_error TEXT;
ALTER TABLE submissions ADD COLUMN transaction_type TEXT NOT NULL DEFAULT '';  -- 837P, 270, … ('' not X12)
CREATE INDEX submissions_claimable ON submissions (status, not_before, id);
CREATE INDEX submissions_payload_id ON submissions (organization, payload_id);

-- Every state change of a submission, in order.
CREATE TABLE submission_events (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    submission_id  BIGINT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    at             TEXT NOT NULL,
    status         TEXT NOT NULL,
    worker         TEXT NOT NULL DEFAULT '',
    detail         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX submission_events_submission ON submission_events (submission_id, id);

-- Files a partner can retrieve: acknowledgements (999/TA1) and results (271/277) of its
-- submissions, and files the plan published for it (835, 834 confirmations, reports).
CREATE TABLE files (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload_id          TEXT NOT NULL UNIQUE,   -- what the partner names to pick it up
    organization        TEXT NOT NULL,
    file_name           TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('ack', 'result', 'published')),
    transaction_type    TEXT NOT NULL,          -- 999, TA1, 271, 277, 835, … or a non-X12 label
    payload_type        TEXT NOT NULL,          -- CORE PayloadType it is sent with
    submission_id       BIGINT REFERENCES submissions (id) ON DELETE SET NULL,
    tracking_number     TEXT NOT NULL DEFAULT '',
    provider_id         TEXT NOT NULL DEFAULT '',
    test_mode           BOOLEAN NOT NULL DEFAULT FALSE,
    blob_id             BIGINT NOT NULL REFERENCES blobs (id),
    bytes               BIGINT NOT NULL,
    sha1                TEXT NOT NULL,
    available_at        TEXT NOT NULL,
    last_downloaded_at  TEXT,
    downloads           INTEGER NOT NULL DEFAULT 0,
    confirmed_at        TEXT,                   -- the partner's receipt confirmation
    -- One acknowledgement and one results file per submission, whoever processes it.
    UNIQUE (submission_id, kind)
);
CREATE INDEX files_organization ON files (organization, available_at);
CREATE INDEX files_tracking ON files (tracking_number);

-- Transaction types a partner has passed a test submission for.
CREATE TABLE certifications (
    organization      TEXT NOT NULL,
    transaction_type  TEXT NOT NULL,
    certified_at      TEXT NOT NULL,
    tracking_number   TEXT NOT NULL,
    PRIMARY KEY (organization, transaction_type)
);

-- Per-partner choices.
ALTER TABLE organizations ADD COLUMN ack_policy TEXT NOT NULL DEFAULT 'always'
    CHECK (ack_policy IN ('always', 'negative_only'));
ALTER TABLE organizations ADD COLUMN require_certification BOOLEAN NOT NULL DEFAULT TRUE;

-- Named counters for control numbers (ISA13/GS06 of acknowledgements and results, file name
-- sequences): never reused, whichever instance takes the next one.
CREATE TABLE sequences (
    name   TEXT PRIMARY KEY,
    value  BIGINT NOT NULL
);
