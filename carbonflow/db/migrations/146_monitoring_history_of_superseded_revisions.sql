-- A figure's revision history (issue 17): until now every write was copied into monitoring_figure_revisions, so a
-- first import wrote each figure twice (the current row and an identical history row, 280 bytes with its index
-- entry). Now the current row is the latest revision and carries who recorded it (recorded_by; recorded_at is its
-- updated_at); the history table keeps the superseded revisions only, appended when a correction or recomputation
-- supersedes the current row, or when the figure is deleted (its unit deleted, or the figures deleted or truncated),
-- so nothing is erased. The view monitoring_figure_history is what the history reads: every revision, superseded
-- or current, with the same columns as the history table had.
--
-- A current row with recorded_by NULL was written without a history entry (inserted by SQL, not by store_figures)
-- and is not part of its history, as before.

ALTER TABLE monitoring_figures ADD COLUMN IF NOT EXISTS recorded_by text;

-- The history rows that repeat a current row (same revision and values, written by the same transaction) give it
-- their recorded_by and go; any other history row stays.
CREATE TEMP TABLE current_revisions ON COMMIT DROP AS
SELECT r.unit_id, r.month, r.item, r.revision, r.recorded_by
FROM monitoring_figure_revisions r JOIN monitoring_figures f USING (unit_id, month, item, revision)
WHERE f.recorded_by IS NULL AND (r.quantity, r.unit, r.tco2, r.tce, r.factor_ids, r.source, r.batch_id, r.recorded_at)
      IS NOT DISTINCT FROM (f.quantity, f.unit, f.tco2, f.tce, f.factor_ids, f.source, f.batch_id, f.updated_at);
UPDATE monitoring_figures f SET recorded_by = c.recorded_by FROM current_revisions c
WHERE (f.unit_id, f.month, f.item) = (c.unit_id, c.month, c.item);
ALTER TABLE monitoring_figure_revisions DISABLE TRIGGER monitoring_figure_revisions_append_only;
DELETE FROM monitoring_figure_revisions r USING current_revisions c
WHERE (r.unit_id, r.month, r.item, r.revision) = (c.unit_id, c.month, c.item, c.revision);
ALTER TABLE monitoring_figure_revisions ENABLE TRIGGER monitoring_figure_revisions_append_only;

CREATE OR REPLACE VIEW monitoring_figure_history AS
SELECT unit_id, month, item, revision, quantity, unit, tco2, tce, factor_ids, source, batch_id, recorded_by,
       recorded_at
FROM monitoring_figure_revisions
UNION ALL
SELECT unit_id, month, item, revision, quantity, unit, tco2, tce, factor_ids, source, batch_id, recorded_by,
       updated_at
FROM monitoring_figures WHERE recorded_by IS NOT NULL;

-- Deleted or truncated figures keep their last revision in the history (as every revision stayed before).
CREATE OR REPLACE FUNCTION cf_monitoring_figures_archived() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO monitoring_figure_revisions (unit_id, month, item, revision, quantity, unit, tco2, tce, factor_ids,
                                                 source, batch_id, recorded_by, recorded_at)
        SELECT unit_id, month, item, revision, quantity, unit, tco2, tce, factor_ids, source, batch_id, recorded_by,
               updated_at
        FROM monitoring_figures WHERE recorded_by IS NOT NULL;
    ELSE
        INSERT INTO monitoring_figure_revisions (unit_id, month, item, revision, quantity, unit, tco2, tce, factor_ids,
                                                 source, batch_id, recorded_by, recorded_at)
        SELECT unit_id, month, item, revision, quantity, unit, tco2, tce, factor_ids, source, batch_id, recorded_by,
               updated_at
        FROM gone WHERE recorded_by IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS monitoring_figures_archived ON monitoring_figures;
CREATE TRIGGER monitoring_figures_archived AFTER DELETE ON monitoring_figures
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION cf_monitoring_figures_archived();
DROP TRIGGER IF EXISTS monitoring_figures_archived_on_truncate ON monitoring_figures;
CREATE TRIGGER monitoring_figures_archived_on_truncate BEFORE TRUNCATE ON monitoring_figures
    FOR EACH STATEMENT EXECUTE FUNCTION cf_monitoring_figures_archived();
