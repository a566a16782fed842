-- Monitoring periods of reduction projects (ER = BE - PE - LE, carbon_domain/projects.py) with their
-- provenance, and the certification workflow: computed -> submitted -> verified (or refused, then recomputed)
-- -> certified, when the ER is issued into the owner's holdings (122). Verdicts and comments are kept in
-- project_period_events (append-only), refusals included.
CREATE TABLE IF NOT EXISTS project_periods (
    period_id       bigserial PRIMARY KEY,
    project_id      bigint NOT NULL REFERENCES projects ON DELETE CASCADE,
    start_ts        timestamptz NOT NULL,
    end_ts          timestamptz NOT NULL CHECK (end_ts > start_ts),
    be_tco2         double precision NOT NULL,
    pe_tco2         double precision NOT NULL,
    le_tco2         double precision NOT NULL,
    er_tco2         double precision NOT NULL,
    ef_cm           double precision,
    provenance      jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'computed'
                    CHECK (status IN ('computed', 'submitted', 'verified', 'refused', 'certified')),
    issued_tco2     bigint,
    computed_at     timestamptz NOT NULL DEFAULT now(),
    computed_by     text NOT NULL
);
CREATE INDEX IF NOT EXISTS project_periods_project ON project_periods (project_id, start_ts);
-- one live result per project and period: a refused one may be recomputed, a certified one never
CREATE UNIQUE INDEX IF NOT EXISTS project_periods_live ON project_periods (project_id, start_ts, end_ts)
    WHERE status <> 'refused';

CREATE TABLE IF NOT EXISTS project_period_events (
    event_id   bigserial PRIMARY KEY,
    period_id  bigint NOT NULL REFERENCES project_periods ON DELETE CASCADE,
    action     text NOT NULL CHECK (action IN ('submit', 'verify', 'refuse', 'certify', 'comment')),
    comment    text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL
);
SELECT cf_make_append_only('project_period_events', 'is append-only (verdicts and comments are kept)');
