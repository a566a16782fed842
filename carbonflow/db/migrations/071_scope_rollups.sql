-- Rollups per device, process, site and enterprise by event time (1 hour and 1 UTC day): activity
-- quantity, energy (kWh) and tCO2 per activity, plus production per product.
--
-- Source rows: `emissions` (emitting activities) and `activity_intervals` (counter intervals of points
-- bound to a non-emitting activity, e.g. production:<product>). The stream job adds to the rollups, in
-- the statement that upserts those rows, the difference between each row's new and previous values:
-- a replayed or re-derived interval adds nothing, a late one lands in the bucket its interval ends in.
-- Sums are numeric, so they do not depend on the order rows were added in: the live path and a
-- rebuild from the source rows (cf_rebuild_scope_rollups, used by `carbonflow recompute`) agree exactly.
--
-- scope_id per level: device -> device_id; process -> '<site_id>/<process>' (process '' when the
-- device has none); site -> site_id; enterprise -> enterprise_id. Devices without a site only have
-- device rows.

-- energy content of an emission interval: electricity and heat by unit, fuels by NCV
ALTER TABLE emissions ADD COLUMN IF NOT EXISTS energy_kwh double precision;
UPDATE emissions SET energy_kwh = quantity * 1000 WHERE activity = 'electricity' AND energy_kwh IS NULL;
UPDATE emissions SET energy_kwh = quantity / 0.0036 WHERE activity = 'heat' AND energy_kwh IS NULL;
UPDATE emissions e SET energy_kwh = e.quantity * f.value / 0.0036 FROM factors f
 WHERE e.energy_kwh IS NULL AND f.factor_id = e.factor_ids[1] AND f.key LIKE 'fuel.%.ncv' AND f.unit LIKE 'GJ/%';

CREATE TABLE IF NOT EXISTS activity_intervals (
    gateway_key   int NOT NULL,
    seq           bigint NOT NULL,
    ts            timestamptz NOT NULL,
    start_ts      timestamptz NOT NULL,
    point_key     int NOT NULL,
    site_id       text,
    activity      text NOT NULL,
    quantity      double precision NOT NULL,
    quantity_unit text NOT NULL,
    quality       smallint NOT NULL,
    PRIMARY KEY (gateway_key, seq, ts)
);
CREATE INDEX IF NOT EXISTS activity_intervals_site_ts_idx ON activity_intervals (site_id, ts);

CREATE TABLE IF NOT EXISTS scope_rollup_1h (
    level         text NOT NULL CHECK (level IN ('device', 'process', 'site', 'enterprise')),
    scope_id      text NOT NULL,
    bucket        timestamptz NOT NULL,
    activity      text NOT NULL,
    unit          text NOT NULL,
    quantity      numeric NOT NULL,
    energy_kwh    numeric NOT NULL,
    tco2          numeric NOT NULL,
    intervals     int NOT NULL,
    n_uncertain   int NOT NULL,
    n_bad         int NOT NULL,
    PRIMARY KEY (level, scope_id, bucket, activity, unit)
);
CREATE TABLE IF NOT EXISTS scope_rollup_1d (LIKE scope_rollup_1h INCLUDING ALL);

-- The contributions of source rows, one row per (level, scope) they count in. `src` has the columns
-- ts, point_key, site_id, activity, unit, quantity, energy_kwh, tco2, quality, sign.
CREATE OR REPLACE FUNCTION cf_scope_rollup_rows(width interval, src text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
SELECT format(
 'SELECT s.level, s.scope_id, date_bin(%L, c.ts, ''2000-01-01T00:00:00Z'') AS bucket, c.activity, c.unit,'
 ' sum(c.sign * c.quantity::numeric) AS quantity, sum(c.sign * COALESCE(c.energy_kwh, 0)::numeric) AS energy_kwh,'
 ' sum(c.sign * c.tco2::numeric) AS tco2, sum(c.sign)::int AS intervals,'
 ' sum(c.sign * (c.quality = 1)::int)::int AS n_uncertain, sum(c.sign * (c.quality = 2)::int)::int AS n_bad'
 ' FROM (%s) c JOIN points p ON p.point_key = c.point_key LEFT JOIN devices d ON d.device_id = p.device_id'
 ' LEFT JOIN sites st ON st.site_id = c.site_id'
 ' CROSS JOIN LATERAL (VALUES (''device'', p.device_id), (''process'', c.site_id || ''/'' || COALESCE(d.process, '''')),'
 '   (''site'', c.site_id), (''enterprise'', st.enterprise_id)) AS s(level, scope_id)'
 ' WHERE s.scope_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5', width, src)
$$;

-- Rebuild the rollup buckets overlapping [lo, hi) from the source rows: every scope of `site` (all
-- sites when NULL), the site's enterprise included (from all its sites).
CREATE OR REPLACE FUNCTION cf_rebuild_scope_rollups(site text, lo timestamptz, hi timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    tbl text;
    width interval;
    b0 timestamptz;
    b1 timestamptz;
    sites text[];
    scopes text[];
BEGIN
    IF site IS NULL THEN
        sites := ARRAY(SELECT site_id FROM sites UNION SELECT DISTINCT site_id FROM emissions WHERE site_id IS NOT NULL
                       UNION SELECT DISTINCT site_id FROM activity_intervals WHERE site_id IS NOT NULL);
    ELSE
        -- the enterprise's other sites count in its enterprise rows: include them in the rebuild
        sites := ARRAY(SELECT s2.site_id FROM sites s1 JOIN sites s2 USING (enterprise_id) WHERE s1.site_id = site
                       UNION SELECT site);
    END IF;
    FOREACH tbl IN ARRAY ARRAY['scope_rollup_1h', 'scope_rollup_1d'] LOOP
        width := CASE tbl WHEN 'scope_rollup_1h' THEN interval '1 hour' ELSE interval '1 day' END;
        b0 := date_bin(width, lo, '2000-01-01T00:00:00Z');
        b1 := date_bin(width, hi, '2000-01-01T00:00:00Z') + width;
        EXECUTE format(
            'DELETE FROM %I r WHERE r.bucket >= $1 AND r.bucket < $2 AND ('
            ' (r.level = ''device'' AND r.scope_id IN (SELECT device_id FROM devices WHERE site_id = ANY($3)'
            '   UNION SELECT p.device_id FROM points p JOIN emissions e ON e.point_key = p.point_key'
            '    WHERE e.site_id = ANY($3) AND e.ts >= $1 AND e.ts < $2'
            '   UNION SELECT p.device_id FROM points p JOIN activity_intervals a ON a.point_key = p.point_key'
            '    WHERE a.site_id = ANY($3) AND a.ts >= $1 AND a.ts < $2))'
            ' OR (r.level = ''process'' AND split_part(r.scope_id, ''/'', 1) = ANY($3))'
            ' OR (r.level = ''site'' AND r.scope_id = ANY($3))'
            ' OR (r.level = ''enterprise'' AND r.scope_id IN (SELECT enterprise_id FROM sites WHERE site_id = ANY($3))))',
            tbl) USING b0, b1, sites;
        EXECUTE format('INSERT INTO %I (level, scope_id, bucket, activity, unit, quantity, energy_kwh, tco2, intervals,'
                       ' n_uncertain, n_bad) %s', tbl, cf_scope_rollup_rows(width,
            'SELECT ts, point_key, site_id, activity, quantity_unit AS unit, quantity, energy_kwh, tco2, quality,'
            ' 1 AS sign FROM emissions WHERE site_id = ANY($3) AND ts >= $1 AND ts < $2'
            ' UNION ALL SELECT ts, point_key, site_id, activity, quantity_unit, quantity, NULL, 0, quality, 1'
            ' FROM activity_intervals WHERE site_id = ANY($3) AND ts >= $1 AND ts < $2'))
            USING b0, b1, sites;
    END LOOP;
END $$;

SELECT cf_rebuild_scope_rollups(NULL, (SELECT min(ts) FROM emissions), (SELECT max(ts) FROM emissions))
 WHERE EXISTS (SELECT 1 FROM emissions);
