-- Entered activity data (GB/T 32150 / 32151.5 inventories), versioned: each submission of an enterprise is a
-- new version with its lines; nothing is updated or deleted, so an inventory can always be recomputed from
-- exactly the data it was computed from. Metered activity data are not copied here: they are the monthly
-- sums of `emissions` (counters) computed when an inventory is asked for.
CREATE TABLE IF NOT EXISTS activity_submissions (
    submission_id  bigserial PRIMARY KEY,
    enterprise_id  text NOT NULL REFERENCES enterprises,
    version        int NOT NULL CHECK (version >= 1),
    submitted_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    submitted_by   text NOT NULL,
    origin         text NOT NULL CHECK (origin IN ('json', 'csv', 'xlsx')),
    filename       text,
    content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    note           text NOT NULL DEFAULT '',
    UNIQUE (enterprise_id, version)
);

-- `line` is the line number the submitter sees: the file's own line (header = 1) or the 1-based position
-- in a JSON list. source_type 'production' carries an output tonnage (sinter, coke, rolled steel...) that
-- is not an emission source but the denominator of a process intensity.
CREATE TABLE IF NOT EXISTS activity_lines (
    submission_id  bigint NOT NULL REFERENCES activity_submissions,
    line           int NOT NULL CHECK (line >= 1),
    period         text NOT NULL CHECK (period ~ '^[0-9]{4}(-(0[1-9]|1[0-2]))?$'),
    process        text NOT NULL,
    source_type    text NOT NULL
                   CHECK (source_type IN ('combustion', 'process', 'electricity', 'heat', 'fixed_carbon', 'production')),
    item           text NOT NULL,
    quantity       double precision NOT NULL CHECK (quantity >= 0),
    unit           text NOT NULL,
    direction      text NOT NULL CHECK (direction IN ('in', 'out')),
    quality        text NOT NULL CHECK (quality IN ('measured', 'calculated', 'estimated')),
    PRIMARY KEY (submission_id, line)
);
CREATE INDEX IF NOT EXISTS activity_lines_period_idx ON activity_lines (period);

SELECT cf_make_append_only(t, 'is append-only (submit a new version instead)')
FROM unnest(ARRAY['activity_submissions', 'activity_lines']::regclass[]) AS t;
