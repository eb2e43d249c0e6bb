"""The transcript coding form: one behaviour code and one empathy level per therapist turn."""

from __future__ import annotations

import html
from typing import Any

from autograder.feedback import wrap
from autograder.scoring import field_problem
from course.widgets.recorder import CellRecorder, Recorded, saved_answers, unrecorded_predecessor

NOT_CHOSEN_CODE = ""
NOT_CHOSEN_LEVEL = 0

_CSS = """<style>
.attune-form .attune-turn {margin: .35em 0 .1em 0; padding: .35em .6em; border-radius: 6px; line-height: 1.45}
.attune-form .attune-client {background: var(--jp-layout-color2, #f3f3f3)}
.attune-form .attune-therapist {background: var(--jp-brand-color3, #e3f0fb)}
.attune-form .attune-who {font-weight: 600}
.attune-form pre {white-space: pre-wrap; user-select: all}
.attune-form .widget-html-content {line-height: 1.45}
</style>"""


class CodingForm:
    """Shows a transcript and a labelled code and empathy control for each therapist turn.

    Answers reach the notebook file through :meth:`record`, called from the answer cell.
    """

    def __init__(self, transcript_id: str, *, exercise: str | None = None, test_cell: str | None = None,
                 variable: str = "answers"):
        from course.rubric import load_rubric
        from course.transcript import load_transcript

        self.transcript = load_transcript(transcript_id)
        self.rubric = load_rubric()
        self.exercise = exercise
        self.test_cell = test_cell
        self._recorder = CellRecorder(variable, self.answers, self._restore)
        self._restoring = False
        self._build()
        self._take_over_unrecorded_choices((transcript_id, variable))

    def _take_over_unrecorded_choices(self, key: tuple[str, str]) -> None:
        previous = unrecorded_predecessor(("coding-form", *key), self)
        if previous is not None:
            self._restore(previous.answers())
            self._recorder.widget_changed()
            self._refresh()

    # -- answers ---------------------------------------------------------------------------------
    def answers(self) -> dict[str, dict[str, Any]]:
        """The form's current choices, for every turn where something was chosen."""
        result = {}
        for turn_id, (code, level) in self._controls.items():
            chosen_code = code.value if code.value != NOT_CHOSEN_CODE else None
            chosen_level = level.value if level.value != NOT_CHOSEN_LEVEL else None
            if chosen_code is not None or chosen_level is not None:
                result[turn_id] = {"code": chosen_code, "empathy": chosen_level}
        return result

    def _restore(self, value: Any) -> list[str]:
        """Set the controls from an answer literal; return what could not be shown, in plain words."""
        if not isinstance(value, dict):
            return [f"The answer cell should hold a dictionary, found {type(value).__name__}; the form is unchanged."]
        problems = []
        self._restoring = True
        try:
            for turn_id, controls in self._controls.items():
                item = value.get(turn_id)
                item = item if isinstance(item, dict) else {}
                # The same well-formedness rule as grading: what the form shows, the grader can score.
                for field, control, unset in (("code", controls[0], NOT_CHOSEN_CODE),
                                              ("empathy", controls[1], NOT_CHOSEN_LEVEL)):
                    problem = field_problem(item, field, self.rubric.code_ids, self.rubric.empathy_levels)
                    control.value = unset if problem else item[field]
                    if problem and item.get(field) is not None:
                        problems.append(f"{turn_id}: {problem}.")
            problems += [f"{k}: not a therapist turn of this transcript." for k in value if k not in self._controls]
        finally:
            self._restoring = False
        self._refresh()
        return problems

    def record(self, answers: Any) -> None:
        """Called by the answer cell: keeps the form and the cell's literal in step (see recorder)."""
        outcome = self._recorder.record(answers)
        self._show_outcome(outcome)
        self._refresh()

    def check(self, answers: Any) -> None:
        """The self-check: format, whether the saved file is up to date, and feedback where possible."""
        from course.check import self_check

        self_check(answers, self.transcript, self.rubric, exercise=self.exercise, test_cell=self.test_cell,
                   unconfirmed=self._recorder.unconfirmed)

    # -- display ---------------------------------------------------------------------------------
    def _build(self) -> None:
        import ipywidgets as w

        t = self.transcript
        code_options = [("choose a code", NOT_CHOSEN_CODE)] + [(f"{c.id} · {c.label}", c.id) for c in self.rubric.codes]
        level_options = [("choose a level", NOT_CHOSEN_LEVEL)] + [
            (f"{lvl.level} · {lvl.label}", lvl.level) for lvl in self.rubric.empathy.levels]
        header = w.HTML(
            f"{_CSS}<h2>{html.escape(t.title)}</h2><p><em>{html.escape(t.context)}</em></p>"
            f"<p>For each turn of the {html.escape(t.therapist.lower())}, choose the behaviour code and the "
            "empathy level. Then run the answer cell below and save the notebook.</p>")
        rows: list[Any] = [header]
        self._controls: dict[str, tuple[Any, Any]] = {}
        for turn in t.turns:
            who = t.speaker_name(turn)
            rows.append(w.HTML(
                f'<div class="attune-turn attune-{turn.speaker}"><span class="attune-who">{html.escape(who)} '
                f"({turn.id}):</span> {html.escape(turn.text)}</div>"))
            if turn.speaker != "therapist":
                continue
            code = w.Dropdown(options=code_options, value=NOT_CHOSEN_CODE, description=f"{turn.id} behaviour code",
                              style={"description_width": "initial"}, layout=w.Layout(width="auto"))
            level = w.Dropdown(options=level_options, value=NOT_CHOSEN_LEVEL, description=f"{turn.id} empathy level",
                               style={"description_width": "initial"}, layout=w.Layout(width="auto"))
            code.observe(self._on_change, names="value")
            level.observe(self._on_change, names="value")
            self._controls[turn.id] = (code, level)
            rows.append(w.HBox([code, level], layout=w.Layout(flex_flow="row wrap", margin="0 0 .6em 1.5em")))
        self._status = w.HTML()
        self._message = w.HTML()
        self._literal_view = w.HTML()
        fallback = w.Accordion(children=[self._literal_view], titles=("Your answers as text (to copy)",))
        fallback.selected_index = None
        reference = w.Accordion(children=[w.HTML(self._rubric_html())], titles=("Rubric quick reference",))
        reference.selected_index = None
        rows += [self._status, self._message, fallback, reference]
        self.widget = w.VBox(rows)
        self.widget.add_class("attune-form")
        self._refresh()

    def _rubric_html(self) -> str:
        codes = "".join(f"<tr><td><b>{c.id}</b></td><td>{html.escape(c.label)}</td><td>{html.escape(c.definition)}"
                        "</td></tr>" for c in self.rubric.codes)
        levels = "".join(f"<tr><td><b>{lvl.level}</b></td><td>{html.escape(lvl.label)}</td>"
                         f"<td>{html.escape(lvl.anchor)}</td></tr>" for lvl in self.rubric.empathy.levels)
        return (f"<table><caption>Behaviour codes</caption>{codes}</table>"
                f"<table><caption>{html.escape(self.rubric.empathy.title)}</caption>{levels}</table>")

    def _on_change(self, _change: dict) -> None:
        if not self._restoring:
            self._recorder.widget_changed()
            self._message.value = ""
        self._refresh()

    def _refresh(self) -> None:
        done = sum(1 for c, lvl in self._controls.values()
                   if c.value != NOT_CHOSEN_CODE and lvl.value != NOT_CHOSEN_LEVEL)
        total = len(self._controls)
        if self._recorder.changed:
            state = "<b>Changed since the answer cell last ran:</b> run the answer cell below, then save (Ctrl+S)."
        elif self._recorder.unconfirmed:
            state = "Written into the answer cell: check it shows your answers, then save (Ctrl+S)."
        else:
            state = "The answer cell matches this form."
        self._status.value = f'<p role="status">{done} of {total} turns fully coded. {state}</p>'
        self._literal_view.value = (
            "<p>If running the answer cell does not fill it in (some notebook apps do not allow it), copy this "
            "text, replace the answer cell's text with it, run the cell and save.</p>"
            f"<pre>{html.escape(self._recorder.literal())}\nform.record({self._recorder.name})</pre>")

    def _show_outcome(self, outcome: Recorded) -> None:
        lines = []
        if outcome.action == "written":
            lines.append("Your answers were written into this cell: check that it now shows them, then save the "
                         "notebook (Ctrl+S). What gets graded is the saved file. If the cell still shows the old "
                         "text, your notebook app does not allow this: paste the text from 'Your answers as text' "
                         "in the form into the cell instead.")
            lines += [f"Note: {p}" for p in outcome.problems]
        elif outcome.action == "ignored":
            lines.append("This notebook app did not let the form fill in the answer cell. Replace the cell's text "
                         "with the text below, run the cell, and save:")
            lines.append(outcome.literal + f"\nform.record({self._recorder.name})")
        else:
            coded = len(self.answers())
            lines.append(f"Loaded {coded} coded turn(s) from the answer cell into the form." if coded else
                         "No answers yet: choose codes in the form above, then run this cell again.")
            lines += [f"Note: {p}" for p in outcome.problems]
        text = "\n".join(line if "\n" in line else wrap(line) for line in lines)  # code stays as it is
        print(text)
        self._message.value = f"<pre>{html.escape(text)}</pre>"
        saved = saved_answers(self._recorder.name) if outcome.action == "restored" else None
        if saved is not None and saved.problem is None and saved.value != self.answers():
            print("Reminder: the notebook file on disk does not hold these answers yet. Save (Ctrl+S).")

    def as_text(self) -> str:
        """The transcript as plain text: what shows where widgets cannot (feedback pages, plain viewers)."""
        t = self.transcript
        lines = [t.title, "", t.context, ""]
        for turn in t.turns:
            lines.append(f"{t.speaker_name(turn)} ({turn.id}): {turn.text}")
        return "\n".join(lines)

    def as_html(self) -> str:
        """The transcript as static HTML, for feedback pages."""
        t = self.transcript
        turns = "".join(
            f"<p><b>{html.escape(t.speaker_name(turn))} ({turn.id}):</b> "
            f"{html.escape(turn.text)}</p>" for turn in t.turns)
        return f"<h3>{html.escape(t.title)}</h3><p><em>{html.escape(t.context)}</em></p>{turns}"

    def _ipython_display_(self) -> None:
        from course.widgets.keyboard import display_with_keyboard_guard

        display_with_keyboard_guard(self.widget, self.as_text(), self.as_html())
