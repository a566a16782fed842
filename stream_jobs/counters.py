"""Counter readings -> interval deltas: the rules live in `carbon_domain.counters`, shared with the API."""

from carbon_domain.counters import NOTES, CounterState, Delta, counter_delta

__all__ = ["NOTES", "CounterState", "Delta", "counter_delta"]
