"""Load device profiles from the packaged library or from YAML files.

>>> load_profile("cf-demo/pm3-meter").protocol
<Protocol.MODBUS: 'modbus'>
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import ProfileError
from .schema import DeviceProfile

__all__ = ["ProfileError", "library_names", "load_profile", "parse_profile"]

_LIBRARY_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*$")
_SUFFIXES = (".yaml", ".yml")


def load_profile(name_or_path: str | Path) -> DeviceProfile:
    """Load a library profile ("vendor/model") or a profile file path."""
    text = str(name_or_path)
    if (
        isinstance(name_or_path, Path)
        or text.endswith(_SUFFIXES)
        or not _LIBRARY_NAME.match(text)
    ):
        path = Path(name_or_path)
        try:
            content = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ProfileError(
                str(path), [f"cannot read profile: {exc.strerror or exc}"]
            ) from exc
        return parse_profile(content, source=str(path))
    resource = _library_file(text)
    if resource is None:
        known = ", ".join(library_names()) or "none"
        raise ProfileError(text, [f"no library profile {text!r}; known: {known}"])
    source = str(resource)
    profile = parse_profile(resource.read_text(encoding="utf-8"), source=source)
    if profile.name != text:
        raise ProfileError(
            source, [f"name {profile.name!r} does not match library path {text}"]
        )
    return profile


def parse_profile(content: str, *, source: str = "<string>") -> DeviceProfile:
    """Validate YAML text as a profile; ``source`` names it in errors."""
    try:
        data = yaml.load(content, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise ProfileError(source, [_yaml_problem(exc)]) from exc
    if not isinstance(data, dict):
        raise ProfileError(
            source, [f"a profile is a mapping, got {type(data).__name__}"]
        )
    try:
        return DeviceProfile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(source, _describe(exc, data)) from exc


def library_names() -> list[str]:
    """Names ("vendor/model") of every packaged profile, sorted."""
    root = _library_root()
    names = [
        f"{vendor.name}/{item.name.rsplit('.', 1)[0]}"
        for vendor in root.iterdir()
        if vendor.is_dir()
        for item in vendor.iterdir()
        if item.is_file() and item.name.endswith(_SUFFIXES)
    ]
    return sorted(names)


def _library_root() -> Traversable:
    return resources.files("device_profiles") / "library"


def _library_file(name: str) -> Traversable | None:
    vendor, model = name.split("/")
    for suffix in _SUFFIXES:
        candidate = _library_root() / vendor / f"{model}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is None or problem is None:
        return f"not valid YAML: {exc}"
    return (
        f"not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    )


def _describe(exc: ValidationError, data: dict[str, Any]) -> list[str]:
    raw_points = data.get("points")
    points: list[Any] = raw_points if isinstance(raw_points, list) else []
    messages = []
    for error in exc.errors():
        loc = list(error["loc"])
        where = ".".join(str(part) for part in loc) or "profile"
        if len(loc) >= 2 and loc[0] == "points" and isinstance(loc[1], int):
            name = _point_name(points, loc[1])
            rest = ".".join(str(part) for part in loc[2:])
            where = (
                f"points[{loc[1]}]"
                + (f" {name}" if name else "")
                + (f".{rest}" if rest else "")
            )
        message = error["msg"].removeprefix("Value error, ")
        messages.append(f"{where}: {message}")
    return messages


def _point_name(points: list[Any], index: int) -> str | None:
    if index < len(points) and isinstance(points[index], dict):
        name = points[index].get("name")
        return name if isinstance(name, str) else None
    return None


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys instead of keeping the last."""

    def construct_mapping(
        self, node: yaml.MappingNode, deep: bool = False
    ) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)
