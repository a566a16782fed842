-- A 两高 project's actual figures of a year computed from its bound meters (POST .../two-high/{year}/from-meters)
-- keep what they rest on: the months and points read, their quantities, tce and tCO2, the factor rows and what was
-- left out. NULL for figures entered from reports.
ALTER TABLE project_two_high ADD COLUMN IF NOT EXISTS actual_provenance jsonb;
