-- Plain PostgreSQL: closed hours of raw readings compacted into one row per (point, hour).
--
-- A row per reading costs about 180 bytes at rest (tuple header, six columns, the primary key and the
-- (point_key, ts) index). The compaction job (carbonflow/db/compaction.py) moves the readings of hours
-- that closed before its horizon into reading_blocks: the same columns as arrays ordered by time, so a
-- reading costs its values and a compressed share of one tuple and one index entry. Readers go through
-- cf_point_readings / cf_point_last / cf_point_first (076), which see hot rows and blocks alike.
CREATE TABLE IF NOT EXISTS reading_blocks (
    point_key     int NOT NULL,
    hour          timestamptz NOT NULL,          -- date_bin('1 hour', ts, 2000-01-01Z) of every reading
    n             int NOT NULL,                  -- readings in the block
    gateway_key   int,                           -- every reading's gateway, when they all share one
    gateway_keys  int[],                         -- else one per reading (gateway_key is then NULL)
    seqs          bigint[] NOT NULL,
    times         timestamptz[] NOT NULL,
    vals          double precision[] NOT NULL,
    qualities     smallint[] NOT NULL,
    PRIMARY KEY (point_key, hour),
    CHECK ((gateway_key IS NULL) <> (gateway_keys IS NULL))
) PARTITION BY RANGE (hour);
CREATE TABLE IF NOT EXISTS reading_blocks_default PARTITION OF reading_blocks DEFAULT;

-- MAIN: compressed in line when the row passes toast_tuple_target (set per partition below, 128 bytes, so
-- that a sparse point's block of 60 readings is compressed too), moved out of line only when it still
-- does not fit a page (a dense point's 3,600 readings).
ALTER TABLE reading_blocks ALTER COLUMN gateway_keys SET STORAGE MAIN, ALTER COLUMN seqs SET STORAGE MAIN,
    ALTER COLUMN times SET STORAGE MAIN, ALTER COLUMN vals SET STORAGE MAIN,
    ALTER COLUMN qualities SET STORAGE MAIN;

-- lz4 where the server was built with it (PostgreSQL >= 14 --with-lz4): faster than pglz and it compresses
-- the arrays' repeated high bytes as well. Elsewhere the columns keep pglz.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        BEGIN
            EXECUTE 'ALTER TABLE reading_blocks ALTER COLUMN gateway_keys SET COMPRESSION lz4,'
                    ' ALTER COLUMN seqs SET COMPRESSION lz4, ALTER COLUMN times SET COMPRESSION lz4,'
                    ' ALTER COLUMN vals SET COMPRESSION lz4, ALTER COLUMN qualities SET COMPRESSION lz4';
        EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
            RAISE NOTICE 'lz4 not available on this server: reading_blocks compressed with pglz';
        END;
    END IF;
END $$;

-- storage parameters belong to each partition, not to the partitioned table
CREATE OR REPLACE FUNCTION cf_tune_block_partition(part regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s SET (toast_tuple_target = 128)', part);
END $$;
SELECT cf_tune_block_partition('reading_blocks_default');

-- the monthly partitions of reading_blocks follow those of readings (retention drops both alike)
CREATE OR REPLACE FUNCTION cf_ensure_month_partitions(center timestamptz, months_before int, months_after int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    tbl text;
    m int;
    lo date;
    hi date;
    part text;
    made int := 0;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['readings', 'emissions', 'reading_blocks'] LOOP
        FOR m IN -months_before..months_after LOOP
            lo := (date_trunc('month', center) + make_interval(months => m))::date;
            hi := (lo + interval '1 month')::date;
            part := format('%s_%s', tbl, to_char(lo, 'YYYYMM'));
            IF to_regclass(part) IS NULL THEN
                BEGIN
                    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                                   part, tbl, lo, hi);
                    IF tbl = 'reading_blocks' THEN
                        PERFORM cf_tune_block_partition(part::regclass);
                    END IF;
                    made := made + 1;
                EXCEPTION WHEN check_violation THEN
                    -- rows for this month already sit in the default partition: leave them there
                    NULL;
                END;
            END IF;
        END LOOP;
    END LOOP;
    RETURN made;
END $$;
SELECT cf_ensure_month_partitions(now(), 24, 2);
