-- Raw readings of one point as stored: hot rows of `readings` and compacted hours of `reading_blocks`
-- (075) alike, as (gateway_key, seq, ts, point_key, value, quality) rows. Every reader of raw readings
-- goes through these functions. Blocks are pruned by hour before their arrays are unnested (a plain
-- UNION ALL view could not prune them by time). Intervals are half-open, [p_from, p_to): a reader that
-- wants ts > t passes t + 1 microsecond (timestamptz's resolution).
--
-- The functions are SQL, STABLE and single statements, so the planner inlines them into the calling
-- query and prunes partitions and uses the (point_key, ts) index as for a direct query on readings.

-- every reading of a point in [p_from, p_to), in no particular order
CREATE OR REPLACE FUNCTION cf_point_readings(p_point int, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (gateway_key int, seq bigint, ts timestamptz, point_key int, value double precision,
               quality smallint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT r.gateway_key, r.seq, r.ts, r.point_key, r.value, r.quality FROM readings r
     WHERE r.point_key = p_point AND r.ts >= p_from AND r.ts < p_to
    UNION ALL
    SELECT COALESCE(b.gateway_key, u.gk), u.seq, u.ts, b.point_key, u.value, u.quality
      FROM reading_blocks b
     CROSS JOIN LATERAL unnest(b.gateway_keys, b.seqs, b.times, b.vals, b.qualities) AS u(gk, seq, ts, value, quality)
     WHERE b.point_key = p_point AND b.hour > p_from - interval '1 hour' AND b.hour < p_to
       AND u.ts >= p_from AND u.ts < p_to
$$;

-- the newest reading of a point in [p_from, p_to) with quality <= p_max_quality (2: any, 1: good or
-- uncertain) and, when p_need_value, a value; no row when there is none
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

-- the oldest such reading in [p_from, p_to)
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

-- how many readings the points hold, hot and compacted (deleting a point or device is refused while any)
CREATE OR REPLACE FUNCTION cf_points_reading_count(p_points int[], p_limit bigint)
RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT least(p_limit,
                 (SELECT count(*) FROM (SELECT 1 FROM readings WHERE point_key = ANY(p_points) LIMIT p_limit) r)
                 + (SELECT COALESCE(sum(n), 0) FROM reading_blocks WHERE point_key = ANY(p_points)))
$$;
