-- Hot readings stored one row per device batch (the Kafka record), not one row per reading.
--
-- A row of `readings` costs PostgreSQL about 10 µs to insert on this kind of machine (heap tuple, two
-- B-tree entries, the primary-key check, their WAL) and about 180 bytes; a device batch of 50 readings
-- stored as one row of arrays costs about 1 µs and 40 bytes per reading. The stream sink writes only
-- here; compaction (carbonflow/db/compaction.py) moves batches of closed hours into `reading_blocks`
-- (075) as it moves rows of `readings`, which keeps rows written before this migration and by tools.
--
-- Exactly-once: a batch is identified by (gateway, device, sequence range, time range). The sink drops an
-- incoming reading whose (gateway, seq, ts) a stored batch of the same gateway and device already holds: a
-- replayed Kafka record matches its own stored batch, a re-chunked re-send the batches it overlaps.
-- Readers go through cf_point_readings / cf_point_last / cf_point_first, which see all three stores.
CREATE TABLE IF NOT EXISTS reading_batches (
    gateway_key  int NOT NULL,
    device_id    text NOT NULL,
    seq_lo       bigint NOT NULL,                 -- smallest and largest sequence number of the batch
    seq_hi       bigint NOT NULL,
    ts_lo        timestamptz NOT NULL,            -- oldest and newest reading
    ts_hi        timestamptz NOT NULL,
    point_keys   int[] NOT NULL,                  -- one element per reading, in the same order in every array
    seqs         bigint[] NOT NULL,
    times        timestamptz[] NOT NULL,
    vals         double precision[] NOT NULL,
    qualities    smallint[] NOT NULL,
    -- seq_hi before seq_lo: the sink's overlap probe scans a device's batches from seq_hi >= its seq_lo,
    -- which for a new batch (sequence numbers grow) finds nothing after one index descent. The time range
    -- is part of the key: a gateway whose sequence restarted sends the same sequence ranges again with new
    -- readings (a key of seq alone would make their batch a conflict, dropped), and the probe filters on
    -- it in the index where sequence ranges say little (a file import's random sequence numbers).
    PRIMARY KEY (gateway_key, device_id, seq_hi, seq_lo, ts_hi, ts_lo)
);
-- a point's readings: the batches of its device by time, newest-first and oldest-first searches alike
CREATE INDEX IF NOT EXISTS reading_batches_device_hi_idx ON reading_batches (device_id, ts_hi);
CREATE INDEX IF NOT EXISTS reading_batches_device_lo_idx ON reading_batches (device_id, ts_lo);
-- the sink updates a point's current minute and hour at every write: room on each page lets those updates be
-- HOT (no new index entry, dead versions pruned in place)
ALTER TABLE rollup_1m SET (fillfactor = 70);
ALTER TABLE rollup_1h SET (fillfactor = 70);
-- rows are deleted as compaction moves them on: vacuum them often so the table stays the size of the hot window
ALTER TABLE reading_batches SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_vacuum_insert_scale_factor = 0.05);

-- the readings of a point held in hot batches, in [p_from, p_to)
CREATE OR REPLACE FUNCTION cf_batch_readings(p_point int, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (gateway_key int, seq bigint, ts timestamptz, point_key int, value double precision,
               quality smallint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT b.gateway_key, u.seq, u.ts, u.pk, u.value, u.quality
      FROM points p
      JOIN reading_batches b ON b.device_id = p.device_id AND b.ts_hi >= p_from AND b.ts_lo < p_to
     CROSS JOIN LATERAL unnest(b.point_keys, b.seqs, b.times, b.vals, b.qualities) AS u(pk, seq, ts, value, quality)
     WHERE p.point_key = p_point AND u.pk = p_point AND u.ts >= p_from AND u.ts < p_to
$$;

-- the newest (p_newest) or oldest reading of a point in hot batches in [p_from, p_to) with quality <=
-- p_max_quality and, when p_need_value, a value. Batches are visited newest-last-reading first (oldest-
-- first-reading first) and the search stops at the first batch that cannot hold a better one, so the
-- latest value of a point that every batch carries costs one batch.
CREATE OR REPLACE FUNCTION cf_batch_edge(p_point int, p_from timestamptz, p_to timestamptz, p_max_quality int,
                                         p_need_value boolean, p_newest boolean)
RETURNS TABLE (gateway_key int, seq bigint, ts timestamptz, point_key int, value double precision,
               quality smallint)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    dev text;
    b record;
    found_ts timestamptz;
    hit record;
BEGIN
    SELECT p.device_id INTO dev FROM points p WHERE p.point_key = p_point;
    IF dev IS NULL THEN
        RETURN;
    END IF;
    IF p_newest THEN
        FOR b IN SELECT * FROM reading_batches rb WHERE rb.device_id = dev AND rb.ts_hi >= p_from
                    AND rb.ts_lo < p_to ORDER BY rb.ts_hi DESC LOOP
            EXIT WHEN found_ts IS NOT NULL AND b.ts_hi < found_ts;
            SELECT b.gateway_key AS gk, u.seq, u.ts, u.value, u.quality INTO hit
              FROM unnest(b.point_keys, b.seqs, b.times, b.vals, b.qualities) AS u(pk, seq, ts, value, quality)
             WHERE u.pk = p_point AND u.ts >= p_from AND u.ts < p_to AND u.quality <= p_max_quality
               AND (NOT p_need_value OR u.value IS NOT NULL)
               AND (found_ts IS NULL OR u.ts > found_ts)
             ORDER BY u.ts DESC, u.seq LIMIT 1;
            IF FOUND THEN
                found_ts := hit.ts;
                gateway_key := hit.gk; seq := hit.seq; ts := hit.ts; point_key := p_point;
                value := hit.value; quality := hit.quality;
            END IF;
        END LOOP;
    ELSE
        FOR b IN SELECT * FROM reading_batches rb WHERE rb.device_id = dev AND rb.ts_lo < p_to
                    AND rb.ts_hi >= p_from ORDER BY rb.ts_lo LOOP
            EXIT WHEN found_ts IS NOT NULL AND b.ts_lo > found_ts;
            SELECT b.gateway_key AS gk, u.seq, u.ts, u.value, u.quality INTO hit
              FROM unnest(b.point_keys, b.seqs, b.times, b.vals, b.qualities) AS u(pk, seq, ts, value, quality)
             WHERE u.pk = p_point AND u.ts >= p_from AND u.ts < p_to AND u.quality <= p_max_quality
               AND (NOT p_need_value OR u.value IS NOT NULL)
               AND (found_ts IS NULL OR u.ts < found_ts)
             ORDER BY u.ts, u.seq LIMIT 1;
            IF FOUND THEN
                found_ts := hit.ts;
                gateway_key := hit.gk; seq := hit.seq; ts := hit.ts; point_key := p_point;
                value := hit.value; quality := hit.quality;
            END IF;
        END LOOP;
    END IF;
    IF found_ts IS NOT NULL THEN
        RETURN NEXT;
    END IF;
END $$;

-- every reading of a point in [p_from, p_to), in no particular order: hot rows, hot batches, blocks
CREATE OR REPLACE FUNCTION cf_point_readings(p_point int, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (gateway_key int, seq bigint, ts timestamptz, point_key int, value double precision,
               quality smallint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT r.gateway_key, r.seq, r.ts, r.point_key, r.value, r.quality FROM readings r
     WHERE r.point_key = p_point AND r.ts >= p_from AND r.ts < p_to
    UNION ALL
    SELECT * FROM cf_batch_readings(p_point, p_from, p_to)
    UNION ALL
    SELECT COALESCE(b.gateway_key, u.gk), u.seq, u.ts, b.point_key, u.value, u.quality
      FROM reading_blocks b
     CROSS JOIN LATERAL unnest(b.gateway_keys, b.seqs, b.times, b.vals, b.qualities) AS u(gk, seq, ts, value, quality)
     WHERE b.point_key = p_point AND b.hour > p_from - interval '1 hour' AND b.hour < p_to
       AND u.ts >= p_from AND u.ts < p_to
$$;

CREATE OR REPLACE FUNCTION cf_point_last(p_point int, p_from timestamptz, p_to timestamptz,
                                         p_max_quality int DEFAULT 2, p_need_value boolean DEFAULT false)
RETURNS TABLE (gateway_key int, seq bigint, ts timestamptz, point_key int, value double precision,
               quality smallint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT c.* FROM (
        (SELECT r.gateway_key, r.seq, r.ts, r.point_key, r.value, r.quality FROM readings r
          WHERE r.point_key = p_point AND r.ts >= p_from AND r.ts < p_to AND r.quality <= p_max_quality
            AND (NOT p_need_value OR r.value IS NOT NULL)
          ORDER BY r.ts DESC LIMIT 1)
        UNION ALL
        SELECT * FROM cf_batch_edge(p_point, p_from, p_to, p_max_quality, p_need_value, true)
        UNION ALL
        -- blocks newest hour first: the first block holding a match holds the newest one
        (SELECT x.* FROM reading_blocks b CROSS JOIN LATERAL (
             SELECT COALESCE(b.gateway_key, u.gk) AS gateway_key, u.seq, u.ts, b.point_key, u.value, u.quality
               FROM unnest(b.gateway_keys, b.seqs, b.times, b.vals, b.qualities) AS u(gk, seq, ts, value, quality)
              WHERE u.ts >= p_from AND u.ts < p_to AND u.quality <= p_max_quality
                AND (NOT p_need_value OR u.value IS NOT NULL)
              ORDER BY u.ts DESC LIMIT 1) x
          WHERE b.point_key = p_point AND b.hour > p_from - interval '1 hour' AND b.hour < p_to
          ORDER BY b.hour DESC LIMIT 1)
    ) c ORDER BY c.ts DESC LIMIT 1
$$;

CREATE OR REPLACE FUNCTION cf_point_first(p_point int, p_from timestamptz, p_to timestamptz,
                                          p_max_quality int DEFAULT 2, p_need_value boolean DEFAULT false)
RETURNS TABLE (gateway_key int, seq bigint, ts timestamptz, point_key int, value double precision,
               quality smallint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT c.* FROM (
        (SELECT r.gateway_key, r.seq, r.ts, r.point_key, r.value, r.quality FROM readings r
          WHERE r.point_key = p_point AND r.ts >= p_from AND r.ts < p_to AND r.quality <= p_max_quality
            AND (NOT p_need_value OR r.value IS NOT NULL)
          ORDER BY r.ts LIMIT 1)
        UNION ALL
        SELECT * FROM cf_batch_edge(p_point, p_from, p_to, p_max_quality, p_need_value, false)
        UNION ALL
        (SELECT x.* FROM reading_blocks b CROSS JOIN LATERAL (
             SELECT COALESCE(b.gateway_key, u.gk) AS gateway_key, u.seq, u.ts, b.point_key, u.value, u.quality
               FROM unnest(b.gateway_keys, b.seqs, b.times, b.vals, b.qualities) AS u(gk, seq, ts, value, quality)
              WHERE u.ts >= p_from AND u.ts < p_to AND u.quality <= p_max_quality
                AND (NOT p_need_value OR u.value IS NOT NULL)
              ORDER BY u.ts LIMIT 1) x
          WHERE b.point_key = p_point AND b.hour > p_from - interval '1 hour' AND b.hour < p_to
          ORDER BY b.hour LIMIT 1)
    ) c ORDER BY c.ts LIMIT 1
$$;

CREATE OR REPLACE FUNCTION cf_points_reading_count(p_points int[], p_limit bigint)
RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT least(p_limit,
                 (SELECT count(*) FROM (SELECT 1 FROM readings WHERE point_key = ANY(p_points) LIMIT p_limit) r)
                 + (SELECT count(*) FROM (SELECT 1 FROM reading_batches b CROSS JOIN LATERAL unnest(b.point_keys) AS u(pk)
                     WHERE b.device_id IN (SELECT p.device_id FROM points p WHERE p.point_key = ANY(p_points))
                       AND u.pk = ANY(p_points) LIMIT p_limit) h)
                 + (SELECT COALESCE(sum(n), 0) FROM reading_blocks WHERE point_key = ANY(p_points)))
$$;

-- every stored reading, whichever store holds it: for audits, tests and ad-hoc queries (it reads every
-- batch and block; point queries go through the functions above)
CREATE OR REPLACE VIEW all_readings AS
    SELECT r.gateway_key, r.seq, r.ts, r.point_key, r.value, r.quality FROM readings r
    UNION ALL
    SELECT b.gateway_key, u.seq, u.ts, u.pk, u.value, u.quality FROM reading_batches b
     CROSS JOIN LATERAL unnest(b.point_keys, b.seqs, b.times, b.vals, b.qualities) AS u(pk, seq, ts, value, quality)
    UNION ALL
    SELECT COALESCE(b.gateway_key, u.gk), u.seq, u.ts, b.point_key, u.value, u.quality FROM reading_blocks b
     CROSS JOIN LATERAL unnest(b.gateway_keys, b.seqs, b.times, b.vals, b.qualities) AS u(gk, seq, ts, value, quality);

-- The newest reading stored as a row when batches came: the sink checks incoming readings up to then
-- against the rows as well (a replay of something stored before this migration), and no later ones.
CREATE TABLE IF NOT EXISTS reading_rows_horizon (newest timestamptz);
INSERT INTO reading_rows_horizon SELECT max(ts) FROM readings WHERE NOT EXISTS (SELECT 1 FROM reading_rows_horizon);
