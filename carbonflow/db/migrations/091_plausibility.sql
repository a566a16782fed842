-- Plausibility of counter readings (docs/accounting.md, "Implausible readings").
--
-- A counter's rate-of-rise limit set by hand, in its stored unit per hour; NULL: the device profile's
-- (plausibility.max_rise_per_h or rated_power_kw) or, without one, carbon_domain.plausibility's default.
-- A gauge's plausible range is the point range of 061 (range_low / range_high).
ALTER TABLE points ADD COLUMN IF NOT EXISTS max_rise_per_h double precision
    CHECK (max_rise_per_h > 0 AND max_rise_per_h < 'infinity');

-- One row per counter reading the stream sink stored as bad because it is implausible: negative, or rising
-- faster than the point's limit since the last plausible reading (previous_ts / previous_value). The reading
-- itself stays stored (quality bad) for audit. A person who checked a rise can accept it (state 'accepted',
-- who and when); accounting then includes it: the stream worker recomputes the site's affected hours and
-- sets recomputed_at. A negative reading is never accepted. The key is the reading's own, so a replayed
-- record flags nothing twice.
CREATE TABLE IF NOT EXISTS implausible_readings (
    flag_id         bigserial PRIMARY KEY,
    point_key       int NOT NULL REFERENCES points ON DELETE CASCADE,
    gateway_key     int NOT NULL,
    seq             bigint NOT NULL,
    ts              timestamptz NOT NULL,
    value           double precision NOT NULL,
    reason          text NOT NULL CHECK (reason IN ('negative', 'rise')),
    detail          text NOT NULL,
    previous_ts     timestamptz,
    previous_value  double precision,
    limit_per_h     double precision,
    flagged_at      timestamptz NOT NULL DEFAULT now(),
    state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'accepted')),
    accepted_by     text,
    accepted_at     timestamptz,
    accepted_with   bigint REFERENCES implausible_readings ON DELETE SET NULL,  -- the flag whose acceptance
                                                                                 -- made this one plausible
    recomputed_at   timestamptz,
    UNIQUE (point_key, gateway_key, seq, ts),
    CHECK (state = 'open' OR (reason = 'rise' AND accepted_by IS NOT NULL AND accepted_at IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS implausible_readings_point_ts ON implausible_readings (point_key, ts);
-- the stream worker's queue of acceptances whose hours are still to be recomputed
CREATE INDEX IF NOT EXISTS implausible_readings_to_recompute ON implausible_readings (accepted_at)
    WHERE state = 'accepted' AND recomputed_at IS NULL;
