-- Platform alarms about a region (issue 21: a sub-region or an industry of a region off track against its issued
-- target): region_code, a GB/T 2260 code, names it, so that the alarm list shows such an alarm to the government
-- users of that region or a parent region (api/alarms/queries.py), as enterprise_id does for an enterprise's.
-- No foreign key: an alarm's history outlives the region row it was about.
ALTER TABLE alarms ADD COLUMN IF NOT EXISTS region_code text;
CREATE INDEX IF NOT EXISTS alarms_region ON alarms (region_code) WHERE region_code IS NOT NULL;
