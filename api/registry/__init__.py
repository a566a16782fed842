"""registry: enterprises, sites, devices, gateways and point ranges, and the scope a caller sees of them."""

__all__: list[str] = []
