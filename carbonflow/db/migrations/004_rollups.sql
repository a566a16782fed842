-- Job-maintained rollups per point, by event time: 1 minute and 1 hour.
-- The stream job adds each newly stored reading once, in the transaction that
-- stores it, so late data lands in its own bucket and replays add nothing.
-- avg = sum / n_valid over readings of quality good or uncertain; worst_quality
-- says whether a bucket was built from partly estimated or bad data.
CREATE TABLE IF NOT EXISTS rollup_1m (
    point_key     int NOT NULL,
    bucket        timestamptz NOT NULL,
    n             int NOT NULL,
    n_valid       int NOT NULL,
    sum           double precision,
    min           double precision,
    max           double precision,
    first_ts      timestamptz,
    first_value   double precision,
    last_ts       timestamptz,
    last_value    double precision,
    worst_quality smallint NOT NULL,
    PRIMARY KEY (point_key, bucket)
);
CREATE TABLE IF NOT EXISTS rollup_1h (LIKE rollup_1m INCLUDING ALL);
