-- Funds and progress per lifecycle stage of a project (issue 20; docs/projects.md).
--
-- Spending names the stage it was spent in. Rows recorded before this migration keep stage NULL ("not assigned
-- to a stage"): the project's current stage says nothing about when older money was spent. New rows take the
-- project's stage at recording time unless the caller names a stage the project has reached.
ALTER TABLE project_spending ADD COLUMN IF NOT EXISTS stage text
    CHECK (stage IN ('initiated', 'implementing', 'accepted', 'filed'));

-- The budget and progress (0-100 %) the owner plans for one stage; set through
-- PUT /api/v1/projects/{id}/stages/{stage}, audited (projects.stage_plan).
CREATE TABLE IF NOT EXISTS project_stage_plans (
    project_id   bigint NOT NULL REFERENCES projects ON DELETE CASCADE,
    stage        text NOT NULL CHECK (stage IN ('initiated', 'implementing', 'accepted', 'filed')),
    budget       numeric CHECK (budget >= 0),
    progress_pct double precision NOT NULL DEFAULT 0 CHECK (progress_pct BETWEEN 0 AND 100),
    note         text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text NOT NULL,
    PRIMARY KEY (project_id, stage)
);
