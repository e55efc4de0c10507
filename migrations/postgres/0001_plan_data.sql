-- Plan-side data: providers, members with their spans, claims (issue #3).
-- Dates are ISO 'YYYY-MM-DD' text (sorts and compares as dates); money is integer cents.
-- Keep in step with ../sqlite/0001_plan_data.sql: same tables, columns and meanings.

CREATE TABLE providers (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id   TEXT NOT NULL UNIQUE,        -- provider ID / service location (10 characters)
    npi           TEXT,
    entity_type   TEXT NOT NULL CHECK (entity_type IN ('1', '2')),  -- 1 person, 2 organization
    name          TEXT NOT NULL,               -- last or organization name
    first_name    TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('active', 'inactive'))
);
CREATE INDEX providers_npi ON providers (npi);

CREATE TABLE members (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id     TEXT NOT NULL UNIQUE,
    ssn           TEXT,
    dcf_id        TEXT,
    dys_id        TEXT,
    last_name     TEXT NOT NULL,
    first_name    TEXT NOT NULL,
    middle_name   TEXT NOT NULL DEFAULT '',
    name_key      TEXT NOT NULL,               -- normalized last name, for demographic search
    birth_date    TEXT NOT NULL,
    gender        TEXT NOT NULL CHECK (gender IN ('F', 'M', 'U')),
    address_line  TEXT NOT NULL DEFAULT '',
    city          TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL DEFAULT '',
    zip           TEXT NOT NULL DEFAULT '',
    death_date    TEXT
);
CREATE INDEX members_ssn ON members (ssn);
CREATE INDEX members_dcf ON members (dcf_id);
CREATE INDEX members_dys ON members (dys_id);
CREATE INDEX members_name_birth ON members (name_key, birth_date);

-- Coverage, other insurance, QMB, managed-care and PCC enrollment: one row per span.
CREATE TABLE member_spans (
    member          BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('coverage', 'other_insurance', 'qmb', 'managed_care', 'pcc')),
    start_date      TEXT NOT NULL,
    end_date        TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT '',  -- coverage: active | inactive
    plan_code       TEXT NOT NULL DEFAULT '',
    plan_name       TEXT NOT NULL DEFAULT '',
    insurance_type  TEXT NOT NULL DEFAULT '',  -- X12 1336, e.g. MC, HM, MB
    carrier_code    TEXT NOT NULL DEFAULT '',
    carrier_name    TEXT NOT NULL DEFAULT '',
    policy_number   TEXT NOT NULL DEFAULT '',
    pcp_provider_id TEXT NOT NULL DEFAULT '',  -- providers.provider_id of the primary care provider
    CHECK (start_date <= end_date)
);
CREATE INDEX member_spans_member ON member_spans (member, start_date);

CREATE TABLE claims (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payer_claim_number     TEXT NOT NULL UNIQUE,
    patient_control_number TEXT NOT NULL,
    provider_id            TEXT NOT NULL,
    member_id              TEXT NOT NULL,
    service_from           TEXT NOT NULL,
    service_to             TEXT NOT NULL,
    billed_cents           BIGINT NOT NULL,
    paid_cents             BIGINT NOT NULL DEFAULT 0,
    status                 TEXT NOT NULL CHECK (status IN ('received', 'suspended', 'paid', 'denied')),
    received_date          TEXT NOT NULL,
    adjudication_date      TEXT,
    payment_number         TEXT,
    payment_date           TEXT,
    status_code            TEXT NOT NULL,      -- X12 claim status code (external code list 508)
    bill_type              TEXT NOT NULL DEFAULT '',
    CHECK (service_from <= service_to)
);
CREATE INDEX claims_member ON claims (member_id, service_from);
CREATE INDEX claims_provider ON claims (provider_id, service_from);
CREATE INDEX claims_patient_control ON claims (patient_control_number);
