-- Saved peak-forecast scenarios of the analysis service (issue 21, docs/analysis.md): a region's growth paths
-- of the Kaya drivers, the model, and the figures the monitoring data lacks (population by year, earlier
-- yearbook years). The forecast is computed again from the monitoring figures when a scenario is opened, so
-- a corrected figure shows up; `updated_*` says who changed a scenario last, the audit log says what.
CREATE TABLE IF NOT EXISTS analysis_scenarios (
    scenario_id bigserial PRIMARY KEY,
    region_code text NOT NULL REFERENCES monitoring_regions (code),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    kind        text NOT NULL CHECK (kind IN ('baseline', 'policy', 'enhanced')),
    model       text NOT NULL CHECK (model IN ('kaya', 'stirpat')),
    end_year    int NOT NULL CHECK (end_year BETWEEN 1990 AND 2200),
    paths       jsonb NOT NULL,                   -- {driver: [[from_year, annual rate], ...]}
    population  jsonb NOT NULL DEFAULT '{}',      -- {"2025": 10^4 persons, ...}
    history     jsonb NOT NULL DEFAULT '[]',      -- [{year, co2, gdp, energy, population}] before the monitoring data
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (region_code, name)
);
