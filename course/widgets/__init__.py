"""Interactive widgets for lessons and exercises. ipywidgets is imported only when a widget is built."""

from course.widgets.coding_form import CodingForm
from course.widgets.scenario_player import ScenarioPlayer

__all__ = ["CodingForm", "ScenarioPlayer"]
