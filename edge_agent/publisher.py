"""Forward spooled readings over MQTT (QoS 1): a batch leaves the spool only once the broker acknowledges it.

The number of unacknowledged publishes is bounded by `inflight_window`, far
below paho's 65,535 message ids, so no in-flight message can be overwritten.
After every (re)connect the unacknowledged tail is sent again from the spool;
the cloud drops the duplicates by (gateway, sequence).
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
        self._cursor = -1
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
        self._cursor = -1  # resend everything still spooled; duplicates are dropped upstream
        self._connected.set()

    def _acked(self, mid: int) -> None:
        span = self._inflight.pop(mid, None)
        if span is not None:
            self.acknowledged += self._spool.acknowledge(*span)

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
                if not await self._forward_once():
                    await asyncio.sleep(0.05)
        finally:
            self._client.disconnect()
            self._client.loop_stop()

    async def _forward_once(self) -> bool:
        """Publish one batch if the link and window allow; False when there was nothing to do."""
        cfg = self._config
        if not self._connected.is_set() or len(self._inflight) >= cfg.inflight_window:
            return False
        readings = await asyncio.to_thread(self._spool.peek, after_seq=self._cursor, limit=cfg.batch_max_readings)
        if not readings:
            return False
        oldest_age = time.time() - readings[0].gateway_ts.timestamp()
        if len(readings) < cfg.batch_max_readings and oldest_age < cfg.batch_max_wait_s:
            return False
        envelope = Envelope(
            gateway=cfg.gateway_id,
            seq_first=readings[0].seq,
            seq_last=readings[-1].seq,
            sent_at=datetime.now(timezone.utc),
            backlog=oldest_age > _BACKLOG_AGE_S,
            readings=readings,
        )
        info = self._client.publish(data_topic(cfg.mqtt.topic_root, cfg.gateway_id), encode_envelope(envelope), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return False
        self._inflight[info.mid] = (envelope.seq_first, envelope.seq_last)
        self._cursor = envelope.seq_last
        self.published += len(readings)
        return True
