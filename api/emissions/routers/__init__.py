"""The HTTP surface of emissions: emissions, compare, overview."""

__all__: list[str] = []
