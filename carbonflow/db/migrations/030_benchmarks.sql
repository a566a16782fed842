-- Intensity benchmarks per site and product, for the overview's "intensity vs benchmark":
-- tCO2 per tonne of the product (the X of a point's `production:X` activity, e.g. crude_steel).
-- Set by administrators (PUT /api/v1/benchmarks/{site}/{product}); the value names its source.
CREATE TABLE IF NOT EXISTS benchmarks (
    site_id       text NOT NULL REFERENCES sites ON DELETE CASCADE,
    product       text NOT NULL CHECK (product ~ '^[a-z0-9][a-z0-9_]{0,63}$'),
    tco2_per_t    double precision NOT NULL CHECK (tco2_per_t > 0),
    source        text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text,
    PRIMARY KEY (site_id, product)
);
