"""The web app's messages: Chinese and English have the same keys, and every key the code names exists in both as a
text, so no raw key ever reaches the screen. The message files are read by Node (they are ES modules)."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from api.auth.access import PERMISSIONS
from carbonflow import webbuild

SRC = webbuild.WEB / "src"
_DUMP = ("import en from './src/locales/en/index.js'; import zh from './src/locales/zh-CN/index.js';"
         " console.log(JSON.stringify({en, zh}));")


@pytest.fixture(scope="module")
def messages() -> dict[str, dict[str, Any]]:
    try:
        node = webbuild.find_node()
    except webbuild.NodeMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    run = subprocess.run([str(node.node), "--input-type=module", "-e", _DUMP], cwd=webbuild.WEB, capture_output=True,
                         text=True, timeout=60, check=True)
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out.update(_flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return out


def _code() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(SRC.rglob("*")) if p.suffix in (".vue", ".js")
                     and "locales" not in p.parts)


def test_chinese_and_english_have_the_same_keys(messages: dict[str, dict[str, Any]]) -> None:
    zh, en = _flat(messages["zh"]), _flat(messages["en"])
    assert (sorted(set(zh) - set(en)), sorted(set(en) - set(zh))) == ([], [])


def test_every_key_the_code_names_is_a_text_in_both_languages(messages: dict[str, dict[str, Any]]) -> None:
    code = _code()
    literal = set(re.findall(r"""\bt\(["']([\w.]+)["']""", code))
    # t(`series.interval.${i}`): the part before the first ${ must be a group of texts
    groups = {g.rstrip(".") for g in re.findall(r"\bt\(`([\w.]+)\$\{", code)}
    missing = [(lang, key) for lang, tree in messages.items() for key in sorted(literal)
               if not isinstance(_flat(tree).get(key), str)]
    not_groups = [(lang, group) for lang, tree in messages.items() for group in sorted(groups)
                  if not isinstance(_lookup(tree, group), dict)]
    assert (len(literal) > 100, missing, not_groups) == (True, [], [])


def _lookup(tree: dict[str, Any], key: str) -> Any:
    for part in key.split("."):
        tree = tree.get(part) if isinstance(tree, dict) else None  # type: ignore[assignment]
    return tree


@pytest.mark.parametrize("group, values", [
    ("role", ["government", "enterprise", "auditor", "technician", "admin"]),
    ("kind", ["gauge", "counter"]),
    ("term", ["power_plant", "site", "steelmaking", "rolling", "sintering", "ironmaking", "electricity", "natural_gas"]),
    ("status", ["online", "stale", "offline", "never"]),
    ("quality", ["good", "uncertain", "bad"]),
])
def test_values_from_the_api_have_words_in_both_languages(messages: dict[str, dict[str, Any]], group: str,
                                                          values: list[str]) -> None:
    words = {lang: [_lookup(tree, f"{group}.{v}") for v in values] for lang, tree in messages.items()}
    assert [(lang, v) for lang, found in words.items() for v, w in zip(values, found, strict=True)
            if not isinstance(w, str) or w == v] == []


def test_each_area_file_owns_its_top_level_keys() -> None:
    """locales/<lang>/index.js merges one file per area; two files sharing a top-level key would silently lose texts."""
    try:
        node = webbuild.find_node()
    except webbuild.NodeMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    files = {lang: sorted(p.name for p in (SRC / "locales" / lang).glob("*.js") if p.name != "index.js")
             for lang in ("en", "zh-CN")}
    script = "const out = {};" + "".join(
        f"out[{json.dumps(lang + '/' + name)}] = Object.keys((await import('./src/locales/{lang}/{name}')).default);"
        for lang, names in files.items() for name in names) + "console.log(JSON.stringify(out));"
    run = subprocess.run([str(node.node), "--input-type=module", "-e", script], cwd=webbuild.WEB, capture_output=True,
                         text=True, timeout=60, check=True)
    keys: dict[str, list[str]] = json.loads(run.stdout)
    owners: dict[str, list[str]] = {}
    for file, top in keys.items():
        for key in top:
            owners.setdefault(f"{file.split('/')[0]}:{key}", []).append(file)
    assert (files["en"] == files["zh-CN"], {k: v for k, v in owners.items() if len(v) > 1}) == (True, {})


def test_every_permission_has_words_in_both_languages(messages: dict[str, dict[str, Any]]) -> None:
    """The tokens page names each permission a token may carry."""
    missing = [(lang, p) for lang, tree in messages.items() for p in PERMISSIONS
               if not isinstance(_lookup(tree, f"permission.{p}"), str)]
    assert missing == []
