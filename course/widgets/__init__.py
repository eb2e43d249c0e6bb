"""Interactive widgets for lessons and exercises. ipywidgets is imported only when a widget is built."""

from course.widgets.answer_form import AnswerForm
from course.widgets.cells import check, record, reveal
from course.widgets.scenario_player import ScenarioPlayer

__all__ = ["AnswerForm", "ScenarioPlayer", "check", "record", "reveal"]
