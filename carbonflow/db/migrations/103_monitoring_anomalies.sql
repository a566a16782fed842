-- Data-anomaly reminders (数据异常提醒) on reported monitoring figures: found by the rules of
-- carbon_domain.monitoring (jump, missing_month, intensity_outlier), one row per unit, month, rule and item, so a
-- new scan refreshes rather than repeats. A reviewer dismisses (the data is right) or confirms (it needs a
-- correction) a reminder; both are audited.
CREATE TABLE IF NOT EXISTS monitoring_anomalies (
    anomaly_id  bigserial PRIMARY KEY,
    unit_id     bigint NOT NULL REFERENCES monitoring_units ON DELETE CASCADE,
    month       date NOT NULL,
    rule        text NOT NULL CHECK (rule IN ('jump', 'missing_month', 'intensity_outlier')),
    item        text NOT NULL,
    detail      text NOT NULL,
    value       double precision,
    reference   double precision,
    state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'dismissed', 'confirmed')),
    decided_by  text,
    decided_at  timestamptz,
    comment     text,
    detected_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (unit_id, month, rule, item)
);
CREATE INDEX IF NOT EXISTS monitoring_anomalies_open ON monitoring_anomalies (unit_id) WHERE state = 'open';
