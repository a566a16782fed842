"""The configured-formula language: arithmetic over named variables, min() and max(); anything else refused
when the formula is parsed, so a stored formula can never run code."""

from __future__ import annotations

import pytest

from carbon_domain.errors import ExpressionError
from carbon_domain.expressions import compile_expression

VALUES = {"a": 6.0, "b": 2.0, "c": 0.0}


@pytest.mark.parametrize(("source", "expected"), [
    ("a + b * 3", 12.0),
    ("(a + b) * 3", 24.0),
    ("a / b - 1", 2.0),
    ("-a + +b", -4.0),
    ("min(a, b, 5)", 2.0),
    ("max(a - 10, c)", 0.0),
    ("1.5e1 / 3", 5.0),
])
def test_arithmetic_over_variables_is_evaluated(source: str, expected: float) -> None:
    assert compile_expression(source, allowed=VALUES)(VALUES) == expected


@pytest.mark.parametrize(("source", "message"), [
    ("__import__('os').system('true')", "is not allowed"),
    ("a.real", "is not allowed"),
    ("(lambda: 1)()", "is not allowed"),
    ("a if b else c", "is not allowed"),
    ("a > b", "is not allowed"),
    ("a ** 400", "is not allowed"),
    ("[a, b]", "is not allowed"),
    ("'text'", "is not a number"),
    ("True + a", "is not a number"),
    ("min(a)", "two or more plain arguments"),
    ("d + a", "unknown variable 'd'; known: a, b, c"),
    ("a +", "is not an expression"),
    ("a" + " + a" * 200, "at most 500 are accepted"),
])
def test_anything_but_arithmetic_is_refused_when_parsed(source: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_expression(source, allowed=VALUES)


def test_division_by_zero_is_reported_as_such() -> None:
    with pytest.raises(ZeroDivisionError):
        compile_expression("a / c", allowed=VALUES)(VALUES)


def test_the_expression_names_the_variables_it_reads() -> None:
    assert compile_expression("a / max(b, 1)", allowed=VALUES).variables == frozenset({"a", "b"})
