-- Enterprise groups (集团, issue 21, docs/targets.md): a named set of member enterprises, e.g. a steel group with
-- several works, that can hold a carbon target like a region does. A group target is allocated to the member
-- enterprises or to their monitoring units by the same rules as a region target; it has a group instead of a
-- region (exactly one of the two).
CREATE TABLE IF NOT EXISTS enterprise_groups (
    group_id    bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 120),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS enterprise_group_members (
    group_id      bigint NOT NULL REFERENCES enterprise_groups ON DELETE CASCADE,
    enterprise_id text NOT NULL REFERENCES enterprises,
    PRIMARY KEY (group_id, enterprise_id)
);
CREATE INDEX IF NOT EXISTS enterprise_group_members_enterprise ON enterprise_group_members (enterprise_id);

ALTER TABLE analysis_targets ADD COLUMN IF NOT EXISTS group_id bigint REFERENCES enterprise_groups;
ALTER TABLE analysis_targets ALTER COLUMN region_code DROP NOT NULL;
ALTER TABLE analysis_targets DROP CONSTRAINT IF EXISTS analysis_targets_holder_level_check;
ALTER TABLE analysis_targets DROP CONSTRAINT IF EXISTS analysis_targets_holder_check;
-- a region target goes to sub-regions, industries or units; a group target to member enterprises or their units
ALTER TABLE analysis_targets ADD CONSTRAINT analysis_targets_holder_check CHECK (
    (region_code IS NOT NULL AND group_id IS NULL AND holder_level IN ('region', 'industry', 'unit'))
    OR (region_code IS NULL AND group_id IS NOT NULL AND holder_level IN ('enterprise', 'unit')));
CREATE INDEX IF NOT EXISTS analysis_targets_group ON analysis_targets (group_id, year) WHERE group_id IS NOT NULL;
