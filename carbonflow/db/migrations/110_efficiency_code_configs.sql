-- 碳效码 configuration versions: thresholds, grade boundaries and colours, the industry level and minimum
-- sample, the neutrality formula and bands, the excluded industries (carbon_domain/efficiency_code.py,
-- EfficiencyCodeConfig, stored as its JSON). A version is never changed once stored: an edit is a new
-- version, and results are kept per version (111). The built-in version (METHODS.md section 4) is stored
-- the first time it is activated or used for results. Written by administrators through
-- /api/v1/efficiency-code/configs (audited).
CREATE TABLE IF NOT EXISTS efficiency_code_configs (
    version     text PRIMARY KEY CHECK (version ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    config      jsonb NOT NULL CHECK (config ->> 'version' = version),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text
);
SELECT cf_make_append_only('efficiency_code_configs', 'is append-only (store a new version instead)');

-- The version in force: at most one row (none: the built-in version).
CREATE TABLE IF NOT EXISTS efficiency_code_active_config (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version      text NOT NULL REFERENCES efficiency_code_configs (version),
    activated_at timestamptz NOT NULL DEFAULT now(),
    activated_by text
);
