"""carbonflow: ingest."""
