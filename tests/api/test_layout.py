"""The API is laid out by service (docs/services.md): each service is a folder `api/<service>/`, and its
operations carry one OpenAPI tag, the folder's name, so the reference groups them as the code does."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute

from api.main import create_app

# every package under api/ is a service folder; api/routers/ holds the shell's own routes (pages, health)
SERVICES = tuple(sorted(p.parent.name for p in (Path(__file__).resolve().parents[2] / "api").glob("*/__init__.py")
                        if p.parent.name != "routers"))


def _api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router, resolved lazily by newer FastAPI
            yield from _api_routes(route.original_router.routes)


def _operations() -> list[tuple[str, str, str, list[str]]]:
    """(method, path, module of the endpoint, tags in the OpenAPI document) of every operation."""
    app = create_app("postgresql://unused")  # the database is first reached at start-up, which this never runs
    modules = {(method, "/api/v1" + route.path if not route.path.startswith("/api/") else route.path):
               route.endpoint.__module__ for route in _api_routes(app.routes) for method in route.methods}
    document = app.openapi()
    return [(method.upper(), path, modules[(method.upper(), path)], operation.get("tags", []))
            for path, operations in document["paths"].items() for method, operation in operations.items()]


def test_every_operation_of_a_service_is_tagged_with_its_folder_name() -> None:
    operations = _operations()
    mistagged = sorted((method, path, module, tags) for method, path, module, tags in operations
                       if module.split(".")[1] in SERVICES and tags != [module.split(".")[1]])
    assert len(operations) > 50  # the walk found the routes
    assert not mistagged, f"operations whose tag is not their service folder's name: {mistagged}"


def test_every_api_route_lives_in_a_service_folder_or_the_shell() -> None:
    elsewhere = sorted((path, module) for _, path, module, _ in _operations()
                       if module.split(".")[1] not in (*SERVICES, "routers"))
    assert not elsewhere, f"routes outside api/<service>/ and the shell's api/routers/: {elsewhere}"
