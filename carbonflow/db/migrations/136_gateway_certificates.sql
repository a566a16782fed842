-- Gateway registry administration (issue 16): when the client certificate issued to a certificate gateway
-- expires, stored when `carbonflow gateways add` or POST /api/v1/gateways issues it, shown by GET /gateways.
ALTER TABLE gateways ADD COLUMN IF NOT EXISTS cert_expires_at timestamptz;
