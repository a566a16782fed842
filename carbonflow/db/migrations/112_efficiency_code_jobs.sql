-- 碳效码 computed from the monitoring figures (docs/efficiency_code.md).
-- 1. Own PV/wind generation (自发自用 zero-carbon generation, MWh) becomes a monthly monitoring item: the code
--    counts it as avoided CO2 at the electricity factor the inventory uses in that month. It carries no tCO2 or
--    tce of its own (it is not energy consumed).
ALTER TABLE monitoring_figures DROP CONSTRAINT IF EXISTS monitoring_figures_item_check;
ALTER TABLE monitoring_figures ADD CONSTRAINT monitoring_figures_item_check
    CHECK (item IN ('electricity', 'coal', 'oil', 'natural_gas', 'heat', 'other', 'value_added', 'gross_output',
                    'main_product', 'own_generation'));

-- 2. A computation of codes is a job: requested through POST /api/v1/efficiency-code/compute (audited), run in
--    the background, its progress (periods done of periods asked) readable while it runs. Each period it
--    computes is a recorded run (efficiency_code_runs, 111) named in run_ids.
CREATE TABLE IF NOT EXISTS efficiency_code_jobs (
    job_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    periods      text[] NOT NULL,
    only_changed boolean NOT NULL DEFAULT false,
    state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    done         integer NOT NULL DEFAULT 0,
    total        integer NOT NULL,
    message      text,
    run_ids      bigint[] NOT NULL DEFAULT '{}',
    requested_by text,
    requested_at timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
