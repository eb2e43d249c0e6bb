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


def answer_cell_text(variable: str, answers: Any) -> str:
    """An answer cell: the answers as a literal, then the call that keeps the form and the cell in step. It
    imports what it calls, so it runs (and says what to do) even before the form cell has run."""
    return (f"from course.widgets import record\n\n{variable} = {format_literal(answers)}\n"
            f'record("{variable}", {variable})')


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


# What to write when the widget and the cell both hold answers: (cell's value, widget state when they last
# matched or None if unknown) -> (value to write, notes for the trainee). It must never drop what the cell holds
# unless the trainee removed it in the widget.
Merge = Callable[[Any, Any], tuple[Any, list[str]]]


class CellRecorder:
    """Syncs one widget with one answer cell; see the module docstring."""

    def __init__(self, name: str, read_state: Callable[[], Any], write_state: Callable[[Any], list[str]],
                 merge: Merge | None = None):
        self.name = name
        self._read_state = read_state
        self._write_state = write_state
        self._merge = merge
        self._touched = False  # edited in this kernel before widget and cell ever matched
        self._synced: Any = None  # the widget's state when widget and cell last matched (None: not yet)
        self._pending: tuple[str, str] | None = None  # (cell text before, cell text asked for)

    def widget_changed(self) -> None:
        self._touched = True

    def adopt(self, synced: Any = None) -> None:
        """The widget now shows what the cell holds (e.g. loaded from the saved notebook at start)."""
        self._synced = copy.deepcopy(self._read_state() if synced is None else synced)
        self._touched = False

    @property
    def synced(self) -> Any:
        return copy.deepcopy(self._synced)

    @property
    def changed(self) -> bool:
        """The widget differs from what the answer cell held when they last matched (changing a choice back
        is no change); before they ever matched, any edit counts."""
        if self._synced is None:
            return self._touched
        return self._read_state() != self._synced

    @property
    def unconfirmed(self) -> bool:
        """A rewrite was asked for, no later run of the cell has shown that the frontend applied it, and this
        notebook app is not known to apply rewrites."""
        return self._pending is not None and not frontend_applies_rewrites(_shell())

    def literal(self) -> str:
        return f"{self.name} = {format_literal(self._read_state())}"

    def record(self, value: Any) -> Recorded:
        shell = _shell()
        current = _running_cell_source(shell)
        if self._pending and current is not None:
            before, asked = self._pending
            if current.strip() == asked.strip():
                _FRONTEND["applies_rewrites"] = True
            elif (current.strip() == before.strip() and before.strip() != asked.strip()
                  and not frontend_applies_rewrites(shell)):
                return Recorded("ignored", self.literal())  # ran again, still the old text
            # Otherwise the trainee changed the cell after the rewrite (an undo, a hand edit): the cell is the truth.
            self._pending = None
        state = self._read_state()
        if not self.changed:
            problems = self._write_state(value)
            self.adopt()
            return Recorded("restored", self.literal(), tuple(problems))
        if state == value:
            self.adopt()
            return Recorded("restored", self.literal())
        new_value, notes = self._merge(value, self._synced) if self._merge else (state, [])
        if new_value == value:
            problems = self._write_state(value)  # nothing to write: the widget shows the cell again
            self.adopt()
            return Recorded("restored", self.literal(), tuple([*notes, *problems]))
        if shell is None or not hasattr(shell, "set_next_input") or current is None:
            return Recorded("ignored", self.literal())  # no notebook to write into: show the text to paste
        if new_value != state:
            notes += self._write_state(new_value)  # the widget shows what the cell will hold
        new_source = replace_assignment(current, self.name, new_value)
        shell.set_next_input(new_source, replace=True)
        self._pending = (current, new_source)
        _replace_in_place(value, new_value)
        self.adopt()
        return Recorded("written", self.literal(), tuple(notes))


# Whether this kernel's notebook app has been seen applying a rewrite (see frontend_applies_rewrites).
_FRONTEND = {"applies_rewrites": False}


def frontend_applies_rewrites(shell: Any) -> bool:
    """True where the notebook app is known to apply set_next_input(replace=True): it did so before in this
    kernel, or it is JupyterLab / Notebook 7 (they tell the kernel ``__session__``; both apply it, observed).
    There, a cell that still shows its old text after a rewrite was undone or edited by the trainee."""
    namespace = getattr(shell, "user_ns", None) or {}
    return _FRONTEND["applies_rewrites"] or bool(namespace.get("__session__"))


# The latest widget per (kind, content id, answer variable) in this kernel; see unrecorded_predecessor.
_LIVE_WIDGETS: dict[tuple[str, str, str], Any] = {}
# The latest widget per answer variable: what record(name, value) and check(name) in a cell talk to.
_BY_VARIABLE: dict[str, Any] = {}


def unrecorded_predecessor(key: tuple[str, str, str], widget: Any) -> Any | None:
    """Register ``widget`` as the latest for ``key``; return the one it replaces if that one holds
    choices its answer cell never received.

    Run All re-runs a widget's cell before its answer cell: a new, empty widget would otherwise replace
    one with unrecorded choices, and the answer cell would quietly restore the older answers.
    """
    previous = predecessor(key, widget)
    recorder = getattr(previous, "_recorder", None)
    return previous if recorder is not None and recorder.changed else None


def predecessor(key: tuple[str, str, str], widget: Any) -> Any | None:
    """Register ``widget`` as the latest for ``key`` (and for its answer variable); return the one it replaces."""
    previous = _LIVE_WIDGETS.get(key)
    _LIVE_WIDGETS[key] = widget
    _BY_VARIABLE[key[2]] = widget
    return previous


def live_widget(variable: str) -> Any | None:
    """The widget shown most recently in this kernel whose answer cell assigns ``variable``."""
    return _BY_VARIABLE.get(variable)


def kept_value(variable: str, kind: type) -> tuple[Any, str] | None:
    """The answers kept for ``variable`` when a new widget starts with no predecessor in this kernel: what the
    answer cell last gave it in this kernel, else its answer cell in the saved notebook file; with where it came
    from. Only a non-empty ``kind`` (dict for forms, list for dialogue paths) counts. Where the saved file cannot
    be read, the value is None and the text says why and what to do (nothing is changed)."""
    value = kernel_value(variable)
    if isinstance(value, kind) and value:
        return value, "from the answer cell as it last ran"
    saved = saved_answers(variable)
    if saved is not None and saved.problem:
        return None, (f"The saved notebook could not be read ({saved.problem}), so this starts empty. Nothing was "
                      "changed: run the answer cell below to load what it holds.")
    if saved is not None and isinstance(saved.value, kind) and saved.value:
        return saved.value, "from the answer cell of the saved notebook"
    return None


def kernel_value(variable: str) -> Any:
    """The value the answer cell last gave ``variable`` in this kernel, or MISSING."""
    shell = _shell()
    namespace = getattr(shell, "user_ns", None) or {}
    return namespace.get(variable, MISSING)


MISSING = object()


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
    ``autograder.core.literals.Found``), or None where the kernel cannot see its notebook file."""
    from autograder.core.literals import Found, answers_in_notebook, read_notebook

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
