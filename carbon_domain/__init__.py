"""carbonflow: carbon_domain."""
