-- TimescaleDB: native compression (002_timeseries.timescale.sql, readings segmented by point after 7 days)
-- already stores closed stretches of the rows of readings as compressed arrays, so carbonflow's compaction
-- leaves those rows alone there (carbonflow/db/compaction.py); it moves the hot batches of 085 into this
-- table as on plain PostgreSQL, and the read functions of 076 are the same on both kinds of server. One
-- plain table: retention deletes its old blocks. Run by tests/timescale on TimescaleDB 2.23 (PGlite).
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
