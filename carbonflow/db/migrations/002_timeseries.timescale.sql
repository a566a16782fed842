-- TimescaleDB: readings and emissions as hypertables with compression.
CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE TABLE IF NOT EXISTS readings (
    gateway_key   int NOT NULL,
    seq           bigint NOT NULL,
    ts            timestamptz NOT NULL,
    point_key     int NOT NULL,
    value         double precision,
    quality       smallint NOT NULL,
    PRIMARY KEY (gateway_key, seq, ts)
);
SELECT create_hypertable('readings', 'ts', chunk_time_interval => interval '1 day', if_not_exists => true);
CREATE INDEX IF NOT EXISTS readings_point_ts_idx ON readings (point_key, ts);
-- every primary-key column is a segmenting or ordering column: a row stored into a compressed chunk (late
-- data) is checked for uniqueness against only the compressed batches whose gateway, sequence and time
-- ranges could hold it, instead of decompressing every point's batch of that time (TimescaleDB warns so)
ALTER TABLE readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'point_key',
                          timescaledb.compress_orderby = 'ts, gateway_key, seq');
SELECT add_compression_policy('readings', interval '7 days', if_not_exists => true);

CREATE TABLE IF NOT EXISTS emissions (
    gateway_key   int NOT NULL,
    seq           bigint NOT NULL,
    ts            timestamptz NOT NULL,
    start_ts      timestamptz NOT NULL,
    point_key     int NOT NULL,
    site_id       text,
    activity      text NOT NULL,
    quantity      double precision NOT NULL,
    quantity_unit text NOT NULL,
    tco2          double precision NOT NULL,
    factor_ids    text[] NOT NULL,
    formula       text NOT NULL,
    quality       smallint NOT NULL,
    PRIMARY KEY (gateway_key, seq, ts)
);
SELECT create_hypertable('emissions', 'ts', chunk_time_interval => interval '7 days', if_not_exists => true);
CREATE INDEX IF NOT EXISTS emissions_site_ts_idx ON emissions (site_id, ts);

CREATE OR REPLACE FUNCTION cf_ensure_month_partitions(center timestamptz, months_before int, months_after int)
RETURNS int LANGUAGE sql AS $$ SELECT 0 $$;
