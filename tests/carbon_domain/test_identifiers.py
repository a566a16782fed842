"""One identifier pattern for gateway, device and point ids, and reasons cleaned to what the wire accepts."""

from __future__ import annotations

import pytest

from carbon_domain.schemas import MAX_REASON, clean_reason, is_identifier


@pytest.mark.parametrize(("text", "valid"), [
    ("gw-01", True), ("meter_3.kwh", True), ("A" * 128, True), ("0", True),
    ("", False), ("A" * 129, False), ("kw\n", False), ("bad\x00point", False), ("a b", False), ("a/b", False),
    ("电表", False), ("x\ud800", False), ("kw\t", False),
])
def test_an_identifier_is_1_to_128_letters_digits_underscores_dots_or_dashes(text: str, valid: bool) -> None:
    assert is_identifier(text) is valid


@pytest.mark.parametrize(("raw", "cleaned"), [
    ("timeout", "timeout"),
    ("line 1\nline 2\ttabbed", "line 1\nline 2\ttabbed"),
    ("nul\x00 and bell\x07\x07 and esc\x1b[0m", "nul  and bell  and esc [0m"),
    ("half\ud800pair", "half?pair"),
    ("x" * 500, "x" * (MAX_REASON - 3) + "..."),
])
def test_clean_reason_keeps_text_and_drops_what_the_wire_refuses(raw: str, cleaned: str) -> None:
    assert clean_reason(raw) == cleaned
