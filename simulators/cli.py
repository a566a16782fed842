"""``carbonflow simulate`` command: serve simulated devices until SIGINT/SIGTERM.

    carbonflow simulate device --profile NAME --port N [--host H] [--unit-id U] [--static]
    carbonflow simulate plant --scenario demo|PATH [--host H] [--base-port N] [--speed X] [--static]

On start one line per device goes to stdout, for a supervisor to read:

    device elec-main cf-demo/pm3-meter modbus tcp://127.0.0.1:15020 unit 1
    device boiler-1 cf-demo/boiler-opcua opcua opc.tcp://127.0.0.1:15022/carbonflow/boiler-1
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from device_profiles.errors import ProfileError

from .errors import SimulatorError
from .plant import Plant, device_scenario
from .scenario import Scenario, load_scenario

__all__ = ["main"]

_log = logging.getLogger("simulators")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``simulate`` with ``argv`` (without the word "simulate"); return the exit code."""
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code or 0)
    _quiet_libraries()
    try:
        scenario = _scenario(args)
        plant = Plant(
            scenario,
            host=args.host,
            base_port=_base_port(args),
            speed=args.speed,
            static=args.static or None,
        )
    except (ProfileError, SimulatorError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        return asyncio.run(_serve(plant))
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
        "--port", type=int, required=True, help="TCP port (0: pick a free one)"
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
    plant.add_argument("--scenario", default="demo", help='"demo" or a scenario file')
    plant.add_argument(
        "--base-port", type=int, default=None, help="first port (0: free ports)"
    )
    for sub in (device, plant):
        sub.add_argument("--host", default="127.0.0.1", help="address to listen on")
        sub.add_argument(
            "--speed",
            type=float,
            default=None,
            help="simulated seconds per real second",
        )
        sub.add_argument(
            "--static",
            action="store_true",
            help="freeze physics; values change only by writes",
        )
    return parser


def _scenario(args: argparse.Namespace) -> Scenario:
    if args.command == "plant":
        return load_scenario(args.scenario)
    return device_scenario(
        args.profile,
        port=args.port,
        device_id=args.device_id,
        unit_id=args.unit_id,
        static=args.static,
    )


def _base_port(args: argparse.Namespace) -> int | None:
    return args.port if args.command == "device" else args.base_port


async def _serve(plant: Plant) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        for endpoint in await plant.start():
            print(endpoint.line(), flush=True)
        await stop.wait()
    finally:
        await plant.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return 0


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
