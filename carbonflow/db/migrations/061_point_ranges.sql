-- A point's configured plausible range, for the out_of_range alarm: from the device profile's valid_range
-- (range_source 'profile', filled in by the stream job) or set by hand ('manual', never overwritten).
-- 'none' records that the profile was looked at and gives no range.
ALTER TABLE points ADD COLUMN IF NOT EXISTS range_low double precision;
ALTER TABLE points ADD COLUMN IF NOT EXISTS range_high double precision;
ALTER TABLE points ADD COLUMN IF NOT EXISTS range_source text CHECK (range_source IN ('profile', 'manual', 'none'));
ALTER TABLE points ADD CONSTRAINT points_range_ordered
    CHECK (range_low IS NULL OR range_high IS NULL OR range_low < range_high);
