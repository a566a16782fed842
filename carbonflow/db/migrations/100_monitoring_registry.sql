-- Government monitoring, registry (docs/monitoring.md): administrative regions (GB/T 2260), industry classes
-- (GB/T 4754-2017) and emission units. Regions and classes are seeded from carbon_domain/data by migrate();
-- a full region code list is loaded with `carbonflow seed regions` (RegionTree.from_code_list).
CREATE TABLE IF NOT EXISTS monitoring_regions (
    code        char(6) PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
    name        text NOT NULL,
    name_en     text NOT NULL DEFAULT '',
    level       smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
    parent_code char(6) REFERENCES monitoring_regions,
    label       text UNIQUE  -- the platform's region label (users' and enterprises' region), e.g. CN-ZJ-HU
);

CREATE TABLE IF NOT EXISTS monitoring_industries (
    code        text PRIMARY KEY,
    level       text NOT NULL CHECK (level IN ('section', 'division', 'group')),
    parent_code text REFERENCES monitoring_industries,
    name        text NOT NULL,
    name_en     text NOT NULL DEFAULT '',
    high_energy text CHECK (high_energy IN ('power', 'petrochemicals', 'chemicals', 'building_materials', 'steel',
                                            'non_ferrous', 'paper', 'aviation'))
);

-- An emission unit (碳排放单位): an enterprise or a public institution (事业单位). region_code is the lowest
-- region known (county, else city); views select a region's subtree by code prefix (region_prefix), hence the
-- text_pattern_ops index. enterprise_id / site_id link a unit to the metered registry where it has meters.
CREATE TABLE IF NOT EXISTS monitoring_units (
    unit_id       bigserial PRIMARY KEY,
    credit_code   char(18) NOT NULL UNIQUE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind          text NOT NULL DEFAULT 'enterprise' CHECK (kind IN ('enterprise', 'public_institution')),
    region_code   char(6) NOT NULL REFERENCES monitoring_regions,
    industry_code text NOT NULL REFERENCES monitoring_industries,
    above_scale   boolean NOT NULL DEFAULT true,
    status        text NOT NULL DEFAULT 'in_production'
                  CHECK (status IN ('in_production', 'suspended', 'closed')),
    public        boolean NOT NULL DEFAULT false,  -- its reductions may be shown on the public page
    enterprise_id text REFERENCES enterprises ON DELETE SET NULL,
    site_id       text REFERENCES sites ON DELETE SET NULL,
    synthetic     boolean NOT NULL DEFAULT false,  -- made by `carbonflow seed region`, labelled wherever shown
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS monitoring_units_region ON monitoring_units ((region_code::text) text_pattern_ops);
CREATE INDEX IF NOT EXISTS monitoring_units_industry ON monitoring_units (industry_code);
CREATE INDEX IF NOT EXISTS monitoring_units_enterprise ON monitoring_units (enterprise_id)
    WHERE enterprise_id IS NOT NULL;
