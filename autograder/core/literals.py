"""Reading answers and references out of notebooks as Python literals, without running anything.

Answer cells hold assignments like ``answers = {"T1": {"code": "SR", "empathy": 2}}``. This module
finds such assignments with ``ast`` and evaluates only literals (``ast.literal_eval``), so nothing a
trainee wrote is ever executed here.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"


@dataclass(frozen=True)
class Found:
    """A literal found in a notebook (value) or why none could be read (problem)."""

    value: Any = None
    problem: str | None = None
    cell_index: int | None = None


def read_notebook(path: Path | str) -> dict:
    """Load a notebook's JSON; raise ValueError naming the file if it is not a notebook."""
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: cannot be read as a notebook ({err}).") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{path}: not a notebook (no list of cells).")
    return nb


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _last_assigned(source: str, name: str, evaluate: Callable[[ast.expr], Found]) -> Found:
    """``evaluate`` applied to the value of the last top-level ``name = ...`` (or ``name: T = ...``) in a cell;
    or why there is none. Parses only: nothing is executed."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as err:
        where = f"line {err.lineno}: " if getattr(err, "lineno", None) else ""
        return Found(problem=f"the cell is not valid Python ({where}{getattr(err, 'msg', err)})")
    except (RecursionError, MemoryError):
        return Found(problem="the cell is too deeply nested or too large to read")
    found = Found(problem=f"no assignment to {name!r}")
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, ast.AnnAssign) and node.value is not None else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            try:
                found = evaluate(node.value)  # type: ignore[arg-type]
            except RecursionError:
                found = Found(problem=f"{name!r} is too deeply nested to read")
    return found


def literal_assigned(source: str, name: str) -> Found:
    """The literal value of the last top-level ``name = <literal>`` in a piece of code."""
    def evaluate(value: ast.expr) -> Found:
        try:
            return Found(value=ast.literal_eval(value))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return Found(problem=f"{name!r} is computed by code, not written as a literal value")

    return _last_assigned(source, name, evaluate)


class Computed:
    """A value written as code (a call, a name, arithmetic) where the answer needs a written-out value.

    Static grading never runs it: it stands in for the value, scores nothing, and shows the code it came from.
    """

    __slots__ = ("code",)

    def __init__(self, code: str) -> None:
        self.code = code

    def __repr__(self) -> str:
        return f"{self.code} (code, not a written-out value)"


_NUMBER_SIGNS = (ast.USub, ast.UAdd)


def values_written(node: ast.AST) -> Any:
    """The value of an expression as far as it is written out: literals are evaluated (like
    ``ast.literal_eval``), and every part that is code becomes a :class:`Computed`, so one ``np.int64(3)``
    costs one field rather than the whole answer. Nothing is executed."""
    kind = type(node)  # exact node types: dispatching on them is what keeps a cohort's grading fast
    if kind is ast.Constant:
        return node.value  # type: ignore[attr-defined]
    if kind is ast.Dict and None not in node.keys:  # type: ignore[attr-defined]  (None: a **spread)
        result = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):  # type: ignore[attr-defined]
            key = values_written(key_node)  # type: ignore[arg-type]
            result[key if _hashable(key) else Computed(_code(key_node))] = values_written(value_node)  # type: ignore
        return result
    if kind is ast.List or kind is ast.Tuple:
        items = [values_written(element) for element in node.elts]  # type: ignore[attr-defined]
        return items if kind is ast.List else tuple(items)
    if kind is ast.Set:
        items = [values_written(element) for element in node.elts]  # type: ignore[attr-defined]
        return set(items) if all(_hashable(i) for i in items) else Computed(_code(node))
    if kind is ast.UnaryOp and isinstance(node.op, _NUMBER_SIGNS) and type(node.operand) is ast.Constant \
            and type(node.operand.value) in (int, float):  # type: ignore[attr-defined]
        value = node.operand.value  # type: ignore[attr-defined]
        return -value if isinstance(node.op, ast.USub) else value  # type: ignore[attr-defined]
    return Computed(_code(node))


def _hashable(value: Any) -> bool:
    if type(value) is str:
        return True
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _code(node: ast.AST, limit: int = 60) -> str:
    text = ast.unparse(node)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def value_assigned(source: str, name: str) -> Found:
    """The last top-level ``name = ...`` in a cell, as far as it is written out (see :func:`values_written`).

    Unlike :func:`literal_assigned`, code inside the value does not void the whole answer: each computed part
    becomes a :class:`Computed`. ``problem`` is set when there is no assignment, the cell is not Python, or the
    whole value is code.
    """
    def evaluate(node: ast.expr) -> Found:
        value = values_written(node)
        if isinstance(value, Computed):
            return Found(problem=f"{name!r} is computed by code ({value.code}), not written out as values")
        return Found(value=value)

    return _last_assigned(source, name, evaluate)


def answers_in_notebook(nb: dict, name: str = "answers") -> Found:
    """The answer literal from the last code cell that assigns ``name``, as a grader would read it."""
    result = Found(problem=f"no code cell assigns {name!r}")
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        if name not in source:
            continue
        found = literal_assigned(source, name)
        if found.problem != f"no assignment to {name!r}":
            result = Found(found.value, found.problem, index)
    return result


def grade_cell(nb: dict, grade_id: str) -> tuple[int, dict] | None:
    """(index, cell) of the cell with this nbgrader grade_id, or None."""
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return index, cell
    return None


def hidden_tests(source: str) -> str:
    """The text between nbgrader's hidden-test markers ('' if there are none)."""
    start, end = source.find(HIDDEN_BEGIN), source.find(HIDDEN_END)
    if start < 0 or end < start:
        return ""
    return source[start + len(HIDDEN_BEGIN):end]


def reference_in_notebook(nb: dict, grade_id: str, name: str = "REFERENCE") -> Found:
    """The reference literal held by the hidden tests of the test cell ``grade_id``."""
    located = grade_cell(nb, grade_id)
    if located is None:
        return Found(problem=f"no cell with grade id {grade_id!r}")
    index, cell = located
    hidden = hidden_tests(cell_source(cell))
    if not hidden:
        return Found(problem=f"cell {grade_id!r} has no hidden tests", cell_index=index)
    found = literal_assigned(hidden, name)
    return Found(found.value, found.problem, index)
