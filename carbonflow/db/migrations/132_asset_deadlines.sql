-- The compliance and trading deadline calendar of the carbon-assets service (issue 20): a deadline (清缴截止,
-- a trading window, a report due) applies to one region and its sub-regions, or to every enterprise when region is
-- NULL; the app shows it from `remind_days` before it is due.
CREATE TABLE IF NOT EXISTS asset_deadlines (
    deadline_id  bigserial PRIMARY KEY,
    region       text CHECK (region IS NULL OR length(region) BETWEEN 1 AND 64),
    kind         text NOT NULL CHECK (kind IN ('compliance', 'trading', 'reporting')),
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    due_on       date NOT NULL,
    remind_days  int NOT NULL DEFAULT 30 CHECK (remind_days BETWEEN 0 AND 366),
    note         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL
);
CREATE INDEX IF NOT EXISTS asset_deadlines_due ON asset_deadlines (due_on);
