"""The HTTP surface of accounting: factors, inventory, reports, benchmarks, process_benchmarks, calculations."""

__all__: list[str] = []
