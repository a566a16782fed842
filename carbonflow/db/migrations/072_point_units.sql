-- Unit normalisation: readings of a point created from now on are stored in the storage unit of their
-- dimension (carbon_domain.units.STORAGE_UNITS: kWh, kW, m3, Nm3, t, tCO2); `unit` is that unit and
-- `source_unit` the unit the gateway last sent. Points that existed before this migration keep storing
-- values as sent (normalised = false): converting their history would rewrite raw readings that
-- emissions, rollups and audits already refer to.
ALTER TABLE points ADD COLUMN IF NOT EXISTS source_unit text;
ALTER TABLE points ADD COLUMN IF NOT EXISTS normalised boolean NOT NULL DEFAULT false;
ALTER TABLE points ALTER COLUMN normalised SET DEFAULT true;
