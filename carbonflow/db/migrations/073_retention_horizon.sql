-- What retention has dropped: raw readings (and 1-minute rollups) before `raw`, hourly data before
-- `hourly`. Written by `carbonflow db retain` and the stream worker's daily retention timer
-- (carbonflow/db/retention.py); `carbonflow recompute` refuses a period before the raw horizon.
CREATE TABLE IF NOT EXISTS retention_horizon (
    data        text PRIMARY KEY CHECK (data IN ('raw', 'hourly')),
    before      timestamptz NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
