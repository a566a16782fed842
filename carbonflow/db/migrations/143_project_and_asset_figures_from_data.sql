-- Projects and assets take their figures from the platform's data (docs/projects.md).
--
-- A 两高 project's actual figures of a year computed from its bound meters (POST .../two-high/{year}/from-meters)
-- keep what they rest on: the months and points read, their quantities, tce and tCO2, the factor rows and what was
-- left out. NULL for figures entered from reports.
ALTER TABLE project_two_high ADD COLUMN IF NOT EXISTS actual_provenance jsonb;

-- A benchmark allocation whose output the platform took from its data names where: 'entered' (the caller gave
-- it), 'monitoring' (the main-product output of the enterprise's monitoring units) or 'pipeline' (the
-- production counters of its sites), with a line saying what was summed.
ALTER TABLE asset_allowances ADD COLUMN IF NOT EXISTS output_source text
    CHECK (output_source IN ('entered', 'monitoring', 'pipeline'));
ALTER TABLE asset_allowances ADD COLUMN IF NOT EXISTS output_basis text;
