-- The pre-aggregated monitoring totals (migration 104) follow a unit's figures whichever way they leave or move, so
-- that every view still equals a fresh sum over the current figures (docs/monitoring.md, "Scale"):
--   * a unit deleted: its figures go with it (ON DELETE CASCADE) and are taken out of its region's totals first
--     (its unit totals go by cascade);
--   * figures deleted directly: taken out of their unit's region and unit totals;
--   * a unit given another region or industry (PATCH /units/{id}, or SQL): its figures are taken out of the old
--     region x industry totals and added to the new ones, and its unit totals are relabelled;
--   * the figures truncated: the totals are emptied with them.
-- store_figures keeps the totals of figures written (as deltas, in the application); these triggers cover the rest.
-- Each takes the same advisory lock of the unit as store_figures (queries._FIGURE_LOCK, bucket unit_id % 1024), so a
-- unit's figures do not move under a concurrent writer's delta.

-- Add (p_sign 1) or take out (p_sign -1) the figures of unit p_unit to or from the totals of region x industry, month and
-- year rows, industry and all-industries ('*') rows.
CREATE OR REPLACE FUNCTION cf_monitoring_shift_unit_totals(p_unit bigint, p_region char(6), p_industry text, p_sign int)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO monitoring_region_totals AS t (grain, period, region_code, industry_code, item, quantity, tco2, tce,
                                               figures)
    SELECT g.grain, CASE WHEN g.grain = 'm' THEN f.month ELSE date_trunc('year', f.month)::date END, p_region,
           CASE WHEN a.all_industries THEN '*' ELSE p_industry END, f.item, p_sign * sum(f.quantity),
           p_sign * COALESCE(sum(f.tco2), 0), p_sign * COALESCE(sum(f.tce), 0), p_sign * count(*)
    FROM monitoring_figures f CROSS JOIN (VALUES ('m'), ('y')) AS g (grain)
    CROSS JOIN (VALUES (false), (true)) AS a (all_industries)
    WHERE f.unit_id = p_unit GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (grain, period, region_code, industry_code, item) DO UPDATE SET
        quantity = t.quantity + EXCLUDED.quantity, tco2 = t.tco2 + EXCLUDED.tco2, tce = t.tce + EXCLUDED.tce,
        figures = t.figures + EXCLUDED.figures
$$;

CREATE OR REPLACE FUNCTION cf_monitoring_unit_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(217055492, (OLD.unit_id % 1024)::int);
    PERFORM cf_monitoring_shift_unit_totals(OLD.unit_id, OLD.region_code, OLD.industry_code, -1);
    RETURN OLD;
END
$$;
DROP TRIGGER IF EXISTS monitoring_unit_deleted ON monitoring_units;
CREATE TRIGGER monitoring_unit_deleted BEFORE DELETE ON monitoring_units
    FOR EACH ROW EXECUTE FUNCTION cf_monitoring_unit_deleted();

CREATE OR REPLACE FUNCTION cf_monitoring_unit_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(217055492, (NEW.unit_id % 1024)::int);
    PERFORM cf_monitoring_shift_unit_totals(NEW.unit_id, OLD.region_code, OLD.industry_code, -1);
    PERFORM cf_monitoring_shift_unit_totals(NEW.unit_id, NEW.region_code, NEW.industry_code, 1);
    UPDATE monitoring_unit_totals SET region_code = NEW.region_code, industry_code = NEW.industry_code
    WHERE unit_id = NEW.unit_id;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS monitoring_unit_moved ON monitoring_units;
CREATE TRIGGER monitoring_unit_moved AFTER UPDATE OF region_code, industry_code ON monitoring_units
    FOR EACH ROW WHEN (OLD.region_code IS DISTINCT FROM NEW.region_code
                       OR OLD.industry_code IS DISTINCT FROM NEW.industry_code)
    EXECUTE FUNCTION cf_monitoring_unit_moved();

-- Figures deleted by a statement: the ones whose unit is still registered are taken out of the totals (a deleted
-- unit's figures were taken out by monitoring_unit_deleted, and its unit totals went by cascade).
CREATE OR REPLACE FUNCTION cf_monitoring_figures_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(217055492, bucket)
    FROM (SELECT DISTINCT (unit_id % 1024)::int AS bucket FROM gone ORDER BY 1) AS buckets;
    INSERT INTO monitoring_region_totals AS t (grain, period, region_code, industry_code, item, quantity, tco2, tce,
                                               figures)
    SELECT g.grain, CASE WHEN g.grain = 'm' THEN f.month ELSE date_trunc('year', f.month)::date END, u.region_code,
           CASE WHEN a.all_industries THEN '*' ELSE u.industry_code END, f.item, -sum(f.quantity),
           -COALESCE(sum(f.tco2), 0), -COALESCE(sum(f.tce), 0), -count(*)
    FROM gone f JOIN monitoring_units u USING (unit_id) CROSS JOIN (VALUES ('m'), ('y')) AS g (grain)
    CROSS JOIN (VALUES (false), (true)) AS a (all_industries)
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (grain, period, region_code, industry_code, item) DO UPDATE SET
        quantity = t.quantity + EXCLUDED.quantity, tco2 = t.tco2 + EXCLUDED.tco2, tce = t.tce + EXCLUDED.tce,
        figures = t.figures + EXCLUDED.figures;
    UPDATE monitoring_unit_totals t SET tco2 = t.tco2 - d.tco2, tce = t.tce - d.tce,
        value_added = t.value_added - d.value_added, energy_figures = t.energy_figures - d.energy_figures,
        value_added_figures = t.value_added_figures - d.value_added_figures
    FROM (SELECT g.grain, CASE WHEN g.grain = 'm' THEN f.month ELSE date_trunc('year', f.month)::date END AS period,
                 f.unit_id, COALESCE(sum(f.tco2), 0) AS tco2,
                 COALESCE(sum(f.tce) FILTER (WHERE f.item NOT IN ('value_added', 'gross_output', 'main_product')),
                          0) AS tce,
                 COALESCE(sum(f.quantity) FILTER (WHERE f.item = 'value_added'), 0) AS value_added,
                 count(*) FILTER (WHERE f.item NOT IN ('value_added', 'gross_output', 'main_product'))
                     AS energy_figures,
                 count(*) FILTER (WHERE f.item = 'value_added') AS value_added_figures
          FROM gone f JOIN monitoring_units u USING (unit_id) CROSS JOIN (VALUES ('m'), ('y')) AS g (grain)
          GROUP BY 1, 2, 3) AS d
    WHERE (t.grain, t.period, t.unit_id) = (d.grain, d.period, d.unit_id);
    -- a unit left without figures in a month or year leaves that period's ranking
    DELETE FROM monitoring_unit_totals t USING (SELECT DISTINCT unit_id, month FROM gone) AS f
    WHERE t.unit_id = f.unit_id AND t.period IN (f.month, date_trunc('year', f.month)::date)
      AND t.period = CASE WHEN t.grain = 'm' THEN f.month ELSE date_trunc('year', f.month)::date END
      AND NOT EXISTS (SELECT 1 FROM monitoring_figures c WHERE c.unit_id = t.unit_id AND c.month >= t.period
                      AND c.month < t.period + CASE WHEN t.grain = 'm' THEN interval '1 month'
                                                    ELSE interval '1 year' END);
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS monitoring_figures_deleted ON monitoring_figures;
CREATE TRIGGER monitoring_figures_deleted AFTER DELETE ON monitoring_figures
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION cf_monitoring_figures_deleted();

CREATE OR REPLACE FUNCTION cf_monitoring_figures_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM monitoring_region_totals;
    DELETE FROM monitoring_unit_totals;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS monitoring_figures_truncated ON monitoring_figures;
CREATE TRIGGER monitoring_figures_truncated AFTER TRUNCATE ON monitoring_figures
    FOR EACH STATEMENT EXECUTE FUNCTION cf_monitoring_figures_truncated();

-- Totals left stale before this migration (units or figures deleted earlier) are rebuilt from the figures once.
DELETE FROM monitoring_region_totals;
DELETE FROM monitoring_unit_totals;
INSERT INTO monitoring_region_totals (grain, period, region_code, industry_code, item, quantity, tco2, tce, figures)
SELECT g.grain, CASE WHEN g.grain = 'm' THEN f.month ELSE date_trunc('year', f.month)::date END, u.region_code,
       CASE WHEN a.all_industries THEN '*' ELSE u.industry_code END, f.item, sum(f.quantity),
       COALESCE(sum(f.tco2), 0), COALESCE(sum(f.tce), 0), count(*)
FROM monitoring_figures f JOIN monitoring_units u USING (unit_id) CROSS JOIN (VALUES ('m'), ('y')) AS g (grain)
CROSS JOIN (VALUES (false), (true)) AS a (all_industries)
GROUP BY 1, 2, 3, 4, 5;
INSERT INTO monitoring_unit_totals (grain, period, unit_id, region_code, industry_code, tco2, tce, value_added,
                                    energy_figures, value_added_figures)
SELECT g.grain, CASE WHEN g.grain = 'm' THEN f.month ELSE date_trunc('year', f.month)::date END,
       u.unit_id, u.region_code, u.industry_code, COALESCE(sum(f.tco2), 0),
       COALESCE(sum(f.tce) FILTER (WHERE f.item NOT IN ('value_added', 'gross_output', 'main_product')), 0),
       COALESCE(sum(f.quantity) FILTER (WHERE f.item = 'value_added'), 0),
       count(*) FILTER (WHERE f.item NOT IN ('value_added', 'gross_output', 'main_product')),
       count(*) FILTER (WHERE f.item = 'value_added')
FROM monitoring_figures f JOIN monitoring_units u USING (unit_id) CROSS JOIN (VALUES ('m'), ('y')) AS g (grain)
GROUP BY 1, 2, 3;

-- A sync pull is checked like a file (duplicate rows included): with refused rows nothing of the pull is stored unless
-- the source takes valid rows (take_valid); the refused rows of the last run are kept in last_refused (line, key,
-- field, reason). Sources configured before this migration stored their valid rows and keep doing so; new ones
-- follow the file import's default.
ALTER TABLE monitoring_sync_sources ADD COLUMN IF NOT EXISTS take_valid boolean NOT NULL DEFAULT true;
ALTER TABLE monitoring_sync_sources ALTER COLUMN take_valid SET DEFAULT false;
ALTER TABLE monitoring_sync_sources ADD COLUMN IF NOT EXISTS last_refused jsonb;

-- The monitoring service's scheduled jobs (`carbonflow monitoring schedule`, run by the demo): the recomputation of
-- tCO2/tce after the factor library changed, and the metered monthly figures. One row per job with its last run;
-- `library` is the fingerprint of the factor library the last successful recomputation used, so that the next one
-- runs only when the library has changed since.
CREATE TABLE IF NOT EXISTS monitoring_jobs (
    job         text PRIMARY KEY CHECK (job IN ('recompute', 'meter_months')),
    last_run_at timestamptz,
    last_ok_at  timestamptz,
    last_error  text,
    library     text
);
