"""Forward spooled readings over MQTT (QoS 1): a batch leaves the spool only once the broker acknowledges it.

The number of unacknowledged publishes is bounded by `inflight_window`, far
below paho's 65,535 message ids, so no in-flight message can be overwritten.
After every (re)connect the unacknowledged tail is sent again from the spool;
the cloud drops the duplicates by (gateway, sequence). Two lanes share the
window: live batches (flushed since the connection came up) and the backlog
(older), which drains oldest-first in between, flagged `backlog`. Batches go out
as column envelopes (version 2), or as version-1 envelopes with
`mqtt.envelope_version: 1` for a cloud that does not read version 2 yet.

Besides data the publisher keeps a retained status message (`online`, with the
spool's numbers and drop counters, republished every `status_interval_s`; the
broker publishes `offline` as last will) and reports spool
overflow on the events topic: readings the spool had to drop are counted and
reported once the broker acknowledges the report. Reconnects wait a capped
exponential delay with jitter (`mqtt.reconnect_min_s` .. `reconnect_max_s`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt

from carbon_domain.protection import Protector
from carbon_domain.schemas import COLUMN_ENVELOPE_VERSION, ColumnEnvelope, Envelope
from carbon_domain.wire import encode_envelope
from edge_agent.backoff import Backoff, ThrottledLog
from edge_agent.config import AgentConfig
from edge_agent.spool import Spool

__all__ = ["Publisher", "data_topic", "events_topic", "status_topic"]

log = logging.getLogger("edge_agent.publisher")
_BACKLOG_AGE_S = 10.0
_DROP_CHECK_S = 1.0


def _agent_version() -> str | None:
    try:
        return metadata.version("carbonflow")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return None


def data_topic(root: str, gateway: str) -> str:
    return f"{root}/{gateway}/data"


def status_topic(root: str, gateway: str) -> str:
    return f"{root}/{gateway}/status"


def events_topic(root: str, gateway: str) -> str:
    return f"{root}/{gateway}/events"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


class Publisher:
    """Owns the MQTT client of one gateway and drains the spool through it."""

    def __init__(self, config: AgentConfig, spool: Spool, protector: Protector | None = None) -> None:
        self._config = config
        self._spool = spool
        self._protector = protector
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected = asyncio.Event()
        self._inflight: dict[int, tuple[int, int]] = {}
        self._control: dict[int, Callable[[], None]] = {}  # mid -> what to do once acknowledged
        self._work = asyncio.Event()
        self._boundary = 0
        self._backlog_cursor = -1
        self._live_cursor = -1
        self._drop_report_pending = False
        self._next_drop_check = 0.0
        self._last_drop_report: dict[str, Any] | None = None
        self._next_status = float("inf")
        self._version = _agent_version()
        self.published = 0
        self.acknowledged = 0
        self.connections = 0
        self.publish_errors = 0
        self.drops_reported = 0
        link = config.mqtt
        self._url = urlsplit(link.url)
        self._backoff = Backoff(link.reconnect_min_s, link.reconnect_max_s)
        self._net_log = ThrottledLog(log)  # used on paho's network thread only
        self._loop_log = ThrottledLog(log)  # used on the event loop only
        self._refusal: str | None = None
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"gw-{config.gateway_id}", clean_session=True
        )
        if link.url.startswith("mqtts://"):
            self._client.tls_set(
                ca_certs=str(link.ca),
                certfile=str(link.cert) if link.cert else None,
                keyfile=str(link.key) if link.key else None,
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        if link.username:
            self._client.username_pw_set(link.username, link.password)
        self._client.max_inflight_messages_set(config.inflight_window)
        self._client.reconnect_delay_set(min_delay=link.reconnect_min_s, max_delay=link.reconnect_max_s)  # type: ignore[arg-type]
        self._client.will_set(self._status_topic, json.dumps({"state": "offline"}), qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    @property
    def _status_topic(self) -> str:
        return status_topic(self._config.mqtt.topic_root, self._config.gateway_id)

    @property
    def _events_topic(self) -> str:
        return events_topic(self._config.mqtt.topic_root, self._config.gateway_id)

    @property
    def _broker(self) -> str:
        return f"{self._url.hostname}:{self._url.port}"

    # paho callbacks run on paho's network thread: hand everything to the event loop.
    def _schedule_reconnect(self, what: str) -> None:
        """Pick the next reconnect delay (exponential, jittered) before paho waits it out."""
        delay = self._backoff.next_delay()
        self._client.reconnect_delay_set(delay, delay)  # type: ignore[arg-type]
        self._net_log.problem(
            "link", "MQTT broker %s: %s (attempt %d, retrying in %.1f s)", self._broker, what,
            self._backoff.failures, delay,
        )

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object = None) -> None:
        if getattr(rc, "is_failure", False):
            self._refusal = f"connection refused: {rc}"  # paho calls on_disconnect next, which retries
            return
        failures = self._backoff.reset()
        if not self._net_log.resolved("link", "MQTT broker %s: connected after %d failed attempts", self._broker, failures):
            log.info("MQTT broker %s: connected", self._broker)
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._mark_connected)

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        self._schedule_reconnect("cannot connect")

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object = None) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._connected.clear)
        if getattr(rc, "is_failure", False):
            what, self._refusal = self._refusal or f"connection lost: {rc}", None
            self._schedule_reconnect(what)

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, rc: object = None, props: object = None) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._acked, mid)

    # event loop side -----------------------------------------------------------------------
    def _mark_connected(self) -> None:
        self.connections += 1
        self._inflight.clear()
        self._control.clear()
        self._drop_report_pending = False
        self._next_drop_check = 0.0  # report drops held while offline right away
        # everything durable now is backlog (including batches sent but never acknowledged);
        # what is flushed from here on is live. Duplicates are dropped upstream.
        self._boundary = self._spool.stats().next_seq
        self._backlog_cursor = -1
        self._live_cursor = self._boundary - 1
        self._publish_status()
        self._connected.set()
        self.wake()

    def _acked(self, mid: int) -> None:
        span = self._inflight.pop(mid, None)
        if span is not None:
            self.acknowledged += self._spool.acknowledge(*span)
        action = self._control.pop(mid, None)
        if action is not None:
            action()
        self.wake()

    def wake(self) -> None:
        """New data or a free window slot: let the forwarding loop look again."""
        self._work.set()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    @property
    def reconnects(self) -> int:
        """Connections after the first one."""
        return max(0, self.connections - 1)

    def _protect(self, payload: bytes) -> bytes:
        return self._protector.protect(payload) if self._protector is not None else payload

    def _publish(self, topic: str, payload: bytes, *, retain: bool = False) -> mqtt.MQTTMessageInfo | None:
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self.publish_errors += 1
            self._loop_log.problem("publish", "publish to %s failed: %s", topic, mqtt.error_string(info.rc))
            return None
        self._loop_log.resolved("publish", "publishing to the broker works again")
        return info

    def status_payload(self) -> dict[str, Any]:
        """The retained `online` status: identity, spool numbers and drop counters (carbon_domain GatewayStatus)."""
        dropped, unreported = self._spool.unreported_drops()
        stats = self._spool.stats()
        oldest = None if stats.oldest_gateway_ts is None else round(max(0.0, time.time() - stats.oldest_gateway_ts), 3)
        return {
            "state": "online",
            "gateway": self._config.gateway_id,
            "at": _now_iso(),
            "agent_version": self._version,
            "interval_s": self._config.status_interval_s,
            "spool": {"depth": stats.depth, "bytes": stats.bytes, "oldest_unsent_age_s": oldest},
            "dropped_total": dropped,
            "dropped_unreported": unreported,
            "last_drop_report": self._last_drop_report,
        }

    def _publish_status(self) -> None:
        self._next_status = time.monotonic() + self._config.status_interval_s
        self._publish(self._status_topic, json.dumps(self.status_payload()).encode(), retain=True)

    def _report_drops(self) -> None:
        """Publish the readings dropped since the last acknowledged report, if any."""
        if self._drop_report_pending or time.monotonic() < self._next_drop_check:
            return
        self._next_drop_check = time.monotonic() + _DROP_CHECK_S
        dropped_total, unreported = self._spool.unreported_drops()
        if unreported <= 0:
            return
        event = {
            "event": "spool_overflow",
            "gateway": self._config.gateway_id,
            "dropped": unreported,
            "dropped_total": dropped_total,
            "at": _now_iso(),
        }
        info = self._publish(self._events_topic, self._protect(json.dumps(event).encode()))
        if info is None:
            return
        self._drop_report_pending = True

        def reported() -> None:
            self._spool.mark_drops_reported(dropped_total)
            self._drop_report_pending = False
            self._next_drop_check = 0.0
            self.drops_reported += unreported
            self._last_drop_report = {"dropped": unreported, "dropped_total": dropped_total, "at": event["at"]}
            log.warning("spool overflow: reported %d dropped readings (%d in total)", unreported, dropped_total)
            self._publish_status()

        self._control[info.mid] = reported

    async def run(self, stop: asyncio.Event) -> None:
        """Connect and forward until `stop` is set."""
        self._loop = asyncio.get_running_loop()
        self._client.connect_async(self._url.hostname or "127.0.0.1", self._url.port or 8883, keepalive=15)
        self._client.loop_start()
        try:
            while not stop.is_set():
                if self._connected.is_set():
                    self._report_drops()
                    if time.monotonic() >= self._next_status:
                        self._publish_status()  # a heartbeat with fresh spool numbers
                sent_live = await self._forward_once(backlog=False)
                sent_backlog = await self._forward_once(backlog=True)
                if not (sent_live or sent_backlog):
                    self._work.clear()
                    try:
                        await asyncio.wait_for(self._work.wait(), timeout=0.5)
                    except TimeoutError:
                        pass
        finally:
            if self._connected.is_set():
                await self._say_offline()
            self._client.disconnect()
            await asyncio.to_thread(self._client.loop_stop)
            self._connected.clear()

    async def _say_offline(self) -> None:
        """A clean disconnect does not fire the last will: retain `offline` ourselves (waits at most 1 s)."""
        offline = {"state": "offline", "gateway": self._config.gateway_id, "at": _now_iso()}
        info = self._publish(self._status_topic, json.dumps(offline).encode(), retain=True)
        if info is None:
            return
        try:
            await asyncio.to_thread(info.wait_for_publish, 1.0)
        except (RuntimeError, ValueError) as exc:  # the link went first; the broker's last will covers it
            log.debug("offline status not confirmed: %s", exc)

    async def _forward_once(self, *, backlog: bool) -> bool:
        """Publish one batch of one lane if the link and window allow; False when nothing was sent."""
        cfg = self._config
        if not self._connected.is_set() or len(self._inflight) >= cfg.inflight_window:
            return False
        connection = self.connections
        after, before = (self._backlog_cursor, self._boundary) if backlog else (self._live_cursor, None)
        # Reading, validating and serialising a batch is most of the publisher's work: all of it in a
        # worker thread, so the event loop, and with it every poller, does not wait for it.
        batch = await asyncio.to_thread(self._prepare, after, before, backlog)
        if batch is None or not self._connected.is_set() or self.connections != connection:
            return False  # nothing new, or the link went (and maybe came back: the cursors started over)
        info = self._publish(data_topic(cfg.mqtt.topic_root, cfg.gateway_id), batch.payload)
        if info is None:
            return False
        self._inflight[info.mid] = (batch.seq_first, batch.seq_last)
        if backlog:
            self._backlog_cursor = batch.seq_last
        else:
            self._live_cursor = batch.seq_last
        self.published += batch.count
        return True

    def _prepare(self, after_seq: int, before_seq: int | None, backlog: bool) -> _Payload | None:
        """The whole blocks after `after_seq` as one protected envelope (runs in a worker thread)."""
        cfg = self._config
        limit = cfg.batch_max_readings
        envelope: Envelope | ColumnEnvelope
        if cfg.mqtt.envelope_version == 1:
            batches = self._spool.batches(after_seq=after_seq, limit=limit, before_seq=before_seq)
            if not batches:
                return None
            readings = [r for b in batches for r in b.readings]
            first, last, count = batches[0].seq_first, batches[-1].seq_last, len(readings)
            envelope = Envelope(
                gateway=cfg.gateway_id, seq_first=first, seq_last=last, sent_at=datetime.now(UTC),
                backlog=backlog or _is_old(readings[0].gateway_ts.timestamp()), readings=readings,
            )
        else:
            columns = self._spool.device_readings(after_seq=after_seq, limit=limit, before_seq=before_seq)
            if columns is None:
                return None
            first, last, count = columns.seq_first, columns.seq_last, columns.count
            # checks the gateway and sequence range; pydantic takes the DeviceReadings instances as they are
            envelope = ColumnEnvelope(
                v=COLUMN_ENVELOPE_VERSION, gateway=cfg.gateway_id, seq_first=first, seq_last=last,
                sent_at=datetime.now(UTC), backlog=backlog or _is_old(columns.first_gateway_us / 1e6),
                devices=columns.devices,
            )
        return _Payload(first, last, count, self._protect(encode_envelope(envelope)))


def _is_old(gateway_ts: float) -> bool:
    """A live batch whose first reading was read this long ago is flagged backlog all the same."""
    return time.time() - gateway_ts > _BACKLOG_AGE_S


@dataclass(frozen=True)
class _Payload:
    """One data batch, serialised and ready to publish."""

    seq_first: int
    seq_last: int
    count: int
    payload: bytes
