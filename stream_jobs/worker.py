"""Run the faust worker in this process."""

from __future__ import annotations

import os

from faust import Worker

import stream_jobs.agents  # noqa: F401  (registers the agents)
from carbonflow.gc_tuning import tune_gc_for_batches
from carbonflow.metrics import metrics_listen_from_env, serve_metrics
from stream_jobs.app import app

__all__ = ["run_worker"]


def run_worker(loglevel: str = "info") -> int:
    """Start the worker; returns when it is stopped by SIGINT/SIGTERM."""
    tune_gc_for_batches()
    listen = metrics_listen_from_env(os.environ, "stream")
    if listen is not None:
        serve_metrics(listen, "stream")
    Worker(app, loglevel=loglevel, quiet=True).execute_from_commandline()
    return 0
