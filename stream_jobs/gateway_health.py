"""Gateway status reports and spool-overflow events -> `gateway_health` and `gateway_events`.

Records of one gateway arrive in order (Kafka key = gateway), so the newest
record wins. A retained status is delivered again whenever ingest subscribes;
storing it again changes nothing: an online report with the same agent time,
or an `offline` while already offline, is a no-op, so `state_since` and
`last_seen` keep their first values.

An online report that is new also moves the registry's `gateways.last_seen` (shown by GET /api/v1/gateways
and `carbonflow gateways list`): the gateway was in contact when it was received.
"""

from __future__ import annotations

import psycopg

from carbon_domain.schemas import GatewayHealthRecord, GatewayStatus, SpoolOverflowEvent

__all__ = ["store_health_record"]

_ONLINE = """
INSERT INTO gateway_health AS h (gateway_id, state, state_since, reported_at, last_seen, interval_s, agent_version,
    spool_depth, spool_bytes, oldest_unsent_age_s, dropped_total, dropped_unreported, last_overflow_at,
    last_overflow_dropped, updated_at)
VALUES (%(gw)s, 'online', %(received)s, %(at)s, %(received)s, %(interval)s, %(version)s, %(depth)s, %(bytes)s, %(age)s,
    COALESCE(%(dropped)s, 0), %(unreported)s, %(drop_at)s, %(drop_n)s, now())
ON CONFLICT (gateway_id) DO UPDATE SET
    state = 'online',
    state_since = CASE WHEN h.state = 'online' THEN h.state_since ELSE EXCLUDED.last_seen END,
    reported_at = EXCLUDED.reported_at, last_seen = EXCLUDED.last_seen, interval_s = EXCLUDED.interval_s,
    agent_version = COALESCE(EXCLUDED.agent_version, h.agent_version),
    spool_depth = EXCLUDED.spool_depth, spool_bytes = EXCLUDED.spool_bytes,
    oldest_unsent_age_s = EXCLUDED.oldest_unsent_age_s,
    dropped_total = GREATEST(h.dropped_total, EXCLUDED.dropped_total),
    dropped_unreported = EXCLUDED.dropped_unreported,
    last_overflow_at = GREATEST(h.last_overflow_at, EXCLUDED.last_overflow_at),  -- GREATEST skips NULLs
    last_overflow_dropped = CASE WHEN EXCLUDED.last_overflow_at > h.last_overflow_at OR h.last_overflow_at IS NULL
                                 THEN COALESCE(EXCLUDED.last_overflow_dropped, h.last_overflow_dropped)
                                 ELSE h.last_overflow_dropped END,
    updated_at = now()
WHERE h.state <> 'online' OR h.reported_at IS DISTINCT FROM EXCLUDED.reported_at
"""

_CONTACT = "UPDATE gateways SET last_seen = GREATEST(last_seen, %(received)s) WHERE gateway_id = %(gw)s"

_OFFLINE = """
INSERT INTO gateway_health AS h (gateway_id, state, state_since) VALUES (%(gw)s, 'offline', %(received)s)
ON CONFLICT (gateway_id) DO UPDATE SET state = 'offline', state_since = EXCLUDED.state_since, updated_at = now()
WHERE h.state <> 'offline'
"""

_EVENT = """
WITH new AS (
    INSERT INTO gateway_events (gateway_id, event, at, received_at, dropped, dropped_total)
    VALUES (%(gw)s, %(event)s, %(at)s, %(received)s, %(dropped)s, %(total)s)
    ON CONFLICT (gateway_id, event, dropped_total) DO NOTHING RETURNING 1
)
INSERT INTO gateway_health AS h (gateway_id, state, state_since, dropped_total, last_overflow_at,
    last_overflow_dropped)
SELECT %(gw)s, 'online', %(received)s, %(total)s, %(at)s, %(dropped)s FROM new
ON CONFLICT (gateway_id) DO UPDATE SET
    dropped_total = GREATEST(h.dropped_total, EXCLUDED.dropped_total),
    last_overflow_at = GREATEST(h.last_overflow_at, EXCLUDED.last_overflow_at),
    last_overflow_dropped = CASE WHEN h.last_overflow_at IS NULL OR EXCLUDED.last_overflow_at >= h.last_overflow_at
                                 THEN EXCLUDED.last_overflow_dropped ELSE h.last_overflow_dropped END,
    updated_at = now()
"""


def _status_params(record: GatewayHealthRecord, status: GatewayStatus) -> dict[str, object]:
    spool, drop = status.spool, status.last_drop_report
    return {
        "gw": record.gateway, "received": record.received_at, "at": status.at, "interval": status.interval_s,
        "version": status.agent_version, "depth": spool.depth if spool else None,
        "bytes": spool.bytes if spool else None, "age": spool.oldest_unsent_age_s if spool else None,
        "dropped": status.dropped_total, "unreported": status.dropped_unreported,
        "drop_at": drop.at if drop else None, "drop_n": drop.dropped if drop else None,
    }


def _event_params(record: GatewayHealthRecord, event: SpoolOverflowEvent) -> dict[str, object]:
    return {"gw": record.gateway, "received": record.received_at, "event": event.event, "at": event.at,
            "dropped": event.dropped, "total": event.dropped_total}


async def store_health_record(conn: psycopg.AsyncConnection, record: GatewayHealthRecord) -> None:
    """Apply one status report or event to the gateway's stored health."""
    if record.status is not None:
        if record.status.state == "online":
            cur = await conn.execute(_ONLINE, _status_params(record, record.status))
            if cur.rowcount:  # a new report, not a retained one delivered again
                await conn.execute(_CONTACT, {"gw": record.gateway, "received": record.received_at})
        else:
            await conn.execute(_OFFLINE, {"gw": record.gateway, "received": record.received_at})
    elif record.event is not None:
        await conn.execute(_EVENT, _event_params(record, record.event))
