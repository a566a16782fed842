"""`carbonflow demo`: the whole pipeline on one machine, on embedded defaults."""

from carbonflow.demo.run import run_demo

__all__ = ["run_demo"]
