-- Enterprise electricity-carbon factors (issue 19, METHODS.md section 8): imported unit energy data and
-- third-party verified emissions, the versioned library of fitted factors, the electricity -> fuel models and
-- hand pins of a unit to a factor. All append-only: a re-import, a re-fit or a new pin adds rows, the newest
-- winning (newest import per unit and period, highest version per scope, newest pin per unit).
--
-- unit_id names a monitored unit (an enterprise's reporting unit); industry follows GB/T 4754 classes.
CREATE TABLE IF NOT EXISTS grid_unit_imports (
    import_id      bigserial PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('unit_energy', 'verified')),
    imported_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    imported_by    text NOT NULL,
    origin         text NOT NULL CHECK (origin IN ('json', 'csv', 'xlsx')),
    filename       text,
    content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    note           text NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS grid_unit_energy (
    import_id       bigint NOT NULL REFERENCES grid_unit_imports,
    line            int NOT NULL CHECK (line >= 1),
    unit_id         text NOT NULL,
    industry        text NOT NULL,
    region          text NOT NULL,
    period          text NOT NULL CHECK (period ~ '^[0-9]{4}(-(0[1-9]|1[0-2]))?$'),
    electricity_mwh double precision NOT NULL CHECK (electricity_mwh >= 0),
    coal_tco2       double precision CHECK (coal_tco2 >= 0),  -- NULL: the fuel data are missing
    oil_tco2        double precision CHECK (oil_tco2 >= 0),
    gas_tco2        double precision CHECK (gas_tco2 >= 0),
    PRIMARY KEY (import_id, line)
);
CREATE INDEX IF NOT EXISTS grid_unit_energy_unit_idx ON grid_unit_energy (unit_id, period, import_id DESC);

CREATE TABLE IF NOT EXISTS grid_verified_emissions (
    import_id      bigint NOT NULL REFERENCES grid_unit_imports,
    line           int NOT NULL CHECK (line >= 1),
    unit_id        text NOT NULL,
    period         text NOT NULL CHECK (period ~ '^[0-9]{4}(-(0[1-9]|1[0-2]))?$'),
    verified_tco2  double precision NOT NULL CHECK (verified_tco2 >= 0),
    verifier       text,
    PRIMARY KEY (import_id, line)
);
CREATE INDEX IF NOT EXISTS grid_verified_unit_idx ON grid_verified_emissions (unit_id, period, import_id DESC);

-- one row per fitted factor version: E = sum(coefficients[i] * term i), terms[1] = 'intercept'
CREATE TABLE IF NOT EXISTS grid_enterprise_factors (
    factor_id      text PRIMARY KEY,  -- '<scope>:<scope_id>@v<version>'
    scope          text NOT NULL CHECK (scope IN ('unit', 'industry')),
    scope_id       text NOT NULL,
    version        int NOT NULL CHECK (version >= 1),
    terms          text[] NOT NULL,
    coefficients   double precision[] NOT NULL,
    std_errors     double precision[] NOT NULL,
    period_from    text NOT NULL,
    period_to      text NOT NULL,
    n              int NOT NULL CHECK (n >= 1),
    r2             double precision NOT NULL,
    mape           double precision,
    bias           double precision,
    model_version  text NOT NULL,
    fitted_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    fitted_by      text NOT NULL,
    UNIQUE (scope, scope_id, version),
    CHECK (cardinality(terms) = cardinality(coefficients) AND cardinality(terms) = cardinality(std_errors))
);

CREATE TABLE IF NOT EXISTS grid_fuel_models (
    model_id        text PRIMARY KEY,  -- 'fuel:<industry>@v<version>'
    industry        text NOT NULL,
    version         int NOT NULL CHECK (version >= 1),
    ratios          jsonb NOT NULL,    -- {"coal": tCO2/MWh, "oil": ..., "gas": ...}
    total_ratio     double precision NOT NULL,
    dispersion      double precision NOT NULL,
    n               int NOT NULL CHECK (n >= 2),
    electricity_mwh double precision NOT NULL,
    model_version   text NOT NULL,
    fitted_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    fitted_by       text NOT NULL,
    UNIQUE (industry, version)
);

-- a hand pin of a unit to a factor; a pin with factor_id NULL lifts the unit's pin
CREATE TABLE IF NOT EXISTS grid_factor_pins (
    pin_id     bigserial PRIMARY KEY,
    unit_id    text NOT NULL,
    factor_id  text REFERENCES grid_enterprise_factors,
    reason     text NOT NULL CHECK (length(btrim(reason)) BETWEEN 3 AND 2000),
    pinned_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    pinned_by  text NOT NULL
);
CREATE INDEX IF NOT EXISTS grid_factor_pins_unit_idx ON grid_factor_pins (unit_id, pin_id DESC);

SELECT cf_make_append_only(t, 'is append-only (import, fit or pin again instead)')
FROM unnest(ARRAY['grid_unit_imports', 'grid_unit_energy', 'grid_verified_emissions', 'grid_enterprise_factors',
                  'grid_fuel_models', 'grid_factor_pins']::regclass[]) AS t;
