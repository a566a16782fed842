-- Quality carried through the per-point rollups: how many readings of each bucket were uncertain
-- (estimated, substituted, out of calibration) and how many bad, besides the worst quality.
-- good = n - n_uncertain - n_bad. Columns go at the end with a default, so writers that list the
-- older columns only keep working.
ALTER TABLE rollup_1m ADD COLUMN IF NOT EXISTS n_uncertain int NOT NULL DEFAULT 0,
                      ADD COLUMN IF NOT EXISTS n_bad int NOT NULL DEFAULT 0;
ALTER TABLE rollup_1h ADD COLUMN IF NOT EXISTS n_uncertain int NOT NULL DEFAULT 0,
                      ADD COLUMN IF NOT EXISTS n_bad int NOT NULL DEFAULT 0;

-- Buckets written before this migration: only those with a worst quality above good can have
-- non-zero counts, so only they are recounted, each from its own stretch of raw readings (index on
-- point_key, ts).
UPDATE rollup_1m r SET (n_uncertain, n_bad) = (
    SELECT count(*) FILTER (WHERE x.quality = 1), count(*) FILTER (WHERE x.quality = 2) FROM readings x
     WHERE x.point_key = r.point_key AND x.ts >= r.bucket AND x.ts < r.bucket + interval '1 minute')
 WHERE r.worst_quality > 0;
UPDATE rollup_1h r SET (n_uncertain, n_bad) = (
    SELECT count(*) FILTER (WHERE x.quality = 1), count(*) FILTER (WHERE x.quality = 2) FROM readings x
     WHERE x.point_key = r.point_key AND x.ts >= r.bucket AND x.ts < r.bucket + interval '1 hour')
 WHERE r.worst_quality > 0;
