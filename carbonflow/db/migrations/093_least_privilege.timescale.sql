-- Retention's policy and chunk work for the application role, which owns no hypertable and so may neither
-- change its retention policy nor drop its chunks itself (carbonflow/db/roles.py). SECURITY DEFINER: it
-- runs as the owner, on the three fixed relations, as carbonflow/db/retention.py asks. migrate() lets only
-- the application role execute it. Run by tests/timescale on TimescaleDB 2.23 (PGlite).
CREATE OR REPLACE FUNCTION cf_apply_timescale_retention(raw_age interval, hourly_age interval,
                                                        raw_cutoff timestamptz, hourly_cutoff timestamptz)
RETURNS SETOF text LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    rel text;
    age interval;
    job int;
    job_config jsonb;
BEGIN
    IF raw_age IS NULL OR hourly_age IS NULL OR raw_cutoff IS NULL OR hourly_cutoff IS NULL THEN
        RAISE EXCEPTION 'cf_apply_timescale_retention: every age and cut-off is needed'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- keep the background policies of 074_retention.timescale.sql at the configured ages: changed in place,
    -- so that the daily run keeps each policy's job (its id, schedule and run history) while the age stands
    FOREACH rel IN ARRAY ARRAY['readings', 'emissions', 'readings_hourly'] LOOP
        age := CASE rel WHEN 'readings' THEN raw_age ELSE hourly_age END;
        SELECT j.job_id, j.config INTO job, job_config FROM timescaledb_information.jobs j
         WHERE j.proc_name = 'policy_retention' AND j.hypertable_schema = 'public' AND j.hypertable_name = rel;
        IF job IS NULL THEN
            PERFORM add_retention_policy(rel::regclass, drop_after => age);
        ELSIF (job_config ->> 'drop_after')::interval IS DISTINCT FROM age THEN
            PERFORM alter_job(job, config => jsonb_set(job_config, '{drop_after}', to_jsonb(age::text)));
        END IF;
    END LOOP;
    -- then drop what is already older: raw readings, emissions and the hourly aggregate's buckets
    RETURN QUERY SELECT c::text FROM drop_chunks('readings'::regclass, older_than => raw_cutoff) c;
    RETURN QUERY SELECT c::text FROM drop_chunks('emissions'::regclass, older_than => hourly_cutoff) c;
    RETURN QUERY SELECT c::text FROM drop_chunks('readings_hourly'::regclass, older_than => hourly_cutoff) c;
END $$;
REVOKE EXECUTE ON FUNCTION cf_apply_timescale_retention(interval, interval, timestamptz, timestamptz) FROM PUBLIC;
