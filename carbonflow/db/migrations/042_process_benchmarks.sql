-- Process intensity indicators (GB/T 32151.5 processes): for a process, a production route and the product
-- the intensity is per, the benchmark (advanced) value and the limit (admission) value in tCO2 per tonne of
-- product. Set by administrators through /api/v1/process-benchmarks (audited). No values are shipped: each
-- row names the document it comes from. Route 'any' applies to every route.
CREATE TABLE IF NOT EXISTS process_benchmarks (
    process              text NOT NULL CHECK (process ~ '^[a-z][a-z0-9_]{0,63}$'),
    route                text NOT NULL CHECK (route ~ '^[a-z][a-z0-9-]{0,31}$'),
    product              text NOT NULL CHECK (product ~ '^[a-z][a-z0-9_]{0,63}$'),
    benchmark_tco2_per_t double precision NOT NULL CHECK (benchmark_tco2_per_t >= 0),
    limit_tco2_per_t     double precision CHECK (limit_tco2_per_t >= 0),
    source               text NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    updated_by           text,
    PRIMARY KEY (process, route, product),
    CHECK (limit_tco2_per_t IS NULL OR limit_tco2_per_t >= benchmark_tco2_per_t)
);
