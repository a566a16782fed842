"""carbonflow: carbonflow."""
