-- Batch intake (issue #5): which submissions' 834 enrollment changes were applied, so that
-- applying one twice changes nothing (checked in the applying transaction).
-- Keep in step with ../sqlite/0008_intake.sql.
CREATE TABLE enrollment_applications (
    submission_tracking_number  TEXT PRIMARY KEY,
    applied_at                  TEXT NOT NULL,     -- UTC timestamp (store::timestamp)
    members_added               BIGINT NOT NULL DEFAULT 0,
    members_changed             BIGINT NOT NULL DEFAULT 0,
    members_terminated          BIGINT NOT NULL DEFAULT 0,
    members_skipped             BIGINT NOT NULL DEFAULT 0
);
-- The 834 upserts coverage spans by (member, plan, start date).
CREATE INDEX member_spans_plan ON member_spans (member, kind, plan_code, start_date);
