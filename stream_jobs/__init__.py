"""carbonflow: stream_jobs."""
