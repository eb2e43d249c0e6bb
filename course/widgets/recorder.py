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
import copy
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
    """``source`` with its last top-level ``name = ...`` statement replaced by ``name = <literal>``.

    The last one, because that is the one that takes effect and the one graders read. Only the
    statement itself is replaced (by position, so ``answers = {}; form.record(answers)`` on one line
    keeps its call); comments and everything else stay. If there is no such statement, or the cell is
    not valid Python, the assignment is put first.
    """
    statement = f"{name} = {format_literal(value)}"
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    assignments = [node for node in (tree.body if tree else [])
                   if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                           for t in node.targets)]
    if not assignments:
        return statement + ("\n" + source if source.strip() else "")
    node = assignments[-1]
    start = _char_offset(source, node.lineno, node.col_offset)
    end = _char_offset(source, node.end_lineno or node.lineno, node.end_col_offset or 0)
    return source[:start] + statement + source[end:]


def _char_offset(source: str, lineno: int, col_bytes: int) -> int:
    """ast gives columns in UTF-8 bytes; turn (line, byte column) into an index into ``source``."""
    lines = source.split("\n")
    before = sum(len(line) + 1 for line in lines[: lineno - 1])
    return before + len(lines[lineno - 1].encode("utf-8")[:col_bytes].decode("utf-8", errors="ignore"))


@dataclass(frozen=True)
class Recorded:
    """What a record() call did: 'restored' (the cell's literal set the widget, or both already matched),
    'written' (the cell was asked to show the widget's answers) or 'ignored' (nothing could write the
    cell: the trainee must paste ``literal``)."""

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
        self._synced: Any = None  # the cell's literal when widget and cell last matched
        self._pending: tuple[str, str] | None = None  # (cell text before, cell text asked for)

    def widget_changed(self) -> None:
        self.changed = True

    @property
    def unconfirmed(self) -> bool:
        """A rewrite was asked for, and no later run of the cell has shown that the frontend applied it."""
        return self._pending is not None

    def literal(self) -> str:
        return f"{self.name} = {format_literal(self._read_state())}"

    def record(self, value: Any) -> Recorded:
        shell = _shell()
        current = _running_cell_source(shell)
        if self._pending and current is not None:
            before, asked = self._pending
            if current.strip() == before.strip() and before.strip() != asked.strip():
                return Recorded("ignored", self.literal())  # ran again, still the old text
            self._pending = None
        state = self._read_state()
        if not self.changed or state == value:
            problems = self._write_state(value) if not self.changed else []
            self.changed = False
            self._synced = copy.deepcopy(value)
            return Recorded("restored", self.literal(), tuple(problems))
        if shell is None or not hasattr(shell, "set_next_input") or current is None:
            return Recorded("ignored", self.literal())  # no notebook to write into: show the text to paste
        notes = []
        if self._synced is not None and value != self._synced:
            notes.append("The answer cell had also been edited by hand; it now holds the form's answers. "
                         "To keep the hand edits instead, undo (Ctrl+Z) in the cell and run it again.")
        new_source = replace_assignment(current, self.name, state)
        shell.set_next_input(new_source, replace=True)
        self._pending = (current, new_source)
        _replace_in_place(value, state)
        self.changed = False
        self._synced = copy.deepcopy(state)
        return Recorded("written", self.literal(), tuple(notes))


# The latest widget per (kind, content id, answer variable) in this kernel; see unrecorded_predecessor.
_LIVE_WIDGETS: dict[tuple[str, str, str], Any] = {}


def unrecorded_predecessor(key: tuple[str, str, str], widget: Any) -> Any | None:
    """Register ``widget`` as the latest for ``key``; return the one it replaces if that one holds
    choices its answer cell never received.

    Run All re-runs a widget's cell before its answer cell: a new, empty widget would otherwise replace
    one with unrecorded choices, and the answer cell would quietly restore the older answers.
    """
    previous = _LIVE_WIDGETS.get(key)
    _LIVE_WIDGETS[key] = widget
    recorder = getattr(previous, "_recorder", None)
    return previous if recorder is not None and recorder.changed else None


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


def saved_answers(name: str) -> Any:
    """The answer literal in the SAVED notebook file, read as a grader reads it (an
    ``autograder.literals.Found``), or None where the kernel cannot see its notebook file."""
    from autograder.literals import Found, answers_in_notebook, read_notebook

    path = notebook_path()
    if path is None:
        return None
    try:
        return answers_in_notebook(read_notebook(path), name)
    except ValueError as err:
        return Found(problem=str(err))


def notebook_path() -> Path | None:
    """The path of the notebook this kernel serves, where the frontend tells it (Lab, Notebook 7)."""
    import os

    shell = _shell()
    namespace = getattr(shell, "user_ns", {}) if shell else {}
    # JupyterLab and Notebook 7 tell the kernel its notebook's path; VS Code does too, under its own name.
    candidates = [namespace.get("__session__"), os.environ.get("JPY_SESSION_NAME"), namespace.get("__vsc_ipynb_file__")]
    for candidate in candidates:
        if candidate and str(candidate).endswith(".ipynb"):
            path = Path(candidate)
            if not path.is_absolute():
                path = Path.cwd() / path.name if not path.exists() else path.resolve()
            if path.exists():
                return path
    return None
