-- Gateway registry: which gateways may publish, how they authenticate, and revocation.
ALTER TABLE gateways ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'revoked', 'unregistered'));
ALTER TABLE gateways ADD COLUMN IF NOT EXISTS auth text NOT NULL DEFAULT 'certificate'
    CHECK (auth IN ('certificate', 'password'));
ALTER TABLE gateways ADD COLUMN IF NOT EXISTS registered_at timestamptz;
ALTER TABLE gateways ADD COLUMN IF NOT EXISTS revoked_at timestamptz;
-- rows the stream job creates for gateways it has never been told about are 'unregistered'
ALTER TABLE gateways ALTER COLUMN status SET DEFAULT 'unregistered';
