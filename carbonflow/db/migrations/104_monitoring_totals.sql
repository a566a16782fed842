-- Pre-aggregated monitoring totals (docs/monitoring.md, "Scale"): the region and industry views and the ranking of
-- a region's units read these instead of adding up millions of figures. Both are kept by
-- api.monitoring.queries.store_figures in the same transaction as the figures, as deltas of the changed
-- figures (a correction supersedes: the old value is taken out, the new one added), so a total always equals the
-- sum over the current figures. grain 'm' rows hold one month (period = its first day), 'y' rows one calendar
-- year (period = 1 January). A unit moved to another region or industry takes its totals along
-- (queries.update_unit).

-- region x industry x period x item: the region, industry and trend views. industry_code '*' rows add up all
-- industries of the region, so that a view neither filtered nor grouped by industry reads a row per region.
CREATE TABLE IF NOT EXISTS monitoring_region_totals (
    grain         char(1) NOT NULL CHECK (grain IN ('m', 'y')),
    period        date NOT NULL,
    region_code   char(6) NOT NULL,
    industry_code text NOT NULL,
    item          text NOT NULL,
    quantity      double precision NOT NULL DEFAULT 0,
    tco2          double precision NOT NULL DEFAULT 0,
    tce           double precision NOT NULL DEFAULT 0,
    figures       int NOT NULL DEFAULT 0,  -- how many current figures the row adds up (0: none left)
    PRIMARY KEY (grain, period, region_code, industry_code, item)
);

-- unit x period: the ranking of a region's units (by tCO2, tce or intensity) without reading their figures
CREATE TABLE IF NOT EXISTS monitoring_unit_totals (
    grain               char(1) NOT NULL CHECK (grain IN ('m', 'y')),
    period              date NOT NULL,
    unit_id             bigint NOT NULL REFERENCES monitoring_units ON DELETE CASCADE,
    region_code         char(6) NOT NULL,
    industry_code       text NOT NULL,
    tco2                double precision NOT NULL DEFAULT 0,
    tce                 double precision NOT NULL DEFAULT 0,
    value_added         double precision NOT NULL DEFAULT 0,
    energy_figures      int NOT NULL DEFAULT 0,
    value_added_figures int NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, period, unit_id)
);

INSERT INTO monitoring_region_totals (grain, period, region_code, industry_code, item, quantity, tco2, tce, figures)
SELECT g.grain, CASE WHEN g.grain = 'm' THEN f.month ELSE date_trunc('year', f.month)::date END,
       u.region_code, u.industry_code, f.item, sum(f.quantity), COALESCE(sum(f.tco2), 0), COALESCE(sum(f.tce), 0),
       count(*)
FROM monitoring_figures f JOIN monitoring_units u USING (unit_id) CROSS JOIN (VALUES ('m'), ('y')) AS g (grain)
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT DO NOTHING;

INSERT INTO monitoring_region_totals (grain, period, region_code, industry_code, item, quantity, tco2, tce, figures)
SELECT grain, period, region_code, '*', item, sum(quantity), sum(tco2), sum(tce), sum(figures)
FROM monitoring_region_totals GROUP BY grain, period, region_code, item
ON CONFLICT DO NOTHING;

INSERT INTO monitoring_unit_totals (grain, period, unit_id, region_code, industry_code, tco2, tce, value_added,
                                    energy_figures, value_added_figures)
SELECT g.grain, CASE WHEN g.grain = 'm' THEN f.month ELSE date_trunc('year', f.month)::date END,
       u.unit_id, u.region_code, u.industry_code, COALESCE(sum(f.tco2), 0),
       COALESCE(sum(f.tce) FILTER (WHERE f.item NOT IN ('value_added', 'gross_output', 'main_product')), 0),
       COALESCE(sum(f.quantity) FILTER (WHERE f.item = 'value_added'), 0),
       count(*) FILTER (WHERE f.item NOT IN ('value_added', 'gross_output', 'main_product')),
       count(*) FILTER (WHERE f.item = 'value_added')
FROM monitoring_figures f JOIN monitoring_units u USING (unit_id) CROSS JOIN (VALUES ('m'), ('y')) AS g (grain)
GROUP BY 1, 2, 3
ON CONFLICT DO NOTHING;

-- Figures also come from the plant's metered rollups (`carbonflow monitoring meter-months`) and are recomputed
-- when a factor changes (`carbonflow monitoring recompute`); each such run is a batch like an import.
ALTER TABLE monitoring_batches DROP CONSTRAINT IF EXISTS monitoring_batches_source_check;
ALTER TABLE monitoring_batches ADD CONSTRAINT monitoring_batches_source_check
    CHECK (source IN ('file', 'rest', 'sync', 'metered', 'recompute'));

-- Writing figures fast (an import of a province stores about 100,000 figures a second): the views read the totals
-- above, so the figures no longer need their month index (a unit's figures are found by the primary key), and
-- the history's surrogate key, which nothing refers to, gives way to its natural key (unit, month, item,
-- revision), kept unique as before.
DROP INDEX IF EXISTS monitoring_figures_month;
ALTER TABLE monitoring_figure_revisions DROP CONSTRAINT IF EXISTS monitoring_figure_revisions_pkey;
ALTER TABLE monitoring_figure_revisions DROP COLUMN IF EXISTS revision_id;
