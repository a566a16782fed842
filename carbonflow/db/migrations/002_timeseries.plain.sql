-- Plain PostgreSQL: readings and emissions partitioned by month; partitions are
-- created by cf_ensure_month_partitions(), which migrate and the stream job call.
CREATE TABLE IF NOT EXISTS readings (
    gateway_key   int NOT NULL,
    seq           bigint NOT NULL,
    ts            timestamptz NOT NULL,
    point_key     int NOT NULL,
    value         double precision,
    quality       smallint NOT NULL,
    PRIMARY KEY (gateway_key, seq, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS readings_default PARTITION OF readings DEFAULT;
CREATE INDEX IF NOT EXISTS readings_point_ts_idx ON readings (point_key, ts);

CREATE TABLE IF NOT EXISTS emissions (
    gateway_key   int NOT NULL,
    seq           bigint NOT NULL,
    ts            timestamptz NOT NULL,
    start_ts      timestamptz NOT NULL,
    point_key     int NOT NULL,
    site_id       text,
    activity      text NOT NULL,
    quantity      double precision NOT NULL,
    quantity_unit text NOT NULL,
    tco2          double precision NOT NULL,
    factor_ids    text[] NOT NULL,
    formula       text NOT NULL,
    quality       smallint NOT NULL,
    PRIMARY KEY (gateway_key, seq, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS emissions_default PARTITION OF emissions DEFAULT;
CREATE INDEX IF NOT EXISTS emissions_site_ts_idx ON emissions (site_id, ts);

CREATE OR REPLACE FUNCTION cf_ensure_month_partitions(center timestamptz, months_before int, months_after int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    tbl text;
    m int;
    lo date;
    hi date;
    made int := 0;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['readings', 'emissions'] LOOP
        FOR m IN -months_before..months_after LOOP
            lo := (date_trunc('month', center) + make_interval(months => m))::date;
            hi := (lo + interval '1 month')::date;
            IF to_regclass(format('%s_%s', tbl, to_char(lo, 'YYYYMM'))) IS NULL THEN
                BEGIN
                    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                                   format('%s_%s', tbl, to_char(lo, 'YYYYMM')), tbl, lo, hi);
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
