-- Monthly figures of emission units: one current row per unit x month x item (an energy type, value_added,
-- gross_output or main_product), narrow so that a province (about 29 million figures) stays small and an
-- import can COPY into it. tco2 / tce are computed on write by carbon_domain.monitoring.FigureCalculator with
-- the factor rows named in factor_ids, so views only add up. Every write is also appended to
-- monitoring_figure_revisions (append-only): a correction supersedes the current row and the old value stays
-- in the history with who wrote it, from which source and when.
CREATE TABLE IF NOT EXISTS monitoring_figures (
    unit_id     bigint NOT NULL REFERENCES monitoring_units ON DELETE CASCADE,
    month       date NOT NULL CHECK (extract(day FROM month) = 1),
    item        text NOT NULL CHECK (item IN ('electricity', 'coal', 'oil', 'natural_gas', 'heat', 'other',
                                              'value_added', 'gross_output', 'main_product')),
    quantity    double precision NOT NULL CHECK (quantity >= 0 AND quantity < 'infinity'),
    unit        text NOT NULL,
    tco2        double precision,
    tce         double precision,
    factor_ids  text[] NOT NULL DEFAULT '{}',
    source      text NOT NULL CHECK (source IN ('metered', 'file', 'rest', 'sync')),
    revision    int NOT NULL DEFAULT 1,
    batch_id    bigint,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_id, month, item)
);
CREATE INDEX IF NOT EXISTS monitoring_figures_month ON monitoring_figures (month, unit_id);

CREATE TABLE IF NOT EXISTS monitoring_figure_revisions (
    revision_id bigserial PRIMARY KEY,
    unit_id     bigint NOT NULL,
    month       date NOT NULL,
    item        text NOT NULL,
    revision    int NOT NULL,
    quantity    double precision NOT NULL,
    unit        text NOT NULL,
    tco2        double precision,
    tce         double precision,
    factor_ids  text[] NOT NULL DEFAULT '{}',
    source      text NOT NULL,
    batch_id    bigint,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (unit_id, month, item, revision)
);
SELECT cf_make_append_only('monitoring_figure_revisions', 'is the revision history of monitoring figures');
