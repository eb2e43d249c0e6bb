"""Interactive widgets for lessons and exercises. ipywidgets is imported only when a widget is built."""

from course.widgets.answer_form import AnswerForm
from course.widgets.cells import check, record, reveal
from course.widgets.scenario_player import ScenarioPlayer

__all__ = ["Adjudicate", "AnswerForm", "KeyCoder", "Practice", "PracticeProgress", "ScenarioPlayer", "check",
           "record", "reveal"]

# The instructor's widgets and the practice session load YAML, pydantic and SQLite when imported; a trainee's
# answer cell (`from course.widgets import record`) must not pay for them, so they are imported on first use.
_INSTRUCTOR = {"KeyCoder": "course.widgets.key_coder", "Adjudicate": "course.widgets.adjudication",
               "Practice": "course.widgets.practice", "PracticeProgress": "course.widgets.practice"}


def __getattr__(name: str):
    if name in _INSTRUCTOR:
        import importlib

        return getattr(importlib.import_module(_INSTRUCTOR[name]), name)
    raise AttributeError(f"module 'course.widgets' has no attribute {name!r}")
