-- Alarms with a raise/clear lifecycle; one active alarm per (rule, device, point).
CREATE TABLE IF NOT EXISTS alarms (
    alarm_id        bigserial PRIMARY KEY,
    rule            text NOT NULL,
    device_id       text NOT NULL,
    point           text NOT NULL DEFAULT '',
    severity        text NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
    state           text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'cleared')),
    detail          text NOT NULL,
    raised_at       timestamptz NOT NULL,
    cleared_at      timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text
);
CREATE UNIQUE INDEX IF NOT EXISTS alarms_one_active ON alarms (rule, device_id, point) WHERE state = 'active';
CREATE INDEX IF NOT EXISTS alarms_raised_idx ON alarms (raised_at);
