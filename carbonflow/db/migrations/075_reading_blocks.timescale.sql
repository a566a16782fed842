-- TimescaleDB: native compression (002_timeseries.timescale.sql, readings segmented by point after 7 days)
-- already stores closed stretches of readings as compressed arrays, so carbonflow's own compaction does
-- nothing there (carbonflow/db/compaction.py). The table exists, empty, so that the read functions of 076
-- are the same on both kinds of server. UNTESTED HERE: no timescaledb extension on the development machine.
CREATE TABLE IF NOT EXISTS reading_blocks (
    point_key     int NOT NULL,
    hour          timestamptz NOT NULL,
    n             int NOT NULL,
    gateway_key   int,
    gateway_keys  int[],
    seqs          bigint[] NOT NULL,
    times         timestamptz[] NOT NULL,
    vals          double precision[] NOT NULL,
    qualities     smallint[] NOT NULL,
    PRIMARY KEY (point_key, hour),
    CHECK ((gateway_key IS NULL) <> (gateway_keys IS NULL))
);
