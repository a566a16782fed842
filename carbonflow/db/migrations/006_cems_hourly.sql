-- Hourly CO2 mass per CEMS stack, from the hourly rollups of its analyser and flow points.
-- An hour whose data are missing, bad, or taken while the analyser was calibrating or in
-- maintenance is invalid: its mass is substituted by the last valid hour's and flagged.
CREATE TABLE IF NOT EXISTS cems_hourly (
    device_id        text NOT NULL,
    hour             timestamptz NOT NULL,
    site_id          text,
    q_sn_nm3_h       double precision,
    c_dry_pct        double precision,
    c_mg_m3          double precision,
    mass_t           double precision NOT NULL,
    valid            boolean NOT NULL,
    substituted_from timestamptz,
    reason           text,
    formula          text NOT NULL,
    PRIMARY KEY (device_id, hour)
);
CREATE INDEX IF NOT EXISTS cems_hourly_site_idx ON cems_hourly (site_id, hour);
