-- Unit energy data of the electricity-carbon factors may come from the government monitoring figures
-- (api/grid_factors/monitoring_link.py), not only from a JSON body or an uploaded file.
ALTER TABLE grid_unit_imports DROP CONSTRAINT IF EXISTS grid_unit_imports_origin_check;
ALTER TABLE grid_unit_imports ADD CONSTRAINT grid_unit_imports_origin_check
    CHECK (origin IN ('json', 'csv', 'xlsx', 'monitoring'));
