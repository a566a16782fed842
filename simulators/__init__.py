"""carbonflow: simulators."""
