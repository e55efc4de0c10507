-- Payloads and files of any size, stored as a sequence of chunks so that writing and reading
-- them takes bounded memory (a 200 MB batch is 200 rows of 1 MiB). A blob is written before
-- the row that refers to it; one left unreferenced by a crash is collected by retention.
CREATE TABLE blobs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bytes       BIGINT NOT NULL,
    sha1        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE blob_chunks (
    blob_id  BIGINT NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    data     BYTEA NOT NULL,
    PRIMARY KEY (blob_id, seq)
);
-- Submissions keep their payload as a blob from now on.
ALTER TABLE submissions DROP COLUMN payload;
ALTER TABLE submissions ADD COLUMN payload_blob BIGINT REFERENCES blobs (id);
