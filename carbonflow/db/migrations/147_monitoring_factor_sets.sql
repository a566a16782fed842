-- The factor rows behind a monitoring figure's tCO2/tce (issue 17): an energy figure named them in its own text[]
-- (about 170 bytes, the same for every unit of an item and month), in the figure and again in each history row.
-- Now each distinct list is kept once in monitoring_factor_sets and a figure or history row holds its 8-byte key,
-- factor_set (NULL: no factor rows, as the economic items). The key is the list's content: the first 8 bytes of the
-- SHA-256 of its ids joined by U+001F, as a signed bigint (api.monitoring.queries computes the same in Python), so
-- that concurrent imports agree on a list's key without waiting for each other. Two imports registering the same new
-- list at once may both insert it: rows of one key are identical (a writer refuses a key whose stored list differs),
-- and readers take one of them (monitoring_factor_set_lists). The lists read through the API are unchanged.
-- On a large database the converted rows still hold the dropped text until they are rewritten: run
-- VACUUM FULL monitoring_figures, monitoring_figure_revisions afterwards to give that space back.

CREATE OR REPLACE FUNCTION cf_monitoring_factor_set_key(ids text[]) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN cardinality(ids) = 0 THEN NULL
                ELSE ('x' || left(encode(sha256(convert_to(array_to_string(ids, E'\x1f'), 'UTF8')), 'hex'), 16))
                     ::bit(64)::bigint END
$$;

CREATE TABLE IF NOT EXISTS monitoring_factor_sets (
    factor_set  bigint NOT NULL,
    factor_ids  text[] NOT NULL CHECK (cardinality(factor_ids) > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS monitoring_factor_sets_key ON monitoring_factor_sets (factor_set);

-- one row per key, whichever registration came first
CREATE OR REPLACE VIEW monitoring_factor_set_lists AS
SELECT DISTINCT ON (factor_set) factor_set, factor_ids FROM monitoring_factor_sets ORDER BY factor_set, created_at;

-- conversion of the stored lists
INSERT INTO monitoring_factor_sets (factor_set, factor_ids)
SELECT cf_monitoring_factor_set_key(ids), ids
FROM (SELECT factor_ids FROM monitoring_figures UNION SELECT factor_ids FROM monitoring_figure_revisions) AS l (ids)
WHERE cardinality(ids) > 0
  AND NOT EXISTS (SELECT 1 FROM monitoring_factor_sets s WHERE s.factor_set = cf_monitoring_factor_set_key(ids));
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM monitoring_factor_sets GROUP BY factor_set HAVING count(DISTINCT factor_ids) > 1) THEN
        RAISE EXCEPTION 'two lists of factor ids share a key in monitoring_factor_sets'
            USING HINT = 'Report it: the key needs more bits (cf_monitoring_factor_set_key).';
    END IF;
END $$;

DROP VIEW IF EXISTS monitoring_figure_history;

ALTER TABLE monitoring_figures ADD COLUMN IF NOT EXISTS factor_set bigint;
UPDATE monitoring_figures SET factor_set = cf_monitoring_factor_set_key(factor_ids) WHERE cardinality(factor_ids) > 0;
ALTER TABLE monitoring_figures DROP COLUMN IF EXISTS factor_ids;

ALTER TABLE monitoring_figure_revisions ADD COLUMN IF NOT EXISTS factor_set bigint;
ALTER TABLE monitoring_figure_revisions DISABLE TRIGGER monitoring_figure_revisions_append_only;
UPDATE monitoring_figure_revisions SET factor_set = cf_monitoring_factor_set_key(factor_ids)
WHERE cardinality(factor_ids) > 0;
ALTER TABLE monitoring_figure_revisions ENABLE TRIGGER monitoring_figure_revisions_append_only;
ALTER TABLE monitoring_figure_revisions DROP COLUMN IF EXISTS factor_ids;

-- every revision of every figure, superseded or current (migration 146), with its list of factor ids
CREATE VIEW monitoring_figure_history AS
SELECT h.unit_id, h.month, h.item, h.revision, h.quantity, h.unit, h.tco2, h.tce,
       COALESCE((SELECT s.factor_ids FROM monitoring_factor_set_lists s WHERE s.factor_set = h.factor_set),
                '{}') AS factor_ids,
       h.source, h.batch_id, h.recorded_by, h.recorded_at, h.factor_set
FROM (SELECT unit_id, month, item, revision, quantity, unit, tco2, tce, factor_set, source, batch_id, recorded_by,
             recorded_at
      FROM monitoring_figure_revisions
      UNION ALL
      SELECT unit_id, month, item, revision, quantity, unit, tco2, tce, factor_set, source, batch_id, recorded_by,
             updated_at
      FROM monitoring_figures WHERE recorded_by IS NOT NULL) AS h;

CREATE OR REPLACE FUNCTION cf_monitoring_figures_archived() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO monitoring_figure_revisions (unit_id, month, item, revision, quantity, unit, tco2, tce, factor_set,
                                                 source, batch_id, recorded_by, recorded_at)
        SELECT unit_id, month, item, revision, quantity, unit, tco2, tce, factor_set, source, batch_id, recorded_by,
               updated_at
        FROM monitoring_figures WHERE recorded_by IS NOT NULL;
    ELSE
        INSERT INTO monitoring_figure_revisions (unit_id, month, item, revision, quantity, unit, tco2, tce, factor_set,
                                                 source, batch_id, recorded_by, recorded_at)
        SELECT unit_id, month, item, revision, quantity, unit, tco2, tce, factor_set, source, batch_id, recorded_by,
               updated_at
        FROM gone WHERE recorded_by IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;
