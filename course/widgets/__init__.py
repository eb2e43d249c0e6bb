"""Interactive widgets for lessons and exercises. ipywidgets is imported only when a widget is built."""

from course.widgets.answer_form import AnswerForm
from course.widgets.cells import check, record, reveal
from course.widgets.scenario_player import ScenarioPlayer

__all__ = ["Adjudicate", "AnswerForm", "KeyCoder", "ScenarioPlayer", "check", "record", "reveal"]

# The instructor's widgets load YAML and pydantic when imported; a trainee's answer cell (`from course.widgets
# import record`) must not pay for them, so they are imported on first use.
_INSTRUCTOR = {"KeyCoder": "course.widgets.key_coder", "Adjudicate": "course.widgets.adjudication"}


def __getattr__(name: str):
    if name in _INSTRUCTOR:
        import importlib

        return getattr(importlib.import_module(_INSTRUCTOR[name]), name)
    raise AttributeError(f"module 'course.widgets' has no attribute {name!r}")
