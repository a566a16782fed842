"""The edge agent process: pollers fill the spool, the publisher drains it.

SIGHUP re-reads the configuration file. A new configuration is validated and
everything it needs (pollers, MQTT client, metrics listener, keys) is built
before anything changes; only then is it swapped in at once. If any of that
fails the running configuration stays as it was. The spool is never touched:
`gateway_id`, `spool_path` and `spool_max_bytes` need a restart.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from carbon_domain.protection import Protector
from edge_agent.clock import ClockSource, ClockState, make_clock
from edge_agent.config import AgentConfig, DeviceEndpoint, load_agent_config
from edge_agent.errors import ConfigError, EdgeError, ReloadError
from edge_agent.key_files import load_protector
from edge_agent.lockfile import SpoolLock
from edge_agent.metrics import MetricsServer, PollStats, RateMeter, histogram_family
from edge_agent.polled import PolledReadings
from edge_agent.publisher import Publisher
from edge_agent.sources import Poller, make_poller
from edge_agent.spool import Spool

__all__ = ["CLOCK_REASON", "EdgeAgent", "run_agent"]

log = logging.getLogger("edge_agent")

CLOCK_REASON = "clock unsynchronised"
_RESTART_ONLY = ("gateway_id", "spool_path", "spool_max_bytes")
_LINK_FIELDS = ("mqtt", "inflight_window", "batch_max_readings", "payload_protection", "status_interval_s")
_SECRET_FIELDS = {"password"}
_STOP_GRACE_S = 5.0
_REPORT_EVERY_S = 30.0
_GIL_SWITCH_S = 0.001


def _mark_unsynchronised(draft: dict[str, Any]) -> dict[str, Any]:
    """A reading taken while the clock is unsynchronised: its time stamps cannot be trusted."""
    quality = draft.get("quality", "good")
    if quality == "bad":
        return draft
    reason = draft.get("reason")
    reason = CLOCK_REASON if not reason else f"{reason}; {CLOCK_REASON}"[:200]
    return {**draft, "quality": "uncertain", "reason": reason}


def _build_protector(config: AgentConfig) -> Protector | None:
    p = config.payload_protection
    return None if p is None else load_protector(p.sign, p.encrypt, p.key_file)


def _field_changes(prefix: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_field_changes(f"{prefix}{key}.", a, b))
        elif key in _SECRET_FIELDS:
            out.append(f"{prefix}{key} changed")
        else:
            out.append(f"{prefix}{key} {a!r} -> {b!r}")
    return out


@dataclass
class _ReloadPlan:
    new: AgentConfig
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    relink: bool = False
    remetric: bool = False
    reclock: bool = False
    changes: list[str] = field(default_factory=list)


@dataclass
class _Built:
    pollers: dict[str, Poller]
    protector: Protector | None
    publisher: Publisher | None
    metrics: MetricsServer | None
    clock: ClockSource | None


class EdgeAgent:
    """Wires pollers, spool and publisher of one gateway.

    `clock` replaces the clock source `clock_check` would build (tests pass a
    FakeClock); `config_path` is the file SIGHUP re-reads.
    """

    def __init__(
        self, config: AgentConfig, *, config_path: Path | None = None, clock: ClockSource | None = None
    ) -> None:
        self.config = config
        self.config_path = config_path
        self._clock_override = clock
        self.clock: ClockSource | None = clock if clock is not None else (
            make_clock(config.clock_check) if config.clock_check else None
        )
        self.clock_state: ClockState | None = None
        self.poll_stats: dict[str, PollStats] = {}
        self.pollers: dict[str, Poller] = {d.id: self._make_poller(d) for d in config.devices}
        self.protector = _build_protector(config)
        self._lock = SpoolLock(config.spool_path)
        try:
            self.spool = Spool(config.spool_path, max_bytes=config.spool_max_bytes)
            try:
                self.publisher = Publisher(config, self.spool, self.protector)
            except BaseException:
                self.spool.close()
                raise
        except BaseException:
            self._lock.release()
            raise
        self.stop = asyncio.Event()
        self.metrics_server: MetricsServer | None = None
        self.reloads = {"applied": 0, "rejected": 0}
        self.started_at = time.time()
        self._rate = RateMeter()
        self._retired_link = {"published": 0, "acknowledged": 0, "connections": 0, "publish_errors": 0}
        self._poller_tasks: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self._publisher_task: tuple[asyncio.Task[None], asyncio.Event] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._reload_lock = asyncio.Lock()

    def _make_poller(self, endpoint: DeviceEndpoint) -> Poller:
        stats = self.poll_stats.get(endpoint.id) or PollStats()
        poller = make_poller(endpoint, stats)
        self.poll_stats.setdefault(endpoint.id, stats)
        return poller

    # readings -------------------------------------------------------------------------------
    async def _emit(self, drafts: PolledReadings | list[dict[str, Any]]) -> None:
        if not drafts:
            return
        if self.clock_state is not None and self.clock_state.synchronised is False:
            if isinstance(drafts, PolledReadings):
                drafts.mark_uncertain(CLOCK_REASON)
            else:
                drafts = [_mark_unsynchronised(d) for d in drafts]
        self.spool.stage(drafts)

    def check_clock(self) -> ClockState | None:
        """Ask the clock source now; logs when the state changes."""
        if self.clock is None:
            self.clock_state = None
            return None
        state = self.clock.check()
        before = self.clock_state
        if before is None or before.synchronised != state.synchronised:
            if state.synchronised is False:
                log.warning("gateway clock unsynchronised (%s): readings are marked uncertain", state.detail)
            elif state.synchronised and before is not None:
                log.info("gateway clock synchronised again (%s)", state.detail)
            elif state.synchronised is None:
                log.warning("gateway clock state unknown: %s", state.detail)
        self.clock_state = state
        return state

    async def _flush_loop(self) -> None:
        """Group commit: staged readings become durable blocks every flush interval."""
        while not self.stop.is_set():
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=self.config.flush_interval_s)
            except TimeoutError:
                pass
            if await asyncio.to_thread(self.spool.flush):
                self.publisher.wake()

    async def _housekeeping(self) -> None:
        """Once a second: publish rate; every clock interval: clock check; every 30 s: a log line."""
        next_report = time.monotonic() + _REPORT_EVERY_S
        next_clock = time.monotonic()
        while not self.stop.is_set():
            tick = min(1.0, self.config.clock_check.interval_s) if self.config.clock_check else 1.0
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=tick)
            except TimeoutError:
                pass
            now = time.monotonic()
            self._rate.update(self.link_totals()["acknowledged"])
            if self.config.clock_check is not None and now >= next_clock:
                self.check_clock()
                next_clock = now + self.config.clock_check.interval_s
            if now >= next_report:
                next_report = now + _REPORT_EVERY_S
                s = await asyncio.to_thread(self.spool.stats)
                totals = self.link_totals()
                log.info(
                    "spool depth=%d bytes=%d next_seq=%d dropped=%d published=%d acked=%d connected=%s",
                    s.depth, s.bytes, s.next_seq, s.dropped, totals["published"], totals["acknowledged"],
                    self.publisher.connected,
                )

    # tasks ----------------------------------------------------------------------------------
    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s failed", task.get_name(), exc_info=task.exception())

    def _start_poller(self, device_id: str, poller: Poller) -> None:
        stop = asyncio.Event()
        self._poller_tasks[device_id] = (self._spawn(poller.run(self._emit, stop), f"poll-{device_id}"), stop)

    def _start_publisher(self) -> None:
        stop = asyncio.Event()
        self._publisher_task = (self._spawn(self.publisher.run(stop), "publisher"), stop)

    @staticmethod
    async def _finish(tasks: list[asyncio.Task[Any]]) -> None:
        """Wait for stopped tasks to end, cancelling stragglers."""
        if not tasks:
            return
        await asyncio.wait(tasks, timeout=_STOP_GRACE_S)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _start_metrics(self, config: AgentConfig) -> MetricsServer | None:
        if config.metrics_port is None:
            return None
        server = MetricsServer(self.collect_metrics, config.metrics_host, config.metrics_port)
        try:
            await server.start()
        except OSError as exc:
            raise EdgeError(f"metrics_port {config.metrics_port}: cannot listen on {config.metrics_host}: {exc}") from exc
        return server

    async def run(self) -> None:
        try:
            if self.clock is not None:
                self.check_clock()
            self.metrics_server = await self._start_metrics(self.config)
            self._lock.describe(gateway=self.config.gateway_id, metrics_port=self.config.metrics_port)
            for device_id, poller in self.pollers.items():
                self._start_poller(device_id, poller)
            self._start_publisher()
            self._spawn(self._flush_loop(), "flush")
            self._spawn(self._housekeeping(), "housekeeping")
            await self.stop.wait()
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        self.stop.set()
        for _, stop in self._poller_tasks.values():
            stop.set()
        if self._publisher_task is not None:
            self._publisher_task[1].set()
        await self._finish(list(self._background))
        if self.metrics_server is not None:
            await self.metrics_server.stop()
            self.metrics_server = None
        self.spool.flush()
        self.spool.close()
        self._lock.release()

    def request_reload(self) -> None:
        """Schedule a reload (the SIGHUP handler)."""
        self._spawn(self.reload(), "reload")

    # reload ---------------------------------------------------------------------------------
    async def reload(self, path: Path | None = None) -> bool:
        """Re-read the configuration and apply it, or keep the running one; True if applied."""
        path = path or self.config_path
        async with self._reload_lock:
            if path is None:
                log.error("reload: the agent was started without a configuration file")
                return False
            try:
                new = load_agent_config(path)
                plan = self._plan(self.config, new)
                built = await self._build(plan)  # also notices rotated keys behind an unchanged config
            except (ConfigError, ReloadError) as exc:
                self.reloads["rejected"] += 1
                log.error("reload rejected, keeping the running configuration: %s", exc)
                return False
            if not plan.changes:
                log.info("reload: %s has no changes", path)
                return True
            retiring = self._apply(plan, built)
            self.reloads["applied"] += 1
            log.info("reload applied: %s", "; ".join(plan.changes))
            await self._retire(*retiring)
            return True

    def _plan(self, old: AgentConfig, new: AgentConfig) -> _ReloadPlan:
        fixed = [f for f in _RESTART_ONLY if getattr(old, f) != getattr(new, f)]
        if fixed:
            raise ReloadError(f"{', '.join(fixed)} cannot change while the agent runs (restart it)")
        plan = _ReloadPlan(new)
        before, after = {d.id: d for d in old.devices}, {d.id: d for d in new.devices}
        plan.added = [i for i in after if i not in before]
        plan.removed = [i for i in before if i not in after]
        plan.replaced = [i for i in after if i in before and before[i] != after[i]]
        if plan.added:
            plan.changes.append(f"devices added: {', '.join(plan.added)}")
        if plan.removed:
            plan.changes.append(f"devices removed: {', '.join(plan.removed)}")
        for i in plan.replaced:
            diff = _field_changes("", before[i].model_dump(mode="json"), after[i].model_dump(mode="json"))
            plan.changes.append(f"device {i} replaced ({', '.join(diff)})")
        old_top = old.model_dump(mode="json", exclude={"devices"})
        new_top = new.model_dump(mode="json", exclude={"devices"})
        plan.changes.extend(_field_changes("", old_top, new_top))
        plan.relink = any(getattr(old, f) != getattr(new, f) for f in _LINK_FIELDS)
        plan.remetric = (old.metrics_port, old.metrics_host) != (new.metrics_port, new.metrics_host)
        plan.reclock = old.clock_check != new.clock_check
        return plan

    async def _build(self, plan: _ReloadPlan) -> _Built:
        """Everything the new configuration needs, built without touching the running agent."""
        new = plan.new
        after = {d.id: d for d in new.devices}
        pollers: dict[str, Poller] = {}
        for device_id in plan.added + plan.replaced:
            try:
                pollers[device_id] = make_poller(after[device_id], self.poll_stats.get(device_id) or PollStats())
            except Exception as exc:  # profile errors, bad files, anything a poller needs
                raise ReloadError(f"device {device_id}: cannot build its poller: {exc}") from exc
        try:
            protector = _build_protector(new)
        except ConfigError as exc:
            raise ReloadError(str(exc)) from exc
        old_fp = self.protector.fingerprint if self.protector else None
        new_fp = protector.fingerprint if protector else None
        if new_fp != old_fp and not plan.relink:
            plan.relink = True
            plan.changes.append("payload protection keys changed")
        publisher = None
        if plan.relink:
            try:
                publisher = Publisher(new, self.spool, protector)
            except Exception as exc:  # certificate files missing or unreadable, bad TLS material
                raise ReloadError(f"mqtt: cannot set up the link: {exc}") from exc
            plan.changes.append("reconnecting the MQTT link")
        clock = self.clock
        if plan.reclock and self._clock_override is None:
            clock = make_clock(new.clock_check) if new.clock_check else None
        metrics = None
        if plan.remetric:  # last: a bound port is the one thing that would need undoing
            try:
                metrics = await self._start_metrics(new)
            except EdgeError as exc:
                raise ReloadError(str(exc)) from exc
        return _Built(pollers, protector, publisher, metrics, clock)

    def _apply(self, plan: _ReloadPlan, built: _Built) -> tuple[list[asyncio.Task[Any]], MetricsServer | None, bool]:
        """Swap the new configuration in; no awaiting here, so nothing sees half of it."""
        self.config = plan.new
        retiring: list[asyncio.Task[Any]] = []
        for device_id in plan.removed + plan.replaced:
            task, stop = self._poller_tasks.pop(device_id)
            stop.set()
            retiring.append(task)
            del self.pollers[device_id]
        for device_id in plan.removed:
            self.poll_stats.pop(device_id, None)
        for device_id, poller in built.pollers.items():
            self.poll_stats[device_id] = poller.stats
            self.pollers[device_id] = poller
            self._start_poller(device_id, poller)
        self.protector = built.protector
        relinked = built.publisher is not None
        if built.publisher is not None:
            for key in self._retired_link:
                self._retired_link[key] += getattr(self.publisher, key)
            if self._publisher_task is not None:
                task, stop = self._publisher_task
                stop.set()
                retiring.append(task)
                self._publisher_task = None
            self.publisher = built.publisher
        old_metrics = None
        if plan.remetric:
            old_metrics, self.metrics_server = self.metrics_server, built.metrics
            self._lock.describe(gateway=self.config.gateway_id, metrics_port=self.config.metrics_port)
        if plan.reclock:
            self.clock = built.clock
            self.clock_state = None
            if self.clock is not None:
                self.check_clock()
        return retiring, old_metrics, relinked

    async def _retire(self, tasks: list[asyncio.Task[Any]], old_metrics: MetricsServer | None, relinked: bool) -> None:
        await self._finish(tasks)  # the old MQTT client is gone before the new one connects with the same id
        if relinked and not self.stop.is_set():
            self._start_publisher()
        if old_metrics is not None:
            await old_metrics.stop()

    # metrics --------------------------------------------------------------------------------
    def link_totals(self) -> dict[str, int]:
        """Publisher counters summed over every MQTT client this agent has had."""
        return {k: v + getattr(self.publisher, k) for k, v in self._retired_link.items()}

    async def collect_metrics(self) -> list[Metric]:
        """Metric families for /metrics (and `carbonflow edge status`)."""
        stats = await asyncio.to_thread(self.spool.stats)
        file_bytes = await asyncio.to_thread(self.spool.file_bytes)
        totals = self.link_totals()
        age = max(0.0, time.time() - stats.oldest_gateway_ts) if stats.oldest_gateway_ts is not None else 0.0
        devices = sorted(self.poll_stats.items())
        errors = CounterMetricFamily("edge_poll_errors_total", "Polls that failed or were refused a block, per device.",
                                     labels=["device"])
        notes = CounterMetricFamily("edge_subscription_values_total", "Values pushed by OPC-UA subscriptions.",
                                    labels=["device"])
        degraded = GaugeMetricFamily("edge_device_degraded", "1 while the device's last poll failed or a block is refused.",
                                     labels=["device"])
        for device_id, s in devices:
            errors.add_metric([device_id], s.errors)
            notes.add_metric([device_id], s.notifications)
            poller = self.pollers.get(device_id)
            degraded.add_metric([device_id], 1 if poller is not None and poller.degraded else 0)
        info = GaugeMetricFamily("edge_agent_info", "Constant 1, labelled with the gateway id.", labels=["gateway"])
        info.add_metric([self.config.gateway_id], 1)
        reloads = CounterMetricFamily("edge_config_reloads_total", "Configuration reloads by result.", labels=["result"])
        reloads.add_metric(["applied"], self.reloads["applied"])
        reloads.add_metric(["rejected"], self.reloads["rejected"])
        families = [
            info,
            GaugeMetricFamily("edge_agent_start_time_seconds", "Unix time the agent started.", value=self.started_at),
            histogram_family("edge_poll_duration_seconds", "Time one poll of a device took.", "device",
                             ((device_id, s.latency) for device_id, s in devices)),
            errors, notes, degraded,
            GaugeMetricFamily("edge_spool_depth_readings", "Readings in the spool not yet acknowledged.",
                              value=stats.depth),
            GaugeMetricFamily("edge_spool_bytes", "Compressed payload bytes in the spool.", value=stats.bytes),
            GaugeMetricFamily("edge_spool_file_bytes", "Bytes the spool occupies on disk (with WAL).", value=file_bytes),
            GaugeMetricFamily("edge_spool_oldest_unsent_age_seconds",
                              "Age of the oldest reading not yet acknowledged (0 when empty).", value=age),
            GaugeMetricFamily("edge_spool_next_seq", "Next sequence number the spool will assign.",
                              value=stats.next_seq),
            GaugeMetricFamily("edge_staged_readings", "Readings polled but not yet committed to the spool.",
                              value=stats.staged),
            CounterMetricFamily("edge_dropped_readings_total",
                                "Readings dropped because the spool was full (over the spool's life).",
                                value=stats.dropped),
            CounterMetricFamily("edge_published_readings_total", "Readings sent to the broker (resends included).",
                                value=totals["published"]),
            CounterMetricFamily("edge_acknowledged_readings_total", "Readings the broker acknowledged.",
                                value=totals["acknowledged"]),
            GaugeMetricFamily("edge_publish_rate_readings_per_second",
                              "Readings acknowledged per second over the last 10 s.", value=self._rate.rate),
            CounterMetricFamily("edge_publish_errors_total", "Publishes the MQTT client refused.",
                                value=totals["publish_errors"]),
            GaugeMetricFamily("edge_inflight_batches", "Batches sent and not yet acknowledged.",
                              value=self.publisher.inflight),
            CounterMetricFamily("edge_mqtt_reconnects_total", "Connections to the broker after the first.",
                                value=max(0, totals["connections"] - 1)),
            GaugeMetricFamily("edge_mqtt_connected", "1 while connected to the broker.",
                              value=1 if self.publisher.connected else 0),
            reloads,
        ]
        state = self.clock_state
        if state is not None and state.synchronised is not None:
            families.append(GaugeMetricFamily("edge_clock_synchronised", "1 while the gateway clock is synchronised.",
                                              value=1 if state.synchronised else 0))
            if state.max_error_s is not None:
                families.append(GaugeMetricFamily("edge_clock_max_error_seconds",
                                                  "The kernel's bound on the clock offset.", value=state.max_error_s))
        return families


def run_agent(config_path: Path) -> int:
    """Run until SIGINT/SIGTERM, reloading on SIGHUP; exit code 0 on a clean stop."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("asyncua", "pymodbus"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    config = load_agent_config(config_path)
    # Spool and publisher work runs in worker threads; a thread that wants the GIL waits this long
    # before it asks for it (default 5 ms). Shorter, so a Modbus answer is handled, and the next
    # request sent, within about a millisecond even while a batch is being encoded.
    sys.setswitchinterval(_GIL_SWITCH_S)

    async def main() -> None:
        agent = EdgeAgent(config, config_path=config_path)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, agent.stop.set)
        loop.add_signal_handler(signal.SIGHUP, agent.request_reload)
        log.info("gateway %s: %d devices, spool %s", config.gateway_id, len(config.devices), config.spool_path)
        await agent.run()

    asyncio.run(main())
    return 0
