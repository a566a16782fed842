"""The HTTP surface of the registry: hierarchy, sites, devices, gateways, point_ranges."""

__all__: list[str] = []
