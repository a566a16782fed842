"""Forward spooled readings over MQTT (QoS 1): a batch leaves the spool only once the broker acknowledges it.

The number of unacknowledged publishes is bounded by `inflight_window`, far
below paho's 65,535 message ids, so no in-flight message can be overwritten.
After every (re)connect the unacknowledged tail is sent again from the spool;
the cloud drops the duplicates by (gateway, sequence). Two lanes share the
window: live batches (flushed since the connection came up) and the backlog
(older), which drains oldest-first in between, flagged `backlog`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt

from carbon_domain.schemas import Envelope
from carbon_domain.wire import encode_envelope
from edge_agent.config import AgentConfig
from edge_agent.spool import Spool

__all__ = ["Publisher", "data_topic", "status_topic"]

log = logging.getLogger("edge_agent.publisher")
_BACKLOG_AGE_S = 10.0


def data_topic(root: str, gateway: str) -> str:
    return f"{root}/{gateway}/data"


def status_topic(root: str, gateway: str) -> str:
    return f"{root}/{gateway}/status"


class Publisher:
    """Owns the MQTT client of one gateway and drains the spool through it."""

    def __init__(self, config: AgentConfig, spool: Spool) -> None:
        self._config = config
        self._spool = spool
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected = asyncio.Event()
        self._inflight: dict[int, tuple[int, int]] = {}
        self._work = asyncio.Event()
        self._boundary = 0
        self._backlog_cursor = -1
        self._live_cursor = -1
        self.published = 0
        self.acknowledged = 0
        self.reconnects = 0
        link = config.mqtt
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
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        status = status_topic(link.topic_root, config.gateway_id)
        self._client.will_set(status, json.dumps({"state": "offline"}), qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    # paho callbacks run on paho's network thread: hand everything to the event loop.
    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object = None) -> None:
        if getattr(rc, "is_failure", False):
            log.warning("broker refused connection: %s", rc)
            return
        client.publish(
            status_topic(self._config.mqtt.topic_root, self._config.gateway_id),
            json.dumps({"state": "online", "at": datetime.now(timezone.utc).isoformat()}),
            qos=1,
            retain=True,
        )
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._mark_connected)

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object = None) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._connected.clear)

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, rc: object = None, props: object = None) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._acked, mid)

    def _mark_connected(self) -> None:
        self.reconnects += 1
        self._inflight.clear()
        # everything durable now is backlog (including batches sent but never acknowledged);
        # what is flushed from here on is live. Duplicates are dropped upstream.
        self._boundary = self._spool.stats().next_seq
        self._backlog_cursor = -1
        self._live_cursor = self._boundary - 1
        self._connected.set()
        self.wake()

    def _acked(self, mid: int) -> None:
        span = self._inflight.pop(mid, None)
        if span is not None:
            self.acknowledged += self._spool.acknowledge(*span)
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

    async def run(self, stop: asyncio.Event) -> None:
        """Connect and forward until `stop` is set."""
        self._loop = asyncio.get_running_loop()
        url = urlsplit(self._config.mqtt.url)
        self._client.connect_async(url.hostname or "127.0.0.1", url.port or 8883, keepalive=15)
        self._client.loop_start()
        try:
            while not stop.is_set():
                sent_live = await self._forward_once(backlog=False)
                sent_backlog = await self._forward_once(backlog=True)
                if not (sent_live or sent_backlog):
                    self._work.clear()
                    try:
                        await asyncio.wait_for(self._work.wait(), timeout=0.5)
                    except asyncio.TimeoutError:
                        pass
        finally:
            self._client.disconnect()
            self._client.loop_stop()

    async def _forward_once(self, *, backlog: bool) -> bool:
        """Publish one batch of one lane if the link and window allow; False when nothing was sent."""
        cfg = self._config
        if not self._connected.is_set() or len(self._inflight) >= cfg.inflight_window:
            return False
        if backlog:
            batches = await asyncio.to_thread(
                self._spool.batches, after_seq=self._backlog_cursor, limit=cfg.batch_max_readings,
                before_seq=self._boundary,
            )
        else:
            batches = await asyncio.to_thread(
                self._spool.batches, after_seq=self._live_cursor, limit=cfg.batch_max_readings
            )
        if not batches or not self._connected.is_set():
            return False
        readings = [r for b in batches for r in b.readings]
        first, last = batches[0].seq_first, batches[-1].seq_last
        envelope = Envelope(
            gateway=cfg.gateway_id,
            seq_first=first,
            seq_last=last,
            sent_at=datetime.now(timezone.utc),
            backlog=backlog or time.time() - readings[0].gateway_ts.timestamp() > _BACKLOG_AGE_S,
            readings=readings,
        )
        info = self._client.publish(data_topic(cfg.mqtt.topic_root, cfg.gateway_id), encode_envelope(envelope), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return False
        self._inflight[info.mid] = (first, last)
        if backlog:
            self._backlog_cursor = last
        else:
            self._live_cursor = last
        self.published += len(readings)
        return True
