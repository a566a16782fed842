-- Retention's partition work for the application role, which owns no table and so may neither create
-- nor drop a partition itself (carbonflow/db/roles.py). SECURITY DEFINER: it runs as the owner, and so
-- takes no table name it does not know and drops only whole monthly partitions that end at or before the
-- cut-off, as carbonflow/db/retention.py asks. migrate() makes cf_ensure_month_partitions a definer too
-- and lets only the application role execute both.
CREATE OR REPLACE FUNCTION cf_drop_month_partitions(tbl text, cutoff timestamptz)
RETURNS SETOF text LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    part text;
    upper_bound timestamptz;
BEGIN
    IF tbl IS NULL OR tbl NOT IN ('readings', 'reading_blocks', 'emissions') THEN
        RAISE EXCEPTION 'cf_drop_month_partitions: % has no monthly partitions retention may drop', tbl
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF cutoff IS NULL THEN
        RAISE EXCEPTION 'cf_drop_month_partitions: no cut-off given' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- the upper bound as the partition was created (its date was read in the server's time zone then)
    FOR part, upper_bound IN
        SELECT c.relname,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = tbl::regclass AND c.relname ~ ('^' || tbl || '_[0-9]{6}$')
         ORDER BY 1
    LOOP
        IF upper_bound IS NOT NULL AND upper_bound <= cutoff THEN
            EXECUTE format('DROP TABLE %I', part);
            RETURN NEXT part;
        END IF;
    END LOOP;
END $$;
REVOKE EXECUTE ON FUNCTION cf_drop_month_partitions(text, timestamptz) FROM PUBLIC;
