-- Core registry, raw readings, emissions, dead letters and the factor library.
CREATE TABLE IF NOT EXISTS enterprises (
    enterprise_id text PRIMARY KEY,
    name          text NOT NULL,
    region        text NOT NULL DEFAULT 'CN',
    industry      text
);

CREATE TABLE IF NOT EXISTS sites (
    site_id       text PRIMARY KEY,
    enterprise_id text NOT NULL REFERENCES enterprises,
    name          text NOT NULL,
    province      text,
    grid_region   text
);

CREATE TABLE IF NOT EXISTS gateways (
    gateway_key   serial PRIMARY KEY,
    gateway_id    text NOT NULL UNIQUE,
    site_id       text REFERENCES sites,
    first_seen    timestamptz NOT NULL DEFAULT now(),
    last_seen     timestamptz
);

CREATE TABLE IF NOT EXISTS devices (
    device_id     text PRIMARY KEY,
    site_id       text REFERENCES sites,
    process       text,
    profile       text,
    gateway_id    text,
    last_seen     timestamptz
);

-- One row per (device, point); `activity` binds a counter to an accounting activity
-- (electricity, natural_gas, production:<product>) so the stream job knows its formula.
CREATE TABLE IF NOT EXISTS points (
    point_key     serial PRIMARY KEY,
    device_id     text NOT NULL,
    point         text NOT NULL,
    unit          text NOT NULL DEFAULT '',
    kind          text NOT NULL DEFAULT 'gauge',
    activity      text,
    UNIQUE (device_id, point)
);

-- Last counter value per point: the state that turns counters into deltas.
CREATE TABLE IF NOT EXISTS point_state (
    point_key     int PRIMARY KEY REFERENCES points,
    ts            timestamptz NOT NULL,
    value         double precision NOT NULL
);

CREATE TABLE IF NOT EXISTS factors (
    factor_id     text PRIMARY KEY,
    key           text NOT NULL,
    value         double precision NOT NULL,
    unit          text NOT NULL,
    scope         text NOT NULL,
    scope_id      text NOT NULL DEFAULT '',
    valid_from    date NOT NULL,
    valid_to      date,
    series        text NOT NULL,
    source        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS factors_key_idx ON factors (key, series, valid_from);

CREATE TABLE IF NOT EXISTS dead_letters (
    id            bigserial PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    stage         text NOT NULL,
    gateway_id    text,
    topic         text,
    reason        text NOT NULL,
    payload       bytea NOT NULL
);

-- Append-only tables (audit log, entered data, report snapshots): one statement-level trigger
-- refuses UPDATE, DELETE and TRUNCATE, even when no row matches. `why` completes the message.
CREATE OR REPLACE FUNCTION cf_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% %: % refused', TG_TABLE_NAME, TG_ARGV[0], TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION cf_make_append_only(tbl regclass, why text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    name text := (SELECT relname FROM pg_class WHERE oid = tbl) || '_append_only';
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', name, tbl);
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE OR TRUNCATE ON %s'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION cf_refuse_change(%L)', name, tbl, why);
END $$;
