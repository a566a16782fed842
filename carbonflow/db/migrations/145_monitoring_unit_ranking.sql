-- Ranking a region's units without reading every unit total of the period (issue 17: a province of 60,000 units
-- took about a second a page). queries.rank_units asks for one period's units under a region prefix, by tCO2
-- descending, then unit id as text, a page at a time, with the count of all of them:
--   * monitoring_unit_totals_ranking is that order within one grain and period, carrying what the filters read
--     (region, industry), so a page is read in order and stops after offset + limit matching entries, from the
--     index alone;
--   * monitoring_unit_totals_region finds one city's or county's units (the LIKE prefix of region_code as a range,
--     hence the pattern operator class) and counts a region's units, from the index alone too.
CREATE INDEX IF NOT EXISTS monitoring_unit_totals_ranking ON monitoring_unit_totals
    (grain, period, tco2 DESC, (unit_id::text)) INCLUDE (unit_id, region_code, industry_code);
CREATE INDEX IF NOT EXISTS monitoring_unit_totals_region ON monitoring_unit_totals
    (grain, period, region_code bpchar_pattern_ops) INCLUDE (industry_code, tco2, unit_id);
