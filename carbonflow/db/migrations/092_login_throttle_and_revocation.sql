-- Login throttling per (user name, client address) instead of a lock on the account, machine tokens that
-- remember how their owner logged in, and a signal that tells every API worker at once that a credential ended.

-- Failed logins counted per user name as typed, known or not (an unknown name is throttled exactly like a
-- known one, so that the answers do not tell which names exist), and per client address (so that a guesser
-- elsewhere cannot lock the user out). `blocked_until`: no login for this pair before then (see
-- api.throttle for the growing delay). A row is forgotten after a quiet day or at the pair's next success.
CREATE TABLE IF NOT EXISTS login_throttle (
    username       text NOT NULL,
    client_ip      text NOT NULL,
    failures       int NOT NULL,
    last_failed_at timestamptz NOT NULL,
    blocked_until  timestamptz,
    PRIMARY KEY (username, client_ip)
);
CREATE INDEX IF NOT EXISTS login_throttle_last_failed_idx ON login_throttle (last_failed_at);

-- the account-wide lock this replaces: five wrong passwords from anywhere locked the user out for everyone
ALTER TABLE users DROP COLUMN IF EXISTS failed_attempts, DROP COLUMN IF EXISTS locked_until;

-- How the owner had logged in when the token was made: 'password' tokens follow the password (revoked when it
-- is changed or reset, refused while a change is due), 'sso' and 'certificate' tokens do not rest on it.
ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS auth_method text NOT NULL DEFAULT 'password'
    CHECK (auth_method IN ('password', 'sso', 'certificate'));
UPDATE api_tokens SET auth_method = 'certificate' WHERE cert_common_name IS NOT NULL AND auth_method <> 'certificate';

-- NOTIFY carbonflow_credentials '<user_id>' when a session or token of the user is revoked, or the user is
-- disabled or its password changes: each API worker listens and ends that user's live streams within a tick
-- (api.revocations), instead of finding out at the stream's next periodic check.
CREATE OR REPLACE FUNCTION cf_notify_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('carbonflow_credentials', NEW.user_id::text);
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS sessions_revoked_notify ON sessions;
CREATE TRIGGER sessions_revoked_notify AFTER UPDATE OF revoked_at ON sessions FOR EACH ROW
    WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL) EXECUTE FUNCTION cf_notify_credentials();
DROP TRIGGER IF EXISTS api_tokens_revoked_notify ON api_tokens;
CREATE TRIGGER api_tokens_revoked_notify AFTER UPDATE OF revoked_at ON api_tokens FOR EACH ROW
    WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL) EXECUTE FUNCTION cf_notify_credentials();
DROP TRIGGER IF EXISTS users_credentials_notify ON users;
CREATE TRIGGER users_credentials_notify AFTER UPDATE OF disabled, password_changed_at, must_change_password, role
    ON users FOR EACH ROW
    WHEN (OLD.disabled IS DISTINCT FROM NEW.disabled OR OLD.password_changed_at IS DISTINCT FROM NEW.password_changed_at
          OR OLD.must_change_password IS DISTINCT FROM NEW.must_change_password OR OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION cf_notify_credentials();
