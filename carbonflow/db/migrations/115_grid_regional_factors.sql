-- Regional electricity-carbon factors with inter-regional flows (issue 19, METHODS.md section 8).
--
-- An input set is one import of regions (generation and its emissions) and flows between them, kept as
-- imported; a flow-tracing result is computed from exactly one input set under one convention and stores the
-- conservation check with its factors, so every regional factor can say where it came from. Nothing is
-- updated or deleted: a correction is a new input set and a new result.
CREATE TABLE IF NOT EXISTS grid_region_inputs (
    input_id       bigserial PRIMARY KEY,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 160),
    period         text NOT NULL CHECK (period ~ '^[0-9]{4}(-(0[1-9]|1[0-2]))?$'),
    illustrative   boolean NOT NULL DEFAULT false,
    source         text NOT NULL DEFAULT '',
    imported_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    imported_by    text NOT NULL,
    origin         text NOT NULL CHECK (origin IN ('json', 'csv', 'xlsx', 'demo')),
    filename       text,
    content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$')
);

CREATE TABLE IF NOT EXISTS grid_region_rows (
    input_id       bigint NOT NULL REFERENCES grid_region_inputs,
    line           int NOT NULL CHECK (line >= 1),
    record         text NOT NULL CHECK (record IN ('region', 'flow')),
    region         text NOT NULL,
    to_region      text,
    mwh            double precision NOT NULL CHECK (mwh >= 0),
    tco2           double precision CHECK (tco2 >= 0),
    PRIMARY KEY (input_id, line),
    CHECK ((record = 'region') = (to_region IS NULL) AND (record = 'region') = (tco2 IS NOT NULL))
);

CREATE TABLE IF NOT EXISTS grid_flow_results (
    result_id               bigserial PRIMARY KEY,
    input_id                bigint NOT NULL REFERENCES grid_region_inputs,
    convention              text NOT NULL CHECK (convention IN ('consumption', 'generation')),
    computed_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    computed_by             text NOT NULL,
    model_version           text NOT NULL,
    generation_emissions_t  double precision NOT NULL,
    consumption_emissions_t double precision NOT NULL,
    conservation_error      double precision NOT NULL,
    conserved               boolean NOT NULL,
    factors                 jsonb NOT NULL  -- [{region, generation_mwh, imports_mwh, exports_mwh, consumption_mwh, intensity, ...}]
);
CREATE INDEX IF NOT EXISTS grid_flow_results_input_idx ON grid_flow_results (input_id, convention);

SELECT cf_make_append_only(t, 'is append-only (import a new input set or compute a new result instead)')
FROM unnest(ARRAY['grid_region_inputs', 'grid_region_rows', 'grid_flow_results']::regclass[]) AS t;
