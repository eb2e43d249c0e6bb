"""A branching client dialogue: choose what to say, see how the client responds, get a debrief."""

from __future__ import annotations

import html
from typing import Any

from course.widgets.recorder import CellRecorder, answer_cell_text, kept_value, predecessor

# Long options must wrap instead of overlapping the next one (ipywidgets fixes the label height).
_CSS = """<style>
.attune-widget .widget-radio-box label {height: auto; min-height: var(--jp-widgets-inline-height);
  line-height: 1.4; white-space: normal; align-items: flex-start; margin: .2em 0}
.attune-widget .widget-radio-box input {margin-top: .25em}
.attune-widget .attune-openness {margin-right: .6em}
.attune-widget .widget-html-content {line-height: 1.45}
</style>"""
KIND_WORDS = {"strong": "a strong response", "weaker": "a weaker response", "roadblock": "a roadblock"}


class ScenarioPlayer:
    """Plays a scenario from course/scenarios/. The path taken is kept in the notebook via :meth:`record`."""

    def __init__(self, scenario_id: str, *, variable: str = "path"):
        from course.scenario import Walk, load_scenario

        self.scenario = load_scenario(scenario_id)
        self.walk = Walk(self.scenario)
        self._recorder = CellRecorder(variable, self.walk.path, self._replay, self._merge)
        self._started_again = False  # "Start again" since the player last matched its cell: a new path is wanted
        self._build()
        self._start_from_what_is_kept(("scenario", scenario_id, variable))

    def _start_from_what_is_kept(self, key: tuple[str, str, str]) -> None:
        """Like the answer form: the player this one replaces (Run All), else the cell's path as it last ran in
        this kernel, else the path in the saved notebook; never an empty start over a path already kept."""
        previous = predecessor(key, self)
        if previous is not None:
            self._replay(previous.walk.path())
            self._recorder.adopt(previous._recorder.synced)
            self._started_again = previous._started_again
            if previous._recorder.changed:
                self._recorder.widget_changed()
            return
        kept = kept_value(self._recorder.name, list)
        if kept is not None and kept[0] is None:
            self._feedback.value = f"<p>{html.escape(kept[1])}</p>"
        elif kept is not None:
            self._replay(kept[0])
            self._recorder.adopt()

    def _merge(self, cell: Any, _synced: Any) -> tuple[Any, list[str]]:
        """The path to keep when the player and the cell both changed. A new path replaces the cell's only when
        it continues it or the learner pressed Start again; otherwise the cell's path is kept and shown."""
        path = self.walk.path()
        if self._started_again or not isinstance(cell, list) or not cell or path[:len(cell)] == cell:
            return path, []
        return cell, [f"This cell already holds a path of {len(cell)} choice(s) that the player had not shown; "
                      "it is kept, and the player now shows it. To replace it, press Start again, play, then run "
                      "this cell again."]

    def record(self, path: Any) -> None:
        """Called by the cell after the player: keeps the path taken in the notebook file."""
        outcome = self._recorder.record(path)
        if not self._recorder.changed:
            self._started_again = False
        if outcome.action == "written":
            print("Your path was written into this cell: check that it shows it, then save (Ctrl+S) to keep it. "
                  "If the cell still shows the old text, paste in the text below instead:\n"
                  + self.fallback_text())
        elif outcome.action == "ignored":
            print("This notebook app did not let the player fill in the cell. Replace its text with:\n"
                  + self.fallback_text())
        for problem in outcome.problems:
            print(problem)

    def fallback_text(self) -> str:
        """The whole cell as text to paste: it runs on its own, whatever ran before it."""
        return answer_cell_text(self._recorder.name, self.walk.path())

    def _replay(self, path: Any) -> list[str]:
        if not isinstance(path, list):
            return [f"The cell should hold a list of steps, found {type(path).__name__}."]
        problems = self.walk.replay(path)
        self._render()
        return problems

    def _build(self) -> None:
        import ipywidgets as w

        from course.learner import learner_id

        s = self.scenario
        # Scenario files list the strong option first; each learner sees their own order (stable across runs).
        self._learner = learner_id()
        self._header = w.HTML(f"{_CSS}<h3>{html.escape(s.title)}</h3><p><em>{html.escape(s.context)}</em></p>")
        self._meter = w.IntProgress(min=s.openness.min, max=s.openness.max, layout=w.Layout(width="12em"))
        self._meter_text = w.HTML()
        self._log = w.HTML()
        self._choices = w.RadioButtons(options=[], value=None, description="What do you say?",
                                       style={"description_width": "initial"}, layout=w.Layout(width="auto"))
        self._say = w.Button(description="Say this", button_style="primary", tooltip="Say the chosen response")
        self._say.on_click(self._on_say)
        self._again = w.Button(description="Start again", tooltip="Start the conversation from the beginning")
        self._again.on_click(self._on_again)
        self._feedback = w.HTML()
        self.widget = w.VBox([self._header, w.HBox([self._meter_text, self._meter]), self._log, self._choices,
                              w.HBox([self._say, self._again]), self._feedback])
        self._render()

    def _on_say(self, _button: Any) -> None:
        if self._choices.value is None or self.walk.finished:
            self._feedback.value = "<p>Choose a response first (arrow keys or click), then press <b>Say this</b>.</p>"
            return
        option = self.walk.choose(self._choices.value)
        self._recorder.widget_changed()
        self._render(last=option)

    def _on_again(self, _button: Any) -> None:
        self._started_again = True
        self.walk.reset()
        self._recorder.widget_changed()
        self._render()

    def _render(self, last: Any = None) -> None:
        s, walk = self.scenario, self.walk
        self._meter.value = walk.openness
        self._meter_text.value = (f'<span class="attune-openness" role="status">Client openness: {walk.openness} '
                                  f"of {s.openness.max}</span>")
        lines = []
        node_name = s.start
        for name, index in walk.steps:
            node = s.nodes[name]
            option = node.options[index]
            lines.append(_line(s.client, node.client))
            lines.append(_line(s.therapist, option.text))
            node_name = option.next
        lines.append(_line(s.client, s.nodes[node_name].client))
        self._log.value = "".join(lines)
        if walk.finished:
            self._choices.options = []
            self._choices.layout.display = "none"
            self._say.disabled = True
            self._feedback.value = self._debrief() + self._resources()
            return
        self._choices.layout.display = None
        self._say.disabled = False
        # Shown in the learner's order; the values stay authoring indexes, so recorded paths do not depend on it.
        from course.scenario import option_order

        options = walk.node.options
        order = option_order(self._learner, s.id, walk.node_name, len(options))
        self._choices.options = [(options[i].text, i) for i in order]
        self._choices.value = None
        self._feedback.value = (
            f"<p><b>That was {KIND_WORDS[last.kind]}.</b> {html.escape(last.feedback)}</p>" if last else ""
        ) + self._resources()

    def _resources(self) -> str:
        """Support resources under nodes that touch on risk (a course setting the instructor localises)."""
        if not self.walk.node.resources:
            return ""
        from course.resources import resources_html

        return resources_html()

    def _debrief(self) -> str:
        s = self.scenario
        items, revisit = [], []
        for number, (name, index) in enumerate(self.walk.steps, 1):
            option = s.nodes[name].options[index]
            items.append(f"<li><b>Choice {number}: {KIND_WORDS[option.kind]}</b> ({option.code}). "
                         f"{html.escape(option.feedback)}</li>")
            if option.kind != "strong" and option.section not in revisit:
                revisit.append(option.section)
        summary = html.escape(self.walk.node.summary or "")
        more = ("<p>To revisit: " + "; ".join(html.escape(r) for r in revisit) + ".</p>") if revisit else (
            "<p>Every choice on this path was a strong one. Try again and see how the client reacts to the others.</p>")
        return (f"<h4>Debrief</h4><p>{summary} The client's openness ended at {self.walk.openness} of "
                f"{s.openness.max}.</p><ol>{''.join(items)}</ol>{more}"
                "<p>Run the cell below to keep this path in your notebook.</p>")

    def _ipython_display_(self) -> None:
        from course.widgets.keyboard import display_with_keyboard_guard

        s = self.scenario
        display_with_keyboard_guard(self.widget, f"{s.title}: an interactive scenario (run it in JupyterLab).")


def _line(who: str, text: str) -> str:
    return f"<p><b>{html.escape(who)}:</b> {html.escape(text)}</p>"
