-- Retention's policy and chunk work for the application role, which owns no hypertable and so may neither
-- change its retention policy nor drop its chunks itself (carbonflow/db/roles.py). SECURITY DEFINER: it
-- runs as the owner, on the three fixed relations, as carbonflow/db/retention.py asks. migrate() lets only
-- the application role execute it. UNTESTED HERE: the development machine has no timescaledb extension.
CREATE OR REPLACE FUNCTION cf_apply_timescale_retention(raw_age interval, hourly_age interval,
                                                        raw_cutoff timestamptz, hourly_cutoff timestamptz)
RETURNS SETOF text LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    rel text;
    age interval;
BEGIN
    IF raw_age IS NULL OR hourly_age IS NULL OR raw_cutoff IS NULL OR hourly_cutoff IS NULL THEN
        RAISE EXCEPTION 'cf_apply_timescale_retention: every age and cut-off is needed'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- keep the background policies of 074_retention.timescale.sql at the configured ages
    FOREACH rel IN ARRAY ARRAY['readings', 'emissions', 'readings_hourly'] LOOP
        age := CASE rel WHEN 'readings' THEN raw_age ELSE hourly_age END;
        PERFORM remove_retention_policy(rel::regclass, if_exists => true);
        PERFORM add_retention_policy(rel::regclass, drop_after => age);
    END LOOP;
    -- then drop what is already older
    RETURN QUERY SELECT c::text FROM drop_chunks('readings'::regclass, older_than => raw_cutoff) c;
    RETURN QUERY SELECT c::text FROM drop_chunks('emissions'::regclass, older_than => hourly_cutoff) c;
END $$;
REVOKE EXECUTE ON FUNCTION cf_apply_timescale_retention(interval, interval, timestamptz, timestamptz) FROM PUBLIC;
