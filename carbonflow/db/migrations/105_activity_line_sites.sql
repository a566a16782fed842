-- The site an entered activity line belongs to (optional). The inventory picks each line's electricity
-- factor by its site's location (enterprise-specific, province, regional grid, national:
-- carbon_domain/grid.py); a line without a site takes what all the enterprise's sites share.
-- Adding a nullable column rewrites nothing, so the append-only trigger of activity_lines is not involved.
ALTER TABLE activity_lines ADD COLUMN IF NOT EXISTS site_id text;
