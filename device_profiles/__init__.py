"""carbonflow: device_profiles."""
