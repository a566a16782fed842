"""``carbonflow simulate`` command: serve simulated devices until SIGINT/SIGTERM, or send a fault.

    carbonflow simulate device --profile NAME (--port N | --rtu) [--host H] [--unit-id U] [--static]
    carbonflow simulate plant --scenario demo|steelworks|PATH [--host H] [--base-port N]
                              [--speed X] [--static] [--start-time HH:MM] [--control-port N]
                              [--state-dir DIR]
    carbonflow simulate fault --control URL --device D --kind K [--point P] [--duration S] [...]
    carbonflow simulate fault --control URL --list | --clear ID

On start one line per device goes to stdout, for a supervisor to read, then
the control endpoint's line if one was asked for:

    device elec-main cf-demo/pm3-meter modbus tcp://127.0.0.1:15020 unit 1
    device boiler-1 cf-demo/boiler-opcua opcua opc.tcp://127.0.0.1:15022/carbonflow/boiler-1
    device pm3-meter cf-demo/pm3-meter modbus rtu:///dev/pts/4 unit 1
    control http://127.0.0.1:15099
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import time
from pathlib import Path
from typing import Any

from device_profiles.errors import ProfileError

from .control import ControlServer
from .counter_state import STATE_DIR_VARIABLE
from .errors import SimulatorError
from .faults import FaultKind
from .plant import Plant, device_scenario
from .scenario import Scenario, load_scenario, scenario_names

__all__ = ["main"]

_log = logging.getLogger("simulators")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``simulate`` with ``argv`` (without the word "simulate"); return the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.command == "device" and (args.port is None) == (not args.rtu):
            parser.error("simulate device needs --port N or --rtu (one of them)")
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code or 0)
    if args.command == "fault":
        return _fault(args)
    _quiet_libraries()
    try:
        scenario = _scenario(args)
        plant = Plant(
            scenario,
            host=args.host,
            base_port=_base_port(args),
            speed=args.speed,
            static=args.static or None,
            start_time=args.start_time,
            rtu=getattr(args, "rtu", False),
            state_dir=getattr(args, "state_dir", None),
        )
    except (ProfileError, SimulatorError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        return asyncio.run(_serve(plant, args.host, args.control_port))
    except SimulatorError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # interrupted before the signal handlers were installed
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carbonflow simulate", description="Simulated field devices."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    device = commands.add_parser("device", help="serve one device profile")
    device.add_argument(
        "--profile",
        required=True,
        help='library name such as "cf-demo/pm3-meter", or a file',
    )
    device.add_argument(
        "--port", type=int, default=None, help="TCP port (0: pick a free one)"
    )
    device.add_argument(
        "--rtu",
        action="store_true",
        help="Modbus RTU on a new pseudo-terminal instead of TCP; prints its path",
    )
    device.add_argument(
        "--unit-id",
        type=int,
        default=None,
        help="Modbus unit id (default: the profile's)",
    )
    device.add_argument(
        "--id",
        dest="device_id",
        default=None,
        help="device id (default: the model name)",
    )
    plant = commands.add_parser("plant", help="serve a scenario's devices with physics")
    plant.add_argument(
        "--scenario",
        default="demo",
        help=f"packaged ({', '.join(scenario_names())}) or a scenario file",
    )
    plant.add_argument(
        "--base-port", type=int, default=None, help="first port (0: free ports)"
    )
    plant.add_argument(
        "--state-dir",
        type=Path,
        default=os.environ.get(STATE_DIR_VARIABLE) or None,
        help=f"keep counter values here across restarts, as real meters do (default: ${STATE_DIR_VARIABLE};"
        " unset: counters start from the scenario's values)",
    )
    for sub in (device, plant):
        sub.add_argument("--host", default="127.0.0.1", help="address to listen on")
        sub.add_argument(
            "--speed",
            type=float,
            default=None,
            help="simulated seconds per real second (60: a day in 24 minutes)",
        )
        sub.add_argument(
            "--static",
            action="store_true",
            help="freeze physics; values change only by writes",
        )
        sub.add_argument(
            "--start-time",
            type=_clock,
            default=None,
            help="simulated time of day at start, HH:MM (default: the scenario's, else now)",
        )
        sub.add_argument(
            "--control-port",
            type=int,
            default=None,
            help="serve the HTTP control endpoint (faults, values) on this port; 0: free port",
        )
    fault = commands.add_parser(
        "fault", help="inject, list or clear faults of a running plant"
    )
    fault.add_argument(
        "--control", required=True, help="control endpoint, e.g. http://127.0.0.1:15099"
    )
    action = fault.add_mutually_exclusive_group(required=True)
    action.add_argument("--kind", choices=[str(kind) for kind in FaultKind])
    action.add_argument("--list", action="store_true", help="print the faults as JSON")
    action.add_argument("--clear", metavar="ID", help="end fault ID now")
    fault.add_argument("--device", help="device id (with --kind)")
    fault.add_argument("--point", help="point to act on (default: every point it fits)")
    fault.add_argument(
        "--duration", type=float, help="simulated seconds (default: until cleared)"
    )
    fault.add_argument(
        "--start", type=float, help="simulated seconds from now (default: 0)"
    )
    fault.add_argument("--delay-ms", type=float, help="slow: answer delay")
    fault.add_argument("--code", type=int, help="exception: Modbus exception code")
    fault.add_argument("--factor", type=float, help="spikes: multiplier")
    fault.add_argument("--probability", type=float, help="spikes: chance per read")
    fault.add_argument(
        "--margin", type=float, help="rollover: distance below the rollover"
    )
    fault.add_argument(
        "--offset-s", type=float, help="clock_drift: seconds added to timestamps"
    )
    fault.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="POINT=VALUE",
        help="calibration: reference-gas reading (repeatable)",
    )
    return parser


def _clock(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a time of day like 06:00: {text!r}"
        ) from None


def _scenario(args: argparse.Namespace) -> Scenario:
    if args.command == "plant":
        return load_scenario(args.scenario)
    return device_scenario(
        args.profile,
        port=args.port or 0,
        device_id=args.device_id,
        unit_id=args.unit_id,
        static=args.static,
    )


def _base_port(args: argparse.Namespace) -> int | None:
    return (args.port or 0) if args.command == "device" else args.base_port


async def _serve(plant: Plant, host: str, control_port: int | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    control = (
        None
        if control_port is None
        else ControlServer(plant, host=host, port=control_port)
    )
    try:
        for endpoint in await plant.start():
            print(endpoint.line(), flush=True)
        if control is not None:
            await control.start()
            print(f"control {control.url}", flush=True)
        await stop.wait()
    finally:
        if control is not None:
            await control.stop()
        await plant.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return 0


def _fault(args: argparse.Namespace) -> int:
    base = args.control.rstrip("/")
    if args.list:
        return _call("GET", f"{base}/faults", None)
    if args.clear:
        return _call("DELETE", f"{base}/faults/{args.clear}", None)
    if not args.device:
        print("simulate fault --kind needs --device", file=sys.stderr)
        return 2
    body: dict[str, Any] = {"device": args.device, "kind": args.kind}
    options = {
        "point": args.point,
        "duration_s": args.duration,
        "start_s": args.start,
        "delay_ms": args.delay_ms,
        "code": args.code,
        "factor": args.factor,
        "probability": args.probability,
        "margin": args.margin,
        "offset_s": args.offset_s,
    }
    body |= {key: value for key, value in options.items() if value is not None}
    if args.reference:
        try:
            body["reference"] = {
                name: float(value)
                for name, value in (item.split("=", 1) for item in args.reference)
            }
        except ValueError:
            print(
                f"--reference needs POINT=NUMBER, got {args.reference}", file=sys.stderr
            )
            return 2
    return _call("POST", f"{base}/faults", body)


def _call(method: str, url: str, body: Any) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print(response.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode()
        try:
            detail = json.loads(detail)["error"]
        except (ValueError, KeyError, TypeError):
            pass
        print(f"{method} {url}: {exc.code} {detail}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{method} {url}: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return 1


def _quiet_libraries() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.WARNING,
            stream=sys.stderr,
            format="%(levelname)s %(name)s: %(message)s",
        )
    # Library chatter (per-connection notes, tracebacks we already report) is not for the operator.
    logging.getLogger("pymodbus").setLevel(logging.ERROR)
    logging.getLogger("asyncua").setLevel(logging.CRITICAL)
