"""What ingest and the stream worker share for /metrics: the listener, its settings, and dead-letter reason classes.

Each process keeps its metrics in prometheus_client's default registry and serves
them on its own port (`CARBONFLOW_<SERVICE>_METRICS_PORT`, off when unset), bound to
loopback unless `CARBONFLOW_<SERVICE>_METRICS_HOST` says otherwise. A dead letter's
reason is free text naming the reading; its class is a short fixed word, so the
label has a bounded set of values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, start_http_server

__all__ = ["DEAD_LETTERS", "HEARTBEAT", "REASON_CLASSES", "MetricsListen", "metrics_listen_from_env", "reason_class",
           "serve_metrics"]

log = logging.getLogger("carbonflow.metrics")

DEAD_LETTERS = Counter("carbonflow_dead_letters_total", "Records sent to the dead letters, by stage and reason class.",
                       ["stage", "reason_class"])
# set by the service's own loop (not at scrape), so a stuck loop shows as an old heartbeat
HEARTBEAT = Gauge("carbonflow_heartbeat_timestamp_seconds", "Unix time the service's main loop last went round.",
                  ["service"])

# first match wins; each pattern matches the start of a reason ingest/ or stream_jobs/ writes
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(pattern)) for name, pattern in (
    ("schema", r"invalid envelope"),
    ("malformed", r"(malformed JSON|undecodable payload|topic is not)"),
    ("protection", r"(protected payload|gateway .* must sign/encrypt)"),
    ("gateway", r"gateway .*(not registered|revoked|does not match)"),
    ("replay", r"replayed sequence"),
    ("clock", r"\d+ readings dated more than"),
    ("device", r"device .*(bound|registered|at site)"),
    ("health", r"(unknown event|invalid gateway health|invalid (status|event):|\w+ payload (of|is not)|topic kind)"),
    ("record", r"invalid Kafka record"),
    ("store", r"record could not be stored"),
    ("other", r""),
))
REASON_CLASSES = tuple(name for name, _ in _RULES)


def reason_class(reason: str) -> str:
    """The fixed class of a dead letter's reason (one of REASON_CLASSES; `other` for one no rule knows)."""
    return next(name for name, pattern in _RULES if pattern.match(reason))


@dataclass(frozen=True)
class MetricsListen:
    host: str
    port: int


def metrics_listen_from_env(env: Mapping[str, str], service: str) -> MetricsListen | None:
    """`CARBONFLOW_<SERVICE>_METRICS_PORT` (1-65535; unset or empty: no listener) and `..._METRICS_HOST`."""
    prefix = f"CARBONFLOW_{service.upper()}_METRICS"
    text = env.get(f"{prefix}_PORT", "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise SystemExit(f"{service}: {prefix}_PORT must be a port number from 1 to 65535, got {text!r}")
    host = env.get(f"{prefix}_HOST", "").strip() or "127.0.0.1"
    return MetricsListen(host, int(text))


def serve_metrics(listen: MetricsListen, service: str) -> None:
    """Serve the default registry on http://host:port/metrics from a daemon thread; exits when the port is taken."""
    HEARTBEAT.labels(service).set_to_current_time()
    try:
        start_http_server(listen.port, addr=listen.host)
    except OSError as exc:
        raise SystemExit(f"{service}: cannot serve metrics on {listen.host}:{listen.port}: {exc}") from exc
    log.info("%s metrics on http://%s:%d/metrics", service, listen.host, listen.port)
