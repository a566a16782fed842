-- Alarms of the platform itself, tied to no device or gateway (a failed intermediate-database sync, ...): source
-- 'platform', raised and cleared through api.alarms.raise_platform_alarm / clear_platform_alarm. device_id then
-- holds what the alarm is about (e.g. monitoring_sync:erp), so the one-active-alarm rule (rule, device_id, point)
-- holds for them too; such an alarm has no site and is listed to callers whose scope covers every site.
ALTER TABLE alarms ADD COLUMN IF NOT EXISTS source text NOT NULL DEFAULT 'device'
    CHECK (source IN ('device', 'platform'));
