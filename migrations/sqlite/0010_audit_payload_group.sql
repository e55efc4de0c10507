-- The audit log's PayloadID index, made cheap to write.
--
-- PayloadIDs are random (UUIDs as a rule), so an index on `payload_id` alone puts nearly every
-- new row on a different leaf page. SQLite's WAL stores whole pages: a commit of 400 audit
-- rows wrote about 400 extra 4 KiB pages, and the checkpoint wrote them again, which tripled
-- the cost of an audit row (`cargo bench --bench audit_write`, BENCHMARKS.md, seventh pass).
--
-- Now the index leads with `payload_group`, the row's id divided by 1,024. New rows only ever
-- go into the last group, whose few leaf pages (about 20) a commit rewrites once for all its
-- rows: 9.8 µs of CPU per audit row instead of 27, as with one repeated PayloadID. A lookup by
-- PayloadID probes each group's slice of the index (SQLite's skip-scan): about 20 ms for 2
-- million rows (4,096 per group would be 8 ms, but cost 2 µs more per row written), where a
-- full scan reads the whole table. Operators query as before:
-- `SELECT * FROM messages WHERE payload_id = '…'` picks this index.
--
-- Skip-scan is chosen only when the planner knows that the leading column repeats, which it
-- learns from `sqlite_stat1`. ANALYZE creates that table; the row written below says so from
-- the start, even for an empty log, and a later ANALYZE (or `PRAGMA optimize`) replaces it
-- with the measured equivalent. Test: store::audit, "payload_id lookups use the index".

ALTER TABLE message_log
    ADD COLUMN payload_group INTEGER GENERATED ALWAYS AS (id >> 10) VIRTUAL;

DROP INDEX messages_payload_id;
CREATE INDEX messages_payload_id ON message_log (payload_group, payload_id);

-- Sampled: on a large existing log a full ANALYZE would read every index entry.
PRAGMA analysis_limit = 1000;
ANALYZE message_log;
DELETE FROM sqlite_stat1 WHERE tbl = 'message_log' AND idx = 'messages_payload_id';
-- Table rows (a guess; only the ratio matters), rows per group, rows per (group, PayloadID).
INSERT INTO sqlite_stat1 (tbl, idx, stat)
VALUES ('message_log', 'messages_payload_id', '1000000 1024 1');
