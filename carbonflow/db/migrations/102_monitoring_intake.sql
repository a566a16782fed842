-- How monitoring figures arrive: file imports (one batch per upload, with its digest, so a repeated file is
-- recognised) and the scheduled sync from an intermediate database (中间库). A sync source names an
-- environment variable holding its connection URL, never the password itself; `watermark` is the last value of
-- its incremental column read and only moves when a run stores its rows. A failing run leaves the watermark,
-- records the error and raises the source's alarm (alarm_since), which the next successful run clears.
CREATE TABLE IF NOT EXISTS monitoring_batches (
    batch_id     bigserial PRIMARY KEY,
    source       text NOT NULL CHECK (source IN ('file', 'rest', 'sync')),
    origin       text NOT NULL,  -- file name, token name or sync source
    sha256       text,
    rows_read    int NOT NULL DEFAULT 0,
    rows_stored  int NOT NULL DEFAULT 0,  -- figures whose value changed (a new revision)
    rows_same    int NOT NULL DEFAULT 0,  -- figures already stored with the same value
    rows_refused int NOT NULL DEFAULT 0,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS monitoring_sync_sources (
    source_id       bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_-]{0,63}$'),
    dialect         text NOT NULL CHECK (dialect IN ('mysql', 'postgresql')),
    url_env         text NOT NULL CHECK (url_env ~ '^[A-Z][A-Z0-9_]{0,127}$'),
    query           text NOT NULL,
    watermark       text,
    interval_s      int NOT NULL DEFAULT 3600 CHECK (interval_s >= 60),
    enabled         boolean NOT NULL DEFAULT true,
    last_run_at     timestamptz,
    last_ok_at      timestamptz,
    last_error      text,
    alarm_since     timestamptz
);
