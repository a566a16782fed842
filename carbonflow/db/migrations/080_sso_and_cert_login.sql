-- Two more ways to log in (see docs/auth.md): single sign-on through an OpenID Connect provider, and
-- client-certificate proof of possession for gateways and service accounts.

-- An OIDC identity linked to a carbonflow user. An administrator links either the provider's subject
-- ('sub', stable) or a verified email address; an email link is bound to the subject at its first login
-- and from then on only the subject counts, so a later change of the email at the provider changes nothing.
CREATE TABLE IF NOT EXISTS sso_links (
    link_id       bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    issuer        text NOT NULL,
    subject       text,
    email         text,
    created_by    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    bound_at      timestamptz,
    last_login_at timestamptz,
    CHECK (subject IS NOT NULL OR email IS NOT NULL)
);
CREATE UNIQUE INDEX IF NOT EXISTS sso_links_subject_idx ON sso_links (issuer, subject) WHERE subject IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS sso_links_email_idx ON sso_links (issuer, lower(email)) WHERE subject IS NULL;

-- One authorization request in flight: state, nonce and PKCE verifier, bound to the browser that started it
-- by a cookie (stored as its SHA-256). After a good callback it carries the user and a one-time handoff code
-- the page trades for a session token.
CREATE TABLE IF NOT EXISTS sso_requests (
    state_hash          bytea PRIMARY KEY,
    binding_hash        bytea NOT NULL,
    nonce               text NOT NULL,
    code_verifier       text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    used_at             timestamptz,
    user_id             bigint REFERENCES users ON DELETE CASCADE,
    issuer              text,
    subject             text,
    handoff_hash        bytea UNIQUE,
    handoff_expires_at  timestamptz,
    handoff_used_at     timestamptz
);
CREATE INDEX IF NOT EXISTS sso_requests_expires_idx ON sso_requests (expires_at);

-- How a session was opened: password rules (forced change, expiry) apply to password sessions only.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS auth_method text NOT NULL DEFAULT 'password'
    CHECK (auth_method IN ('password', 'sso'));

-- A client certificate's subject CN allowed to log in, the user it acts for and the scopes of its token.
CREATE TABLE IF NOT EXISTS cert_identities (
    common_name   text PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    scopes        text[] NOT NULL,
    created_by    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);

-- One-time nonces for certificate login, stored as SHA-256.
CREATE TABLE IF NOT EXISTS cert_challenges (
    nonce_hash    bytea PRIMARY KEY,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz
);
CREATE INDEX IF NOT EXISTS cert_challenges_expires_idx ON cert_challenges (expires_at);
