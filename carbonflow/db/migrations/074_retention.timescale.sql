-- TimescaleDB only (plain PostgreSQL has no variant of this migration: its retention is the job in
-- carbonflow/db/retention.py). Run by tests/timescale on TimescaleDB 2.23 (PGlite), each policy once
-- through run_job (the test server has no job scheduler).
--
-- An hourly continuous aggregate per point, the Timescale counterpart of the job-kept rollup_1h (the
-- API keeps reading rollup_1h, which has the same figures and is maintained on both variants). Its
-- refresh window ends an hour back and starts 30 days back, so chunks of raw readings dropped by the
-- raw retention (400 days) never refresh old buckets away: the aggregate keeps its five years.
CREATE MATERIALIZED VIEW IF NOT EXISTS readings_hourly
WITH (timescaledb.continuous) AS
SELECT point_key,
       time_bucket(INTERVAL '1 hour', ts) AS bucket,
       count(*) AS n,
       count(*) FILTER (WHERE quality < 2 AND value IS NOT NULL) AS n_valid,
       count(*) FILTER (WHERE quality = 1) AS n_uncertain,
       count(*) FILTER (WHERE quality = 2) AS n_bad,
       sum(value) FILTER (WHERE quality < 2) AS sum,
       min(value) FILTER (WHERE quality < 2) AS min,
       max(value) FILTER (WHERE quality < 2) AS max,
       max(quality) AS worst_quality
  FROM readings
 GROUP BY point_key, time_bucket(INTERVAL '1 hour', ts)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('readings_hourly',
    start_offset => INTERVAL '30 days',
    end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '30 minutes',
    if_not_exists => true);

-- compress the aggregate's chunks only well behind its refresh window (the documentation asks for
-- compress_after larger than the policy's start_offset)
ALTER MATERIALIZED VIEW readings_hourly SET (timescaledb.compress = true);
SELECT add_compression_policy('readings_hourly', compress_after => INTERVAL '90 days', if_not_exists => true);

-- Default retention, the same as carbonflow/db/retention.py: raw readings 400 days, hourly data five years
-- (1830 days). `carbonflow db retain` with other CARBONFLOW_*_RETENTION_DAYS replaces these policies.
SELECT add_retention_policy('readings', drop_after => INTERVAL '400 days', if_not_exists => true);
SELECT add_retention_policy('emissions', drop_after => INTERVAL '1830 days', if_not_exists => true);
SELECT add_retention_policy('readings_hourly', drop_after => INTERVAL '1830 days', if_not_exists => true);
