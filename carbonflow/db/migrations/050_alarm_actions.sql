-- Who cleared an alarm by hand, and why (POST /api/v1/alarms/{id}/clear); NULL when the rule cleared it.
ALTER TABLE alarms ADD COLUMN IF NOT EXISTS cleared_by text;
ALTER TABLE alarms ADD COLUMN IF NOT EXISTS clear_comment text;
CREATE INDEX IF NOT EXISTS alarms_device_idx ON alarms (device_id, raised_at);
