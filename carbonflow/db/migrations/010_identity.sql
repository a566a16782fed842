-- Identity, access control and audit for the API: users with a role and a data scope,
-- password history, sessions and machine tokens (both stored as SHA-256 of the secret),
-- and an append-only audit log.
CREATE TABLE IF NOT EXISTS users (
    user_id              bigserial PRIMARY KEY,
    username             text NOT NULL UNIQUE,
    role                 text NOT NULL CHECK (role IN ('government', 'enterprise', 'auditor', 'technician', 'admin')),
    -- scope: government users see enterprises of `region` (and its sub-regions, e.g. CN-ZJ covers CN-ZJ-HZ);
    -- enterprise users see `enterprise_id`; auditors see the rows of user_enterprises
    region               text,
    enterprise_id        text REFERENCES enterprises,
    -- scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>: parameters stored with every hash
    password_hash        text NOT NULL,
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    must_change_password boolean NOT NULL DEFAULT true,
    failed_attempts      int NOT NULL DEFAULT 0,
    locked_until         timestamptz,
    disabled             boolean NOT NULL DEFAULT false,
    -- RFC 6238 secret (base32); totp_enabled once the user confirmed a first code
    totp_secret          text,
    totp_enabled         boolean NOT NULL DEFAULT false,
    totp_last_step       bigint,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (role = 'government' OR region IS NULL),
    CHECK (role = 'enterprise' OR enterprise_id IS NULL)
);

CREATE TABLE IF NOT EXISTS user_enterprises (
    user_id       bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    enterprise_id text NOT NULL REFERENCES enterprises,
    PRIMARY KEY (user_id, enterprise_id)
);

CREATE TABLE IF NOT EXISTS password_history (
    user_id       bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    password_hash text NOT NULL,
    set_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS password_history_user_idx ON password_history (user_id, set_at DESC);

CREATE TABLE IF NOT EXISTS sessions (
    session_id    bigserial PRIMARY KEY,
    token_hash    bytea NOT NULL UNIQUE,
    user_id       bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    client_ip     text
);
CREATE INDEX IF NOT EXISTS sessions_user_idx ON sessions (user_id);

CREATE TABLE IF NOT EXISTS api_tokens (
    token_id      bigserial PRIMARY KEY,
    token_hash    bytea NOT NULL UNIQUE,
    user_id       bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    name          text NOT NULL,
    scopes        text[] NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);
CREATE INDEX IF NOT EXISTS api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE IF NOT EXISTS audit_log (
    audit_id      bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor         text,                -- user name; NULL for anonymous requests and the system
    actor_kind    text NOT NULL CHECK (actor_kind IN ('user', 'token', 'anonymous', 'system')),
    token_id      bigint,
    action        text NOT NULL,       -- e.g. auth.login, auth.login_failed, user.create
    target        text,
    outcome       text NOT NULL DEFAULT 'ok',
    client_ip     text,
    before        jsonb,
    after         jsonb,
    detail        jsonb
);
CREATE INDEX IF NOT EXISTS audit_log_at_idx ON audit_log (at);
CREATE INDEX IF NOT EXISTS audit_log_actor_idx ON audit_log (actor, at);
CREATE INDEX IF NOT EXISTS audit_log_action_idx ON audit_log (action, at);

SELECT cf_make_append_only('audit_log', 'is append-only');
