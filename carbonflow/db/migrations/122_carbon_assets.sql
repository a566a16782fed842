-- Carbon assets per enterprise (issue 20; carbon_domain/assets.py): allowance allocations per year with their
-- method, the append-only ledger of every movement (allocate, issue, buy, sell, surrender, transfer), whose
-- sums per instrument and vintage are the holdings and may never go negative (checked under a per-enterprise
-- lock before each insert), and the verified and monthly emissions a compliance position is computed from.
CREATE TABLE IF NOT EXISTS asset_allowances (
    enterprise_id text NOT NULL REFERENCES enterprises,
    year          int NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    method        text NOT NULL CHECK (method IN ('benchmark', 'entered')),
    benchmark     double precision,
    output        double precision,
    adjustment    double precision,
    amount        double precision NOT NULL CHECK (amount >= 0),
    allocated_at  timestamptz NOT NULL DEFAULT now(),
    allocated_by  text NOT NULL,
    PRIMARY KEY (enterprise_id, year)
);

CREATE TABLE IF NOT EXISTS asset_ledger (
    entry_id      bigserial PRIMARY KEY,
    enterprise_id text NOT NULL REFERENCES enterprises,
    at            timestamptz NOT NULL DEFAULT now(),
    kind          text NOT NULL CHECK (kind IN ('allocate', 'issue', 'buy', 'sell', 'surrender', 'transfer_in',
                                                'transfer_out')),
    instrument    text NOT NULL CHECK (instrument IN ('allowance', 'ccer', 'certified_reduction')),
    vintage       int NOT NULL CHECK (vintage BETWEEN 2000 AND 2100),
    quantity      double precision NOT NULL CHECK (quantity > 0 AND quantity < 'infinity'),
    price         numeric CHECK (price >= 0),
    counterparty  text,
    compliance_year int,
    reference     text,
    actor         text NOT NULL
);
CREATE INDEX IF NOT EXISTS asset_ledger_enterprise ON asset_ledger (enterprise_id, entry_id);
SELECT cf_make_append_only('asset_ledger', 'is append-only (correct with a new entry)');

CREATE TABLE IF NOT EXISTS asset_emissions (
    enterprise_id text NOT NULL REFERENCES enterprises,
    year          int NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    month         int CHECK (month BETWEEN 1 AND 12),  -- NULL: the verified figure of the whole year
    tco2          double precision NOT NULL CHECK (tco2 >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS asset_emissions_key ON asset_emissions (enterprise_id, year, COALESCE(month, 0));
