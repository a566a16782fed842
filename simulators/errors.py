"""Errors raised by simulators.

    SimulatorError      base class
    ├── ScenarioError   a scenario file is missing or invalid; lists every problem
    └── ServeError      a server could not start (port in use, unit id clash)

Writing a value a point cannot hold raises `carbon_domain.registers.RegisterCodecError`;
naming a point the device lacks raises `KeyError`.
"""

from __future__ import annotations

__all__ = ["ScenarioError", "ServeError", "SimulatorError"]


class SimulatorError(Exception):
    """Base class of simulator errors."""


class ScenarioError(SimulatorError):
    """A scenario that cannot be loaded, with every problem found."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = list(errors)
        count = len(self.errors)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  {error}" for error in self.errors)
        super().__init__(f"{source}: {count} {noun}\n{lines}")


class ServeError(SimulatorError):
    """A simulated device could not be served."""
