-- 碳效码 certificates: one row per certificate issued (PDF with a QR code). The QR code leads to the public
-- verification page, which confirms the unit, the period, the code and the issue date from this row and shows
-- no figures. `token` is random (not guessable from the unit or year); a certificate is never changed.
CREATE TABLE IF NOT EXISTS efficiency_code_certificates (
    token          text PRIMARY KEY CHECK (token ~ '^[A-Za-z0-9_-]{16,64}$'),
    unit_id        bigint NOT NULL,
    unit_name      text NOT NULL,
    credit_code    text NOT NULL,
    period         text NOT NULL,
    config_version text NOT NULL,
    code           text NOT NULL,
    grade          smallint NOT NULL CHECK (grade BETWEEN 1 AND 5),
    synthetic      boolean NOT NULL DEFAULT false,
    issued_at      timestamptz NOT NULL DEFAULT now(),
    issued_by      text NOT NULL
);
CREATE INDEX IF NOT EXISTS efficiency_code_certificates_unit ON efficiency_code_certificates (unit_id, period);
SELECT cf_make_append_only('efficiency_code_certificates', 'is append-only (issue a new certificate instead)');
