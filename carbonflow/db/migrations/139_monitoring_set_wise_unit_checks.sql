-- Importing a province (issue 17, about 29 million figures) spent more time in the per-row foreign-key checks of
-- monitoring_figures (one lookup of the unit for every inserted row) than in writing the rows. The same rules now
-- hold per statement: every inserted figure or unit total must name an existing unit, whose row is locked (FOR
-- KEY SHARE, as a foreign key does) until the writer commits, so it cannot be deleted under the import; the
-- checks run as the owner, as a foreign key's do. Deleting a unit still deletes its figures and unit totals (its
-- history stays), after migration 140's trigger has taken them out of the region totals (whichever of the two
-- migrations a database applies first). A unit's id never changes.

CREATE OR REPLACE FUNCTION cf_monitoring_units_exist() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    wanted bigint;
    locked bigint;
    missing bigint;
BEGIN
    SELECT count(DISTINCT unit_id) INTO wanted FROM added;
    SELECT count(*) INTO locked FROM (SELECT 1 FROM monitoring_units u
                                      WHERE u.unit_id IN (SELECT DISTINCT unit_id FROM added) FOR KEY SHARE) AS l;
    IF locked < wanted THEN
        SELECT a.unit_id INTO missing FROM added a
        WHERE NOT EXISTS (SELECT 1 FROM monitoring_units u WHERE u.unit_id = a.unit_id) LIMIT 1;
        RAISE EXCEPTION '%: unit % is not registered', TG_TABLE_NAME, missing
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Register the unit in monitoring_units first, then store its figures.';
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION cf_monitoring_unit_removed() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM monitoring_figures WHERE unit_id IN (SELECT unit_id FROM removed);
    DELETE FROM monitoring_unit_totals WHERE unit_id IN (SELECT unit_id FROM removed);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION cf_monitoring_unit_id_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.unit_id IS DISTINCT FROM OLD.unit_id THEN
        RAISE EXCEPTION 'monitoring_units: unit_id % cannot change (figures refer to it)', OLD.unit_id
            USING ERRCODE = 'foreign_key_violation', HINT = 'Register a new unit instead.';
    END IF;
    RETURN NEW;
END $$;

ALTER TABLE monitoring_figures DROP CONSTRAINT IF EXISTS monitoring_figures_unit_id_fkey;
ALTER TABLE monitoring_unit_totals DROP CONSTRAINT IF EXISTS monitoring_unit_totals_unit_id_fkey;

DROP TRIGGER IF EXISTS monitoring_figures_unit_exists ON monitoring_figures;
CREATE TRIGGER monitoring_figures_unit_exists AFTER INSERT ON monitoring_figures
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION cf_monitoring_units_exist();
DROP TRIGGER IF EXISTS monitoring_unit_totals_unit_exists ON monitoring_unit_totals;
CREATE TRIGGER monitoring_unit_totals_unit_exists AFTER INSERT ON monitoring_unit_totals
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION cf_monitoring_units_exist();
DROP TRIGGER IF EXISTS monitoring_units_removed ON monitoring_units;
CREATE TRIGGER monitoring_units_removed AFTER DELETE ON monitoring_units
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION cf_monitoring_unit_removed();
DROP TRIGGER IF EXISTS monitoring_units_id_fixed ON monitoring_units;
CREATE TRIGGER monitoring_units_id_fixed BEFORE UPDATE OF unit_id ON monitoring_units
    FOR EACH ROW EXECUTE FUNCTION cf_monitoring_unit_id_fixed();

-- Every import batch adds to totals rows that earlier batches wrote; with room left on each page the new row
-- version stays on its page without new index entries (a HOT update), which roughly halves that write.
ALTER TABLE monitoring_region_totals SET (fillfactor = 50);
ALTER TABLE monitoring_unit_totals SET (fillfactor = 70);
