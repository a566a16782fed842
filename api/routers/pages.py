"""The browser dashboards: the page at /, its ES modules, styles and vendored chart library under /static/.

Files are read from ``api/static`` at request time, so ``make web`` can vendor
ECharts while the API runs; only known file types are served, and every
answer carries the page's security headers (no script but our own).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)

# the page keeps a bearer token in sessionStorage: allow no script but our own, and no framing
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
                               " img-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'none';"
                               " form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
          ".json": "application/json", ".ico": "image/x-icon"}


def _root() -> Path:
    return Path(str(resources.files("api").joinpath("static"))).resolve()


def _file(relative: str) -> FileResponse:
    root = _root()
    # a name no file can have (a NUL byte, an over-long or undecodable name) is a file that is not there
    try:
        path = (root / relative).resolve()
        found = path.suffix in _TYPES and path.is_relative_to(root) and path.is_file()
    except (ValueError, OSError):
        found = False
    if not found:
        raise HTTPException(404, "no such file")
    media_type = _TYPES[path.suffix]
    return FileResponse(path, media_type=media_type, headers=PAGE_HEADERS)


@router.get("/", response_class=HTMLResponse)
async def index() -> FileResponse:
    return _file("index.html")


@router.get("/app.js")
async def app_js() -> FileResponse:
    return _file("app.js")


@router.get("/static/{relative:path}")
async def static(relative: str) -> FileResponse:
    return _file(relative)
