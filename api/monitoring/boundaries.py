"""Region boundaries for the monitoring map: GeoJSON files named `<GB/T 2260 code>.geojson`, one feature per
sub-region with its code in `properties.code` (docs/monitoring.md, "Map boundaries").

The folder is $CARBONFLOW_BOUNDARIES_DIR when set (a real boundary file, under its own licence), else the
packaged carbon_domain/data/boundaries/, which holds only a schematic of the synthetic demo prefecture.
"""

from __future__ import annotations

import functools
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["BoundaryMissing", "BoundaryInvalid", "boundary_folder", "load"]

_ENV = "CARBONFLOW_BOUNDARIES_DIR"


class BoundaryMissing(LookupError):
    """No boundary file for the region."""


class BoundaryInvalid(ValueError):
    """A boundary file that is no usable GeoJSON FeatureCollection."""


def boundary_folder() -> Path:
    configured = os.environ.get(_ENV)
    if configured:
        return Path(configured)
    return Path(str(resources.files("carbon_domain").joinpath("data").joinpath("boundaries")))


def load(code: str) -> dict[str, Any]:
    """The FeatureCollection of region `code`'s sub-regions, each feature's properties holding its `code`."""
    path = boundary_folder() / f"{code}.geojson"
    try:
        stat = path.stat()
    except OSError as exc:
        raise BoundaryMissing(f"no boundary file for region {code} at {path}: put a GeoJSON FeatureCollection of "
                              f"its sub-regions there (properties.code = GB/T 2260 code), or set {_ENV}") from exc
    return _read(str(path), stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _read(path: str, _mtime: int) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            doc = json.load(handle)
    except (OSError, ValueError) as exc:
        raise BoundaryInvalid(f"{path} is not readable JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise BoundaryInvalid(f"{path} is no GeoJSON FeatureCollection")
    for number, feature in enumerate(doc["features"], start=1):
        properties = feature.get("properties") or {}
        if not str(properties.get("code", "")).isdigit():
            raise BoundaryInvalid(f"{path}: feature {number} has no properties.code (the GB/T 2260 code)")
        properties["code"] = str(properties["code"])
    doc.setdefault("schematic", False)
    return doc
