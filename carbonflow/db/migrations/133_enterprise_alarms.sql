-- Platform alarms about an enterprise (issue 20: a projected allowance deficit, a compliance or trading deadline
-- ahead): enterprise_id names it, so that the alarm list shows such an alarm to the enterprise's users and the
-- government users of its region (api/alarms/queries.py), not only to callers whose scope covers every site.
-- No foreign key: an alarm's history outlives the enterprise it was about.
ALTER TABLE alarms ADD COLUMN IF NOT EXISTS enterprise_id text;
CREATE INDEX IF NOT EXISTS alarms_enterprise ON alarms (enterprise_id) WHERE enterprise_id IS NOT NULL;
