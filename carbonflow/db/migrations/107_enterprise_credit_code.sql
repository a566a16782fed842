-- An enterprise's unified social credit code (统一社会信用代码, GB 32100-2015), shown on the cover of its
-- GHG report. 18 characters from digits and capitals without I, O, Z, S, V; the API also checks the check
-- character. Optional: enterprises registered before it have none, and the report cover says "未登记".
ALTER TABLE enterprises ADD COLUMN IF NOT EXISTS credit_code text
    CHECK (credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$');
