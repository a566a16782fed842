-- Reduction projects (issue 20; docs/projects.md): the registry, the lifecycle 立项 -> 实施 -> 验收 -> 备案/认证
-- (carbon_domain/projects.py says which kinds are filed), documents stored with their SHA-256, spending against
-- the budget, points bound to the project (its generation and consumption come from the pipeline's rollups),
-- settled electricity fees per month, and the verifiers (auditor users) assigned to it. Written through
-- /api/v1/projects, every write audited.
CREATE TABLE IF NOT EXISTS projects (
    project_id    bigserial PRIMARY KEY,
    enterprise_id text NOT NULL REFERENCES enterprises,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind          text NOT NULL CHECK (kind IN ('grid_pv', 'wind', 'energy_efficiency', 'fuel_switch', 'ccer',
                                                'carbon_sink', 'two_high')),
    grid_region   text NOT NULL CHECK (grid_region ~ '^[a-z]+$'),
    stage         text NOT NULL DEFAULT 'initiated'
                  CHECK (stage IN ('initiated', 'implementing', 'accepted', 'filed')),
    budget        numeric CHECK (budget >= 0),
    capacity_kw   double precision CHECK (capacity_kw >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL
);
CREATE INDEX IF NOT EXISTS projects_enterprise ON projects (enterprise_id);

CREATE TABLE IF NOT EXISTS project_stage_changes (
    change_id   bigserial PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects ON DELETE CASCADE,
    from_stage  text NOT NULL,
    to_stage    text NOT NULL,
    comment     text NOT NULL DEFAULT '',
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changed_by  text NOT NULL
);
SELECT cf_make_append_only('project_stage_changes', 'is append-only (a stage change is history)');

CREATE TABLE IF NOT EXISTS project_documents (
    document_id  bigserial PRIMARY KEY,
    project_id   bigint NOT NULL REFERENCES projects ON DELETE CASCADE,
    stage        text NOT NULL,
    filename     text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type text NOT NULL,
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
    content      bytea NOT NULL,
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    uploaded_by  text NOT NULL
);
SELECT cf_make_append_only('project_documents', 'is append-only (upload a new version instead)');

CREATE TABLE IF NOT EXISTS project_spending (
    spending_id bigserial PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects ON DELETE CASCADE,
    amount      numeric NOT NULL CHECK (amount > 0),
    spent_on    date NOT NULL,
    note        text NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by text NOT NULL
);

-- role: 'export' / 'import' energy counters (net generation = export - import), 'electricity' or a fuel
-- activity (natural_gas, diesel, ...) for the project's own consumption
CREATE TABLE IF NOT EXISTS project_points (
    project_id bigint NOT NULL REFERENCES projects ON DELETE CASCADE,
    device_id  text NOT NULL,
    point      text NOT NULL,
    role       text NOT NULL CHECK (role ~ '^[a-z_]+$'),
    bound_at   timestamptz NOT NULL DEFAULT now(),
    bound_by   text NOT NULL,
    PRIMARY KEY (project_id, device_id, point)
);

CREATE TABLE IF NOT EXISTS project_fees (
    project_id  bigint NOT NULL REFERENCES projects ON DELETE CASCADE,
    month       date NOT NULL CHECK (extract(day FROM month) = 1),
    energy_mwh  double precision NOT NULL CHECK (energy_mwh >= 0),
    amount_yuan numeric NOT NULL CHECK (amount_yuan >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL,
    PRIMARY KEY (project_id, month)
);

CREATE TABLE IF NOT EXISTS project_verifiers (
    project_id  bigint NOT NULL REFERENCES projects ON DELETE CASCADE,
    username    text NOT NULL,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    assigned_by text NOT NULL,
    PRIMARY KEY (project_id, username)
);
CREATE INDEX IF NOT EXISTS project_verifiers_user ON project_verifiers (username);

-- 两高 projects: the approved energy and CO2 of each year (from the energy-review approval) against the actual
-- figures, from meters or reports; a warning is shown when an actual exceeds its approved figure.
CREATE TABLE IF NOT EXISTS project_two_high (
    project_id     bigint NOT NULL REFERENCES projects ON DELETE CASCADE,
    year           int NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    approved_tce   double precision CHECK (approved_tce >= 0),
    approved_tco2  double precision CHECK (approved_tco2 >= 0),
    actual_tce     double precision CHECK (actual_tce >= 0),
    actual_tco2    double precision CHECK (actual_tco2 >= 0),
    actual_source  text CHECK (actual_source IN ('meters', 'report')),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     text NOT NULL,
    PRIMARY KEY (project_id, year)
);
