"""A small HTTP control endpoint for a running plant: faults and values, JSON in and out.

    GET    /status                    simulated time, time of day, speed
    GET    /faults                    scheduled and active faults
    POST   /faults                    {"device": "...", "kind": "...", ...} -> 201 the fault
    DELETE /faults/<id>               end a fault now
    GET    /devices                   device ids
    GET    /devices/<id>              served values, model values and active faults
    POST   /devices/<id>/values       {"point": value, ...} -> set model values

Plain HTTP/1.1 on asyncio streams, one request per connection; bind it to
loopback - it has no authentication, like the simulated devices themselves.

>>> async with ControlServer(plant, port=0) as control:     # doctest: +SKIP
...     print(control.url)                                   # http://127.0.0.1:40125
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError

from carbon_domain.registers import RegisterCodecError
from simulators.lifecycle import StartStop

from .errors import ServeError
from .faults import parse_fault
from .plant import Plant

__all__ = ["ControlServer"]

_log = logging.getLogger(__name__)

_MAX_BODY = 64 * 1024
_READ_TIMEOUT_S = 10.0
_FAULT = re.compile(r"^/faults/(?P<id>[A-Za-z0-9_-]+)$")
_DEVICE = re.compile(r"^/devices/(?P<id>[A-Za-z0-9_-]+)$")
_VALUES = re.compile(r"^/devices/(?P<id>[A-Za-z0-9_-]+)/values$")


class _HttpError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class ControlServer(StartStop):
    """Serves the control API of one `Plant`."""

    def __init__(self, plant: Plant, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.plant = plant
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """``http://host:port`` (the bound port once started)."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen; port 0 picks a free port."""
        try:
            self._server = await asyncio.start_server(
                self._connection, self.host, self.port
            )
        except OSError as exc:
            raise ServeError(f"cannot listen on {self.url}: {exc}") from exc
        self.port = self._server.sockets[0].getsockname()[1]
        _log.info("control endpoint on %s", self.url)

    async def stop(self) -> None:
        """Stop listening and finish open requests."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._handlers):
            task.cancel()
        for task in list(self._handlers):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await server.wait_closed()

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            try:
                method, path, body = await asyncio.wait_for(
                    _read_request(reader), _READ_TIMEOUT_S
                )
                status, payload = await self._route(method, path, body)
            except _HttpError as exc:
                status, payload = exc.status, {"error": str(exc)}
            except TimeoutError:
                status, payload = (
                    HTTPStatus.REQUEST_TIMEOUT,
                    {"error": "request too slow"},
                )
            await _respond(writer, status, payload)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            self._handlers.discard(task)

    async def _route(self, method: str, path: str, body: Any) -> tuple[HTTPStatus, Any]:
        plant = self.plant
        if path == "/status" and method == "GET":
            return HTTPStatus.OK, {
                "scenario": plant.scenario.name,
                "time_s": round(plant.time_s, 3),
                "time_of_day": plant.clock(),
                "speed": plant.speed,
                "static": plant.static,
            }
        if path == "/faults":
            if method == "GET":
                return HTTPStatus.OK, {"faults": self._faults()}
            if method == "POST":
                return HTTPStatus.CREATED, await self._add_fault(body)
            raise _HttpError(
                HTTPStatus.METHOD_NOT_ALLOWED, f"{method} {path}: use GET or POST"
            )
        if match := _FAULT.match(path):
            if method != "DELETE":
                raise _HttpError(
                    HTTPStatus.METHOD_NOT_ALLOWED, f"{method} {path}: use DELETE"
                )
            try:
                fault = plant.remove_fault(match["id"])
            except KeyError:
                raise _HttpError(
                    HTTPStatus.NOT_FOUND, f"no fault {match['id']!r}"
                ) from None
            await plant.sync()
            return HTTPStatus.OK, fault.as_dict(plant.time_s)
        if path == "/devices" and method == "GET":
            return HTTPStatus.OK, {"devices": list(plant.devices)}
        if match := _DEVICE.match(path):
            if method != "GET":
                raise _HttpError(
                    HTTPStatus.METHOD_NOT_ALLOWED, f"{method} {path}: use GET"
                )
            return HTTPStatus.OK, self._device(match["id"])
        if match := _VALUES.match(path):
            if method != "POST":
                raise _HttpError(
                    HTTPStatus.METHOD_NOT_ALLOWED, f"{method} {path}: use POST"
                )
            return HTTPStatus.OK, self._set_values(match["id"], body)
        raise _HttpError(HTTPStatus.NOT_FOUND, f"no resource {path}")

    def _faults(self, device_id: str | None = None) -> list[dict[str, Any]]:
        now = self.plant.time_s
        return [fault.as_dict(now) for fault in self.plant.faults.faults(device_id)]

    async def _add_fault(self, body: Any) -> dict[str, Any]:
        try:
            spec = parse_fault(body)
        except ValidationError as exc:
            raise _HttpError(HTTPStatus.BAD_REQUEST, _validation_text(exc)) from exc
        try:
            fault = self.plant.add_fault(spec)
        except ValueError as exc:
            raise _HttpError(HTTPStatus.BAD_REQUEST, str(exc)) from exc
        await self.plant.sync()
        return fault.as_dict(self.plant.time_s)

    def _device(self, device_id: str) -> dict[str, Any]:
        device = self._find(device_id)
        names = device.point_names
        return {
            "id": device.device_id,
            "profile": device.profile.name,
            "protocol": str(device.profile.protocol),
            "process": next(
                (d.process for d in self.plant.scenario.devices if d.id == device_id),
                None,
            ),
            "values": {name: device.served(name) for name in names},
            "model": {name: device.get(name) for name in names},
            "faults": self._faults(device_id),
        }

    def _set_values(self, device_id: str, body: Any) -> dict[str, Any]:
        device = self._find(device_id)
        if not isinstance(body, dict) or not body:
            raise _HttpError(
                HTTPStatus.BAD_REQUEST, 'body must be {"point": value, ...}'
            )
        unknown = [name for name in body if name not in device.point_names]
        if unknown:
            raise _HttpError(
                HTTPStatus.BAD_REQUEST,
                f"device {device_id} has no point {unknown[0]!r}; points: {', '.join(device.point_names)}",
            )
        before = {name: device.get(name) for name in body}
        try:
            for name, value in body.items():
                device.set(name, value)
        except (RegisterCodecError, TypeError) as exc:
            for name, value in before.items():  # all or nothing
                device.set(name, value)
            raise _HttpError(HTTPStatus.BAD_REQUEST, str(exc)) from exc
        return {"id": device_id, "values": {name: device.get(name) for name in body}}

    def _find(self, device_id: str) -> Any:
        device = self.plant.devices.get(device_id)
        if device is None:
            raise _HttpError(HTTPStatus.NOT_FOUND, f"no device {device_id!r}")
        return device


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, Any]:
    line = await reader.readline()
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _HttpError(HTTPStatus.BAD_REQUEST, "not an HTTP/1.x request line")
    method, target = parts[0].upper(), parts[1].split("?", 1)[0].rstrip("/") or "/"
    length = 0
    while True:
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise _HttpError(HTTPStatus.BAD_REQUEST, "bad Content-Length") from None
    if length > _MAX_BODY:
        raise _HttpError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"body of {length} bytes, limit {_MAX_BODY}",
        )
    if method in ("POST", "PUT") and length == 0:
        raise _HttpError(HTTPStatus.BAD_REQUEST, "a JSON body is required")
    body: Any = None
    if length:
        raw = await reader.readexactly(length)
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise _HttpError(
                HTTPStatus.BAD_REQUEST, f"body is not JSON: {exc}"
            ) from exc
    return method, target, body


async def _respond(
    writer: asyncio.StreamWriter, status: HTTPStatus, payload: Any
) -> None:
    body = json.dumps(payload).encode()
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    writer.write(head.encode("latin-1") + body)
    await writer.drain()


def _validation_text(exc: ValidationError) -> str:
    messages = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "body"
        messages.append(f"{where}: {error['msg']}")
    return "; ".join(messages)
