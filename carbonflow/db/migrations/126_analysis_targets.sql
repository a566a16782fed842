-- Carbon targets of the analysis service (issue 21, docs/analysis.md): a region's total (t CO2 in a year) or
-- intensity (a fall in t CO2 per 10^4 yuan against a base year) target, allocated to its sub-regions,
-- industries or units by a documented rule from the base year's monitoring figures. A draft is issued once;
-- an issued target and its allocations are not changed (a new target replaces it), which the trigger enforces.
CREATE TABLE IF NOT EXISTS analysis_targets (
    target_id    bigserial PRIMARY KEY,
    region_code  text NOT NULL REFERENCES monitoring_regions (code),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    kind         text NOT NULL CHECK (kind IN ('total', 'intensity')),
    year         int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    base_year    int NOT NULL CHECK (base_year < year),
    value        double precision NOT NULL CHECK (value >= 0),  -- total: t CO2; intensity: reduction rate
    holder_level text NOT NULL CHECK (holder_level IN ('region', 'industry', 'unit')),
    rule         text NOT NULL CHECK (rule IN ('equal_rate', 'by_share', 'by_benchmark')),
    tolerance    double precision NOT NULL DEFAULT 0 CHECK (tolerance >= 0),
    state        text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'issued')),
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    issued_by    text,
    issued_at    timestamptz,
    CHECK ((state = 'issued') = (issued_at IS NOT NULL)),
    CHECK (kind = 'total' OR value < 1)
);
CREATE INDEX IF NOT EXISTS analysis_targets_region ON analysis_targets (region_code, year);

CREATE TABLE IF NOT EXISTS analysis_target_allocations (
    target_id   bigint NOT NULL REFERENCES analysis_targets ON DELETE CASCADE,
    holder      text NOT NULL,                    -- region code, industry division or unit_id
    base        double precision NOT NULL,        -- base-year t CO2, or intensity
    target      double precision NOT NULL,
    weight      double precision,                 -- the share or benchmark the rule used, when it used one
    PRIMARY KEY (target_id, holder)
);

CREATE OR REPLACE FUNCTION analysis_target_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- PL/pgSQL evaluates both sides of an AND, and OLD has no `state` on the allocations: test the table first
    IF TG_TABLE_NAME = 'analysis_targets' THEN
        IF OLD.state = 'issued' THEN
            RAISE EXCEPTION 'target % is issued and cannot be changed; set a new target', OLD.target_id;
        END IF;
    ELSIF (SELECT state FROM analysis_targets WHERE target_id = OLD.target_id) = 'issued' THEN
        RAISE EXCEPTION 'target % is issued: its allocations cannot be changed', OLD.target_id;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
DROP TRIGGER IF EXISTS analysis_targets_frozen ON analysis_targets;
CREATE TRIGGER analysis_targets_frozen BEFORE UPDATE OR DELETE ON analysis_targets
    FOR EACH ROW EXECUTE FUNCTION analysis_target_frozen();
DROP TRIGGER IF EXISTS analysis_target_allocations_frozen ON analysis_target_allocations;
CREATE TRIGGER analysis_target_allocations_frozen BEFORE UPDATE OR DELETE ON analysis_target_allocations
    FOR EACH ROW EXECUTE FUNCTION analysis_target_frozen();
