"""What an exercise's answer and self-check cells call: ``record("hoang", hoang)`` and ``check("hoang")``.

Each cell imports what it calls and names its answer variable as a string, so a cell run before the cell it
needs (a fresh kernel, a notebook just opened) says plainly what to run first instead of raising NameError.
"""

from __future__ import annotations

from typing import Any

from autograder.core.feedback import wrap
from course.widgets.recorder import MISSING, kernel_value, live_widget


def record(variable: str, value: Any) -> None:
    """Keep the form (or dialogue) and this answer cell in step; see course.widgets.recorder."""
    widget = live_widget(variable)
    if widget is None:
        print(wrap("The form for this cell has not run since the kernel started (the notebook was just opened, or "
                   "the kernel restarted). Nothing was changed: the answers in this cell are kept as they are. "
                   "To see them in the form, run the form cell above (Shift+Enter), then this cell again."))
        return
    widget.record(value)


def check(variable: str) -> None:
    """The self-check of one exercise part (see course.check)."""
    widget = live_widget(variable)
    value = kernel_value(variable)
    if widget is None or not hasattr(widget, "check"):
        print(wrap("Nothing to check yet: run the form cell and the answer cell above first (Shift+Enter on "
                   "each), then this cell."))
        return
    if value is MISSING:
        print(wrap("The answer cell above has not run since the kernel started: run it first (Shift+Enter), then "
                   "this check. (Your answers are safe in that cell.)"))
        return
    widget.check(value)


def reveal(variable: str, item_id: str) -> None:
    """Show the expert's answer and reasoning for one item, on purpose (self-paced learners with solutions/)."""
    widget = live_widget(variable)
    if widget is None or not hasattr(widget, "reveal"):
        print(wrap("Run the form cell above first (Shift+Enter), then this again."))
        return
    widget.reveal(item_id)
