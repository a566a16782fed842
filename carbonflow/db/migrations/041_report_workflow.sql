-- Enterprise GHG report workflow: 送审 submit -> 初审 first review -> 终审 final review, or 退回 return with
-- comments; third-party verification. The rules are carbonflow/reports/workflow.py; the tables keep:
--   report_snapshots      what was submitted: the inventory document and the sha256 of the report bytes;
--                         never updated or deleted (trigger), so a review always sees what was sent
--   report_cases          the current state of one enterprise's report for one year (the only mutable table)
--   report_events         every transition, append-only
--   report_verifications  a verifier's findings and verified total for a snapshot, append-only
CREATE TABLE IF NOT EXISTS report_snapshots (
    snapshot_id      bigserial PRIMARY KEY,
    enterprise_id    text NOT NULL REFERENCES enterprises,
    year             int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by       text NOT NULL,
    document         jsonb NOT NULL,
    document_sha256  text NOT NULL CHECK (document_sha256 ~ '^[0-9a-f]{64}$'),
    total_tco2       double precision NOT NULL,
    pdf_sha256       text NOT NULL CHECK (pdf_sha256 ~ '^[0-9a-f]{64}$'),
    xlsx_sha256      text NOT NULL CHECK (xlsx_sha256 ~ '^[0-9a-f]{64}$')
);
CREATE INDEX IF NOT EXISTS report_snapshots_case_idx ON report_snapshots (enterprise_id, year, snapshot_id);

CREATE TABLE IF NOT EXISTS report_cases (
    enterprise_id  text NOT NULL REFERENCES enterprises,
    year           int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    state          text NOT NULL CHECK (state IN ('draft', 'submitted', 'first_reviewed', 'approved', 'returned')),
    snapshot_id    bigint REFERENCES report_snapshots,
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (enterprise_id, year)
);

CREATE TABLE IF NOT EXISTS report_events (
    event_id       bigserial PRIMARY KEY,
    enterprise_id  text NOT NULL,
    year           int NOT NULL,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    action         text NOT NULL,
    from_state     text NOT NULL,
    to_state       text NOT NULL,
    actor          text NOT NULL,
    actor_role     text NOT NULL,
    comment        text NOT NULL DEFAULT '',
    snapshot_id    bigint REFERENCES report_snapshots,
    FOREIGN KEY (enterprise_id, year) REFERENCES report_cases
);
CREATE INDEX IF NOT EXISTS report_events_case_idx ON report_events (enterprise_id, year, event_id);

CREATE TABLE IF NOT EXISTS report_verifications (
    verification_id      bigserial PRIMARY KEY,
    snapshot_id          bigint NOT NULL REFERENCES report_snapshots,
    at                   timestamptz NOT NULL DEFAULT clock_timestamp(),
    verifier             text NOT NULL,
    verified_total_tco2  double precision NOT NULL,
    findings             jsonb NOT NULL,
    opinion              text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS report_verifications_snapshot_idx ON report_verifications (snapshot_id);

SELECT cf_make_append_only(t, 'cannot be changed once written')
FROM unnest(ARRAY['report_snapshots', 'report_events', 'report_verifications']::regclass[]) AS t;
