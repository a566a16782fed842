-- 碳效码 results: one row per emission unit, period ('2025', or '2024-07..2025-06' for a rolling 12 months)
-- and configuration version, so that recomputing a period under a new version keeps the old version's
-- results; the run that wrote a row is named on it. A unit without a code has its exclusion reason and no grade. `provenance` holds the inputs, the
-- factor rows, the industry sample (level, class, size, sums, version, fallbacks) and the versions.
-- unit_id names a monitoring emission unit; it has no foreign key yet (the units table arrives with the
-- monitoring service).
-- Each computation of a period under a version is a run, recorded and never changed: when, by whom, why
-- (first computation, a corrected monthly figure, a new unit...), how many units and how many got a code.
CREATE TABLE IF NOT EXISTS efficiency_code_runs (
    run_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period         text NOT NULL,
    config_version text NOT NULL REFERENCES efficiency_code_configs (version),
    computed_at    timestamptz NOT NULL DEFAULT now(),
    computed_by    text,
    reason         text NOT NULL,
    units          integer NOT NULL CHECK (units >= 0),
    coded          integer NOT NULL CHECK (coded >= 0 AND coded <= units)
);
SELECT cf_make_append_only('efficiency_code_runs', 'is append-only (a recomputation is a new run)');

CREATE TABLE IF NOT EXISTS efficiency_code_results (
    period           text NOT NULL CHECK (period ~ '^\d{4}(-\d{2}\.\.\d{4}-\d{2})?$'),
    period_kind      text NOT NULL CHECK (period_kind IN ('calendar_year', 'rolling_12')),
    config_version   text NOT NULL REFERENCES efficiency_code_configs (version),
    unit_id          text NOT NULL,
    code             text,
    grade            smallint CHECK (grade BETWEEN 1 AND 5),
    level            text CHECK (level IN ('low', 'medium', 'high')),
    intensity        double precision,
    efficiency       double precision,
    neutrality       text CHECK (neutrality IN ('none', 'partial', 'neutral')),
    neutrality_share double precision,
    colour           text,
    excluded_reason  text,
    excluded_detail  text,
    provenance       jsonb NOT NULL,
    run_id           bigint NOT NULL REFERENCES efficiency_code_runs (run_id),
    computed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (period, config_version, unit_id),
    CHECK ((excluded_reason IS NULL) = (grade IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS efficiency_code_results_unit ON efficiency_code_results (unit_id, period);
