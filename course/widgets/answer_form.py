"""The answer form: one set of labelled controls per item of an exercise part (a therapist turn to code,
responses to rate, a statement to read for feelings and concerns, a vignette to triage, a session to summarise)."""

from __future__ import annotations

import html
from typing import Any

from autograder.core.feedback import wrap
from autograder.core.scoring import field_problem
from course.widgets.recorder import (
    MISSING,
    CellRecorder,
    Recorded,
    answer_cell_text,
    kept_value,
    kernel_value,
    predecessor,
    saved_answers,
)

NOT_CHOSEN = "(not chosen)"  # the dropdowns' empty value; never a value of any rule

_CSS = """<style>
.attune-form .attune-turn {margin: .35em 0 .1em 0; padding: .35em .6em; border-radius: 6px; line-height: 1.45}
.attune-form .attune-client {background: var(--jp-layout-color2, #f3f3f3)}
.attune-form .attune-therapist {background: var(--jp-brand-color3, #e3f0fb)}
.attune-form .attune-who {font-weight: 600}
.attune-form .attune-responses {margin: .3em 0 0 0}
.attune-form pre {white-space: pre-wrap; user-select: all}
.attune-form .widget-html-content {line-height: 1.45}
.attune-form .widget-select-multiple select {min-width: 18em}
</style>"""


class AnswerForm:
    """Shows an exercise part (see course.parts) with labelled controls for every field of every item.

    Answers reach the notebook file through :meth:`record`, called from the answer cell.
    """

    def __init__(self, part_id: str, *, exercise: str | None = None, test_cell: str | None = None,
                 variable: str = "answers"):
        from course.parts import load_part
        from course.rubric import load_rubric

        self.part = load_part(part_id)
        self.rubric = load_rubric()
        self.exercise = exercise
        self.test_cell = test_cell
        self._recorder = CellRecorder(variable, self.answers, self._restore, self._merge)
        self._restoring = False
        self._touched: set[str] = set()  # items edited before the form ever matched its answer cell
        self._attempts: dict[str, list[Any]] = {}  # item -> the distinct answers the self-check has seen
        self._revealed: set[str] = set()  # items whose reasoning the learner asked for on purpose
        self._build()
        self._start_from_what_is_kept((part_id, variable))

    def _start_from_what_is_kept(self, key: tuple[str, str]) -> None:
        """A new form starts from the answers kept so far, never from nothing: the form it replaces in this
        kernel (Run All, or the form cell run again), else what the answer cell last gave the variable in this
        kernel, else the answer cell in the saved notebook file (a fresh kernel on a notebook answered before)."""
        previous = predecessor(("answer-form", *key), self)
        if previous is not None:
            self._restore(previous.answers())
            self._recorder.adopt(previous._recorder.synced)
            self._touched = set(previous._touched)
            self._attempts, self._revealed = previous._attempts, previous._revealed
        elif (kept := kept_value(self._recorder.name, dict)) is not None and kept[0] is None:
            self._message.value = f"<p>{html.escape(kept[1])}</p>"
        elif kept is not None:
            value, where = kept
            problems = self._restore(value)
            self._recorder.adopt()
            self._message.value = "<p>" + html.escape(
                f"Loaded {len(self.answers())} {self._noun()} {where}." + "".join(f" Note: {p}" for p in problems)
            ) + "</p>"
        self._refresh()

    def _noun(self) -> str:
        return "coded turn(s)" if self.part.kind == "coding" else "answered item(s)"

    def _merge(self, cell: Any, synced: Any) -> tuple[Any, list[str]]:
        """What the answer cell gets when both the form and the cell changed: the cell's answers, with the
        items edited in the form replaced (or removed, where the learner cleared them in the form). So the
        form never writes fewer answers than the cell holds unless the learner took them out."""
        state, edited = self.answers(), set(self.changed_items())
        kept = dict(cell) if isinstance(cell, dict) else {}
        merged = {}
        for item_id in self.part.items:
            source = state if item_id in edited else kept
            if item_id in source:
                merged[item_id] = source[item_id]
        merged.update({k: v for k, v in kept.items() if k not in self.part.items})  # reported, never dropped
        notes = []
        from_cell = sorted((set(kept) & set(merged)) - edited, key=list(kept).index)
        if any(state.get(i) != kept[i] for i in from_cell if i in self.part.items):
            notes.append("The answer cell also held answers the form did not show; they are kept: "
                         + ", ".join(i for i in from_cell if state.get(i) != kept[i]) + ".")
        if not isinstance(cell, dict) and cell not in (None, MISSING):
            notes.append(f"The answer cell held a {type(cell).__name__}, not answers; it now holds the form's.")
        return merged, notes

    # -- answers ---------------------------------------------------------------------------------
    def _value(self, item_id: str, name: str) -> Any:
        control = self._controls[item_id][name]
        kind = self.part.rules[name].kind
        if kind == "set":
            return sorted(control.value)
        if kind == "number":
            text = control.value.strip()
            if not text:
                return None
            try:
                return float(text.replace(",", "."))
            except ValueError:
                return text  # kept as typed, so the format check names it
        return None if control.value == NOT_CHOSEN else control.value

    def _is_set(self, item_id: str, name: str) -> bool:
        value = self._value(item_id, name)
        if self.part.rules[name].kind == "set":
            return bool(value)  # an empty selection is a valid answer, but alone it does not start an item
        return value is not None

    def answers(self) -> dict[str, dict[str, Any]]:
        """The form's current choices, for every item where something was chosen."""
        result = {}
        for item_id, fields in self.part.items.items():
            if any(self._is_set(item_id, name) for name in fields):
                result[item_id] = {name: self._value(item_id, name) for name in fields}
        return result

    def _set_control(self, item_id: str, name: str, value: Any) -> None:
        control = self._controls[item_id][name]
        kind = self.part.rules[name].kind
        if kind == "set":
            control.value = tuple(value or ())
        elif kind == "number":
            control.value = "" if value is None else f"{value:g}"
        else:
            control.value = NOT_CHOSEN if value is None else value

    def _restore(self, value: Any) -> list[str]:
        """Set the controls from an answer literal; return what could not be shown, in plain words."""
        self._touched.clear()
        if not isinstance(value, dict):
            return [f"The answer cell should hold a dictionary, found {type(value).__name__}; the form is unchanged."]
        problems = []
        self._restoring = True
        try:
            for item_id, fields in self.part.items.items():
                item = value.get(item_id)
                item = item if isinstance(item, dict) else {}
                for name in fields:
                    # The same well-formedness rule as grading: what the form shows, the grader can score.
                    problem = field_problem(item, name, self.part.rules[name])
                    self._set_control(item_id, name, None if problem else item[name])
                    if problem and item.get(name) is not None:
                        problems.append(f"{item_id}: {problem}.")
            problems += [f"{k}: not an item of this exercise part." for k in value if k not in self.part.items]
        finally:
            self._restoring = False
        self._refresh()
        return problems

    def record(self, answers: Any) -> None:
        """Called by the answer cell: keeps the form and the cell's literal in step (see recorder)."""
        outcome = self._recorder.record(answers)
        self._show_outcome(outcome)
        self._refresh()

    def check(self, answers: Any = MISSING) -> None:
        """The self-check: format; whether the form, the answer cell (as last run) and the saved file agree;
        and, for a self-paced learner, feedback that follows effort (see course.check)."""
        from course.check import self_check

        if answers is MISSING:
            answers = kernel_value(self._recorder.name)
        self_check(answers, self.part, test_cell=self.test_cell, variable=self._recorder.name,
                   unconfirmed=self._recorder.unconfirmed, form_changes=self.changed_items(),
                   attempts=self._attempts, revealed=self._revealed)

    def reveal(self, item_id: str) -> None:
        """Show the expert's answer and reasoning for one item, on purpose (self-paced, with solutions/)."""
        from course.check import reveal

        if reveal(self.part, item_id, test_cell=self.test_cell):
            self._revealed.add(item_id)

    # -- display ---------------------------------------------------------------------------------
    def _control(self, item_id: str, name: str) -> Any:
        import ipywidgets as w

        rule = self.part.rules[name]
        label = self.part.field_label(item_id, name)
        style = {"description_width": "initial"}
        if rule.kind == "set":
            options = self.part.choices[name]
            control = w.SelectMultiple(options=options, value=(), rows=min(len(options), 7), description=label,
                                       style=style, layout=w.Layout(width="auto"))
        elif rule.kind == "number":
            control = w.Text(value="", placeholder="a number, e.g. 1.25", description=label, style=style,
                             continuous_update=False, layout=w.Layout(width="auto"))
        else:
            options = [(f"choose ({rule.label})", NOT_CHOSEN), *self.part.choices[name]]
            control = w.Dropdown(options=options, value=NOT_CHOSEN, description=label, style=style,
                                 layout=w.Layout(width="auto"))
        control.observe(lambda change: self._on_change(change, item_id), names="value")
        return control

    def _build(self) -> None:
        import ipywidgets as w

        p = self.part
        how = ("For each turn of the listener, choose the behaviour code and the empathy level."
               if p.kind == "coding" else "Answer every item with the controls under it.")
        header = w.HTML(
            f"{_CSS}<h2>{html.escape(p.title)}</h2><p><em>{html.escape(p.intro)}</em></p>"
            f"<p>{how} Then run the answer cell below and save the notebook.</p>")
        rows: list[Any] = [header]
        self._controls: dict[str, dict[str, Any]] = {}
        for block in p.blocks:
            rows.append(w.HTML(f'<div class="{block.css}">{block.html}</div>'))
            if block.item_id is None:
                continue
            controls = {name: self._control(block.item_id, name) for name in p.items[block.item_id]}
            self._controls[block.item_id] = controls
            rows.append(w.HBox(list(controls.values()),
                               layout=w.Layout(flex_flow="row wrap", margin="0 0 .6em 1.5em")))
        self._status = w.HTML()
        self._message = w.HTML()
        self._literal_view = w.HTML()
        fallback = w.Accordion(children=[self._literal_view], titles=("Your answers as text (to copy)",))
        fallback.selected_index = None
        reference = w.Accordion(children=[w.HTML(self._reference_html())], titles=("Quick reference",))
        reference.selected_index = None
        rows += [self._status, self._message, fallback, reference]
        self.widget = w.VBox(rows)
        self.widget.add_class("attune-form")
        self.widget.add_class("attune-widget")
        self._refresh()

    def _reference_html(self) -> str:
        if self.part.kind in ("concerns", "referral"):
            from course.items import feelings_and_concerns, referral_terms

            vocab = feelings_and_concerns() if self.part.kind == "concerns" else referral_terms()
            groups = vars(vocab).items()
            return "".join(
                f"<table><caption>{html.escape(name.capitalize())}</caption>"
                + "".join(f"<tr><td><b>{html.escape(t.label)}</b></td><td>{html.escape(t.definition)}</td></tr>"
                          for t in terms) + "</table>" for name, terms in groups)
        if self.part.kind == "metrics":
            from course.items import load_item_set

            metrics = load_item_set(self.part.id).metrics  # type: ignore[union-attr]
            return "<table>" + "".join(
                f"<tr><td><b>{m.id}</b></td><td>{html.escape(m.label)}</td><td>{html.escape(m.definition)} "
                f"(within {m.tolerance:g})</td></tr>" for m in metrics) + "</table>"
        codes = "".join(f"<tr><td><b>{c.id}</b></td><td>{html.escape(c.label)}</td><td>{html.escape(c.definition)}"
                        "</td></tr>" for c in self.rubric.codes)
        levels = "".join(f"<tr><td><b>{lvl.level}</b></td><td>{html.escape(lvl.label)}</td>"
                         f"<td>{html.escape(lvl.anchor)}</td></tr>" for lvl in self.rubric.empathy.levels)
        code_table = f"<table><caption>Behaviour codes</caption>{codes}</table>" if self.part.kind == "coding" else ""
        return f"{code_table}<table><caption>{html.escape(self.rubric.empathy.title)}</caption>{levels}</table>"

    def _on_change(self, _change: dict, item_id: str) -> None:
        if not self._restoring:
            self._touched.add(item_id)
            self._recorder.widget_changed()
            self._message.value = ""
        self._refresh()

    def _refresh(self) -> None:
        done = sum(1 for item_id, fields in self.part.items.items()
                   if all(self._value(item_id, name) is not None for name in fields
                          if self.part.rules[name].kind != "set"))
        total = len(self._controls)
        noun = "turns fully coded" if self.part.kind == "coding" else "items answered"
        if self._recorder.changed:
            which = self.changed_items()
            state = ("<b>Changed since the answer cell last ran</b>"
                     + (f" ({html.escape(', '.join(which))})" if which else "")
                     + ": run the answer cell below, then save (Ctrl+S).")
        elif self._recorder.unconfirmed:
            state = "Written into the answer cell: check it shows your answers, then save (Ctrl+S)."
        else:
            state = "The answer cell matches this form."
        self._status.value = f'<p role="status">{done} of {total} {noun}. {state}</p>'
        self._literal_view.value = (
            "<p>If running the answer cell does not fill it in (some notebook apps do not allow it), copy this "
            "text, replace the answer cell's text with it, run the cell and save.</p>"
            f"<pre>{html.escape(self.fallback_text())}</pre>")

    def changed_items(self) -> list[str]:
        """The items whose answers in the form differ from the answer cell's when the two last matched."""
        synced, state = self._recorder.synced, self.answers()
        if synced is None:
            return [i for i in self.part.items if i in self._touched]
        return [i for i in self.part.items if state.get(i) != synced.get(i)]

    def fallback_text(self) -> str:
        """The whole answer cell as text to paste: it runs on its own, whatever ran before it."""
        return answer_cell_text(self._recorder.name, self.answers())

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
            lines.append(self.fallback_text())
        else:
            answered = len(self.answers())
            noun = self._noun()
            lines.append(f"Loaded {answered} {noun} from the answer cell into the form." if answered else
                         "No answers yet: make your choices in the form above, then run this cell again.")
            lines += [f"Note: {p}" for p in outcome.problems]
        text = "\n".join(line if "\n" in line else wrap(line) for line in lines)  # code stays as it is
        print(text)
        self._message.value = f"<pre>{html.escape(text)}</pre>"
        saved = saved_answers(self._recorder.name) if outcome.action == "restored" else None
        if saved is not None and saved.problem is None and saved.value != self.answers():
            print("Reminder: the notebook file on disk does not hold these answers yet. Save (Ctrl+S).")

    def as_text(self) -> str:
        """The part as plain text: what shows where widgets cannot (feedback pages, plain viewers)."""
        return self.part.as_text()

    def as_html(self) -> str:
        """The part as static HTML, for feedback pages."""
        return self.part.as_html()

    def _ipython_display_(self) -> None:
        from course.widgets.keyboard import display_with_keyboard_guard

        display_with_keyboard_guard(self.widget, self.as_text(), self.as_html())

