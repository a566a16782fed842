"""The edge agent process: pollers fill the spool, the publisher drains it."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Any

from edge_agent.config import AgentConfig, load_agent_config
from edge_agent.publisher import Publisher
from edge_agent.sources import Poller, make_poller
from edge_agent.spool import Spool

__all__ = ["EdgeAgent", "run_agent"]

log = logging.getLogger("edge_agent")


class EdgeAgent:
    """Wires pollers, spool and publisher of one gateway."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.spool = Spool(config.spool_path, max_bytes=config.spool_max_bytes)
        self.publisher = Publisher(config, self.spool)
        self.pollers: list[Poller] = [make_poller(d) for d in config.devices]
        self.stop = asyncio.Event()

    async def _emit(self, drafts: list[dict[str, Any]]) -> None:
        if drafts:
            self.spool.stage(drafts)

    async def _flush_loop(self) -> None:
        """Group commit: staged readings become durable blocks every flush interval."""
        interval = self.config.flush_interval_s
        while not self.stop.is_set():
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass
            if await asyncio.to_thread(self.spool.flush):
                self.publisher.wake()

    async def run(self) -> None:
        tasks = [asyncio.create_task(p.run(self._emit, self.stop), name=f"poll-{p.device_id}") for p in self.pollers]
        tasks.append(asyncio.create_task(self._flush_loop(), name="flush"))
        tasks.append(asyncio.create_task(self.publisher.run(self.stop), name="publisher"))
        tasks.append(asyncio.create_task(self._report(), name="report"))
        try:
            await self.stop.wait()
        finally:
            await asyncio.wait(tasks, timeout=5)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.spool.flush()
            self.spool.close()

    async def _report(self) -> None:
        while not self.stop.is_set():
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=30)
            except asyncio.TimeoutError:
                s = self.spool.stats()
                log.info(
                    "spool depth=%d bytes=%d next_seq=%d dropped=%d published=%d acked=%d connected=%s",
                    s.depth, s.bytes, s.next_seq, s.dropped, self.publisher.published,
                    self.publisher.acknowledged, self.publisher.connected,
                )


def run_agent(config_path: Path) -> int:
    """Run until SIGINT/SIGTERM; exit code 0 on a clean stop."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("asyncua", "pymodbus"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    config = load_agent_config(config_path)

    async def main() -> None:
        agent = EdgeAgent(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, agent.stop.set)
        log.info("gateway %s: %d devices, spool %s", config.gateway_id, len(config.devices), config.spool_path)
        await agent.run()

    asyncio.run(main())
    return 0
