"""A small arithmetic expression language for formulas an administrator configures (the 碳效码 neutrality
identifier): numbers, named variables, + - * /, unary minus, parentheses, min() and max(). Nothing else is
accepted: no attribute access, no other calls, no comparisons, so a stored formula can never run code.

An expression is parsed once (`compile_expression`) into a tree of closures and then evaluated per unit.

>>> f = compile_expression("(avoided + sinks) / energy", allowed={"avoided", "sinks", "energy"})
>>> f({"avoided": 20.0, "sinks": 5.0, "energy": 100.0})
0.25
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Collection, Mapping

from carbon_domain.errors import ExpressionError

__all__ = ["CompiledExpression", "compile_expression"]

_MAX_LENGTH = 500
_FUNCTIONS: dict[str, Callable[..., float]] = {"min": min, "max": max}
_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}

_Node = Callable[[Mapping[str, float]], float]


class CompiledExpression:
    """A parsed expression: call it with the variables' values; it names the variables it reads."""

    __slots__ = ("source", "variables", "_root")

    def __init__(self, source: str, variables: frozenset[str], root: _Node) -> None:
        self.source = source
        self.variables = variables
        self._root = root

    def __call__(self, values: Mapping[str, float]) -> float:
        """The expression's value; ZeroDivisionError when it divides by zero for these values."""
        result = self._root(values)
        if not math.isfinite(result):
            raise ZeroDivisionError(f"{self.source!r} is not finite ({result}) for these values")
        return result

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"


def compile_expression(source: str, *, allowed: Collection[str]) -> CompiledExpression:
    """Parse `source`; ExpressionError naming the first construct or name that is not allowed."""
    if len(source) > _MAX_LENGTH:
        raise ExpressionError(f"formula is {len(source)} characters long; at most {_MAX_LENGTH} are accepted")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"formula {source!r} is not an expression: {exc.msg} at column {exc.offset}") from exc
    names: set[str] = set()
    root = _compile(tree.body, frozenset(allowed), names, source)
    return CompiledExpression(source.strip(), frozenset(names), root)


def _compile(node: ast.expr, allowed: frozenset[str], names: set[str], source: str) -> _Node:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ExpressionError(f"formula {source!r}: {node.value!r} is not a number")
        constant = float(node.value)
        return lambda values: constant
    if isinstance(node, ast.Name):
        if node.id not in allowed:
            raise ExpressionError(f"formula {source!r}: unknown variable {node.id!r}; "
                                  f"known: {', '.join(sorted(allowed))}")
        names.add(node.id)
        name = node.id
        return lambda values: values[name]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        operation = _BINARY[type(node.op)]
        left, right = _compile(node.left, allowed, names, source), _compile(node.right, allowed, names, source)
        return lambda values: operation(left(values), right(values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _compile(node.operand, allowed, names, source)
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        return lambda values: sign * operand(values)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
        if node.keywords or len(node.args) < 2:
            raise ExpressionError(f"formula {source!r}: {node.func.id}() takes two or more plain arguments")
        function = _FUNCTIONS[node.func.id]
        arguments = [_compile(arg, allowed, names, source) for arg in node.args]
        return lambda values: float(function(*(argument(values) for argument in arguments)))
    shown = ast.get_source_segment(source.strip(), node) or type(node).__name__
    raise ExpressionError(f"formula {source!r}: {shown!r} is not allowed; use numbers, variables, + - * /, "
                          "parentheses, min() and max()")
