-- Short-lived, single-use tickets that open a server-sent event stream (GET /api/v1/live/stream):
-- EventSource cannot send an Authorization header, and a bearer token in a URL ends up in logs.
-- A ticket stands for the credential it was issued to: a session or machine token, named by the same
-- SHA-256 digest that sessions.token_hash / api_tokens.token_hash hold, so revoking it ends the stream too.
CREATE TABLE IF NOT EXISTS stream_tickets (
    ticket_hash     bytea PRIMARY KEY,
    via             text NOT NULL CHECK (via IN ('session', 'token')),
    credential_hash bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS stream_tickets_expires_idx ON stream_tickets (expires_at);
