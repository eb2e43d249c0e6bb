"""Keeping a widget's choices in the notebook file, not only in kernel memory.

A widget's state lives in the kernel and the browser, and both are gone when nbgrader re-executes a
notebook. So every widget that collects answers pairs with an *answer cell* holding a Python literal::

    answers = {...}
    form.record(answers)

Running that cell either restores the widget from the literal (fresh kernel, autograde, reopened
notebook) or, when the widget was changed since, rewrites the cell with the new literal through
IPython's ``set_next_input(..., replace=True)``, which JupyterLab and Notebook 7 apply to the running
cell. It is only ever called while a cell executes: from a button callback the payload would land in
whichever cell runs next. Frontends that ignore the payload are detected on the next run, and the
trainee is shown the literal to paste.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def format_literal(value: Any) -> str:
    """A Python literal for plain data, one top-level entry per line, stable for diffs and ast."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{\n" + "".join(f"    {_inline(k)}: {_inline(v)},\n" for k, v in value.items()) + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + "".join(f"    {_inline(v)},\n" for v in value) + "]"
    return _inline(value)


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_inline(k)}: {_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_inline(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid Python escapes
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    raise TypeError(f"cannot write {type(value).__name__} as a literal")


def replace_assignment(source: str, name: str, value: Any) -> str:
    """``source`` with its top-level ``name = ...`` statement replaced by ``name = <literal>``.

    Everything else in the cell (comments, the record call) is kept. If there is no such statement,
    or the cell is not valid Python, the assignment is put first.
    """
    statement = f"{name} = {format_literal(value)}"
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    if tree is not None:
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                lines = source.split("\n")
                start, end = node.lineno - 1, node.end_lineno or node.lineno
                return "\n".join([*lines[:start], statement, *lines[end:]])
    return statement + ("\n" + source if source.strip() else "")


@dataclass(frozen=True)
class Recorded:
    """What a record() call did: 'restored', 'written' or 'ignored' (the frontend did not apply the rewrite)."""

    action: str
    literal: str
    problems: tuple[str, ...] = ()


class CellRecorder:
    """Syncs one widget with one answer cell; see the module docstring."""

    def __init__(self, name: str, read_state: Callable[[], Any], write_state: Callable[[Any], list[str]]):
        self.name = name
        self._read_state = read_state
        self._write_state = write_state
        self.changed = False  # the widget was edited since it last matched the cell
        self._pending: tuple[str, str] | None = None  # (cell text before, cell text asked for)

    def widget_changed(self) -> None:
        self.changed = True

    def literal(self) -> str:
        return f"{self.name} = {format_literal(self._read_state())}"

    def record(self, value: Any) -> Recorded:
        shell = _shell()
        current = _running_cell_source(shell)
        if self._pending and current is not None:
            before, asked = self._pending
            if current.strip() == before.strip() and before.strip() != asked.strip():
                return Recorded("ignored", self.literal())
            self._pending = None
        if not self.changed:
            problems = self._write_state(value)
            self.changed = False
            return Recorded("restored", self.literal(), tuple(problems))
        state = self._read_state()
        if shell is None or not hasattr(shell, "set_next_input") or current is None:
            return Recorded("ignored", self.literal())  # no notebook to write into: show the text to paste
        new_source = replace_assignment(current, self.name, state)
        shell.set_next_input(new_source, replace=True)
        self._pending = (current, new_source)
        _replace_in_place(value, state)
        self.changed = False
        return Recorded("written", self.literal())


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _running_cell_source(shell: Any) -> str | None:
    """The raw text of the cell being executed (IPython stores it before running it)."""
    try:
        return shell.history_manager.input_hist_raw[-1]
    except (AttributeError, IndexError):
        return None


def _replace_in_place(target: Any, state: Any) -> None:
    # The trainee's variable then matches the literal just written into the cell.
    if isinstance(target, dict) and isinstance(state, dict):
        target.clear()
        target.update(state)
    elif isinstance(target, list) and isinstance(state, list):
        target[:] = state


def notebook_path() -> Path | None:
    """The path of the notebook this kernel serves, where the frontend tells it (Lab, Notebook 7)."""
    import os

    shell = _shell()
    candidates = [getattr(shell, "user_ns", {}).get("__session__") if shell else None,
                  os.environ.get("JPY_SESSION_NAME")]
    for candidate in candidates:
        if candidate and str(candidate).endswith(".ipynb"):
            path = Path(candidate)
            if not path.is_absolute():
                path = Path.cwd() / path.name if not path.exists() else path.resolve()
            if path.exists():
                return path
    return None
