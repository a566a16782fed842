"""accounting: GHG accounting. The factor library, inventories, reports (rendered by `render`), product and
process benchmarks and single calculations."""

__all__: list[str] = []
