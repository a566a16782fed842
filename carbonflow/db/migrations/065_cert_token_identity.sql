-- The certificate CN a machine token was issued to at certificate login (NULL for tokens people create).
-- POST /api/v1/ingest accepts from such a token only envelopes of the gateway named by that CN; the token's
-- name ('cert:<cn>') cannot tell, since anyone may name a token of their own that way.
ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS cert_common_name text;
CREATE INDEX IF NOT EXISTS api_tokens_cert_cn_idx ON api_tokens (cert_common_name) WHERE cert_common_name IS NOT NULL;

-- Certificate tokens still valid when this runs: their login's audit entry names the token and the CN.
UPDATE api_tokens t SET cert_common_name = a.detail->>'common_name'
  FROM audit_log a
 WHERE a.action = 'auth.login' AND a.detail->>'method' = 'certificate'
   AND (a.detail->>'token_id')::bigint = t.token_id
   AND t.cert_common_name IS NULL AND t.revoked_at IS NULL AND t.expires_at > now();
