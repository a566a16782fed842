-- Estimated figures in government monitoring (issue 19, docs/monitoring.md "Estimated figures"): the fuel CO2
-- (coal + oil + gas) of enterprise units that report electricity only, simulated from their electricity use by
-- the newest electricity -> fuel model of their industry (grid_fuel_models). They are kept here, apart from the
-- reported figures (monitoring_figures, monitoring_*_totals), so that no view adds them up with reported figures
-- by accident: the monitoring views read them separately and show them apart, with the model and its version.
-- One run (POST /api/v1/grid-factors/simulation/to-monitoring) replaces the estimates of the months it covers.
-- An estimate whose unit has since reported fuel figures for that month is superseded and left out on read.
CREATE TABLE IF NOT EXISTS monitoring_estimate_runs (
    run_id      bigserial PRIMARY KEY,
    since       date NOT NULL CHECK (extract(day FROM since) = 1),
    models      jsonb NOT NULL,  -- {"<industry>": "<model_id>"}: the fuel models the run applied
    estimates   int NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE IF NOT EXISTS monitoring_estimates (
    unit_id         bigint NOT NULL REFERENCES monitoring_units ON DELETE CASCADE,
    month           date NOT NULL CHECK (extract(day FROM month) = 1),
    electricity_mwh double precision NOT NULL CHECK (electricity_mwh >= 0),
    tco2            double precision NOT NULL CHECK (tco2 >= 0),
    low_tco2        double precision NOT NULL CHECK (low_tco2 >= 0),
    high_tco2       double precision NOT NULL CHECK (high_tco2 >= low_tco2),
    model_id        text NOT NULL,   -- 'fuel:<industry>@v<version>' of grid_fuel_models
    model_version   text NOT NULL,   -- the method's version (carbon_domain.grid_factors.MODEL_VERSION)
    run_id          bigint NOT NULL REFERENCES monitoring_estimate_runs,
    PRIMARY KEY (unit_id, month)
);
CREATE INDEX IF NOT EXISTS monitoring_estimates_month ON monitoring_estimates (month, unit_id);
