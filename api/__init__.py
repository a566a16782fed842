"""carbonflow: api."""
