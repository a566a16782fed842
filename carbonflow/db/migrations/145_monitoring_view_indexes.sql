-- Indexes of the monitoring views (issue 17).
--
-- Ranking a region's units without reading every unit total of the period (a province of 60,000 units took about
-- a second a page). queries.rank_units asks for one period's units under a region prefix, by tCO2 descending, then
-- unit id as text, a page at a time, with the count of all of them:
--   * monitoring_unit_totals_ranking is that order within one grain and period, carrying what the filters read
--     (region, industry), so a page is read in order and stops after offset + limit matching entries, from the
--     index alone;
--   * monitoring_unit_totals_region finds one city's or county's units (the LIKE prefix of region_code as a range,
--     hence the pattern operator class) and counts a region's units, from the index alone too.
-- Both name tCO2, so adding to a unit's total is no longer a HOT update (the unit totals are about 1 row in 7
-- figures, and an import mostly inserts them).
CREATE INDEX IF NOT EXISTS monitoring_unit_totals_ranking ON monitoring_unit_totals
    (grain, period, tco2 DESC, (unit_id::text)) INCLUDE (unit_id, region_code, industry_code);
CREATE INDEX IF NOT EXISTS monitoring_unit_totals_region ON monitoring_unit_totals
    (grain, period, region_code bpchar_pattern_ops) INCLUDE (industry_code, tco2, unit_id);

-- Every view's total and monthly trend read the all-industries rows ('*') of the region totals: one row in 27 of a
-- province's, scattered over the whole table, which without this index was read in full for the trend (about 60 ms
-- a view at a year's province scale). The index names only columns that never change, so adding to a total stays
-- a HOT update.
CREATE INDEX IF NOT EXISTS monitoring_region_totals_all_industries
    ON monitoring_region_totals (grain, period, region_code)
    WHERE industry_code = '*';
