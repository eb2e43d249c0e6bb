"""The answer-cell protocol, step by step, against a stand-in for IPython that records what it is asked.

A real frontend is exercised in the browser tests; here each trainee action sequence is spelled out.
"""

from __future__ import annotations

import ast
from types import SimpleNamespace

import pytest

from course.widgets import recorder as rec
from course.widgets.recorder import CellRecorder, replace_assignment

RELEASED = "answers = {\n    # (the form writes here)\n}\nform.record(answers)"


class Frontend:
    """Runs cells the way a notebook app does: the kernel sees the cell's text before executing it."""

    def __init__(self, monkeypatch, applies_rewrites: bool = True):
        self.applies = applies_rewrites
        self.cell = RELEASED
        self.asked: list[str] = []
        self.shell = SimpleNamespace(history_manager=SimpleNamespace(input_hist_raw=[]),
                                     set_next_input=self._set_next_input)
        monkeypatch.setattr(rec, "_shell", lambda: self.shell)

    def _set_next_input(self, text: str, replace: bool = False) -> None:
        assert replace, "must replace the running cell, never insert one"
        self.asked.append(text)
        if self.applies:
            self.cell = text

    def run(self, recorder: CellRecorder):
        """Execute the answer cell: its literal is evaluated, then record() is called with it."""
        self.shell.history_manager.input_hist_raw.append(self.cell)
        namespace: dict = {}
        exec(compile(ast.parse(self.cell.replace("form.record(answers)", "")), "<cell>", "exec"), namespace)
        return recorder.record(namespace["answers"]), namespace["answers"]


def make_widget():
    state = {"value": {}}

    def write(value):
        state["value"] = dict(value)
        return []

    return state, CellRecorder("answers", lambda: dict(state["value"]), write)


def test_edit_run_save_run_again(monkeypatch):
    app = Frontend(monkeypatch)
    state, recorder = make_widget()
    assert app.run(recorder)[0].action == "restored"                      # fresh form, empty cell
    state["value"] = {"T1": {"code": "SR", "empathy": 3}}
    recorder.widget_changed()
    outcome, answers = app.run(recorder)
    assert outcome.action == "written" and recorder.unconfirmed
    assert answers == state["value"]                                    # the kernel's variable follows
    assert ast.literal_eval(app.cell.split("answers = ", 1)[1].split("\nform.record")[0]) == state["value"]
    outcome, _ = app.run(recorder)                                       # the new text ran: confirmed
    assert outcome.action == "restored" and not recorder.unconfirmed and len(app.asked) == 1


def test_a_frontend_that_ignores_the_rewrite_is_caught_on_the_next_run(monkeypatch):
    app = Frontend(monkeypatch, applies_rewrites=False)
    state, recorder = make_widget()
    app.run(recorder)
    state["value"] = {"T1": {"code": "SR", "empathy": 3}}
    recorder.widget_changed()
    assert app.run(recorder)[0].action == "written"
    outcome, answers = app.run(recorder)
    assert outcome.action == "ignored" and '"T1": {"code": "SR", "empathy": 3}' in outcome.literal
    assert answers == {}                                                 # the cell, and so the kernel, still say {}


def test_hand_edits_without_form_changes_restore_the_form(monkeypatch):
    app = Frontend(monkeypatch)
    state, recorder = make_widget()
    app.run(recorder)
    app.cell = 'answers = {"T2": {"code": "CR", "empathy": 4}}\nform.record(answers)'
    assert app.run(recorder)[0].action == "restored"
    assert state["value"] == {"T2": {"code": "CR", "empathy": 4}} and app.asked == []


def merge_by_item(widget_state, touched):
    """The answer form's rule in small: the cell's items, with the ones edited in the widget replaced."""

    def merge(cell, synced):
        state = widget_state["value"]
        edited = touched if synced is None else {k for k in {*state, *synced} if state.get(k) != synced.get(k)}
        merged = {k: v for k, v in cell.items() if k not in edited}
        merged.update({k: state[k] for k in edited if k in state})
        return merged, ["kept from the cell: " + ", ".join(sorted(set(cell) - edited))]

    return merge


def test_form_and_cell_both_changed_the_merge_decides(monkeypatch):
    app = Frontend(monkeypatch)
    state = {"value": {}}
    recorder = CellRecorder("answers", lambda: dict(state["value"]),
                            lambda v: state.update(value=dict(v)) or [], merge_by_item(state, set()))
    app.run(recorder)
    app.cell = 'answers = {"T2": {"code": "CR", "empathy": 4}}\nform.record(answers)'
    state["value"] = {"T1": {"code": "SR", "empathy": 3}}
    recorder.widget_changed()
    outcome, answers = app.run(recorder)
    assert outcome.action == "written" and outcome.problems == ("kept from the cell: T2",)
    assert answers == state["value"] == {"T2": {"code": "CR", "empathy": 4}, "T1": {"code": "SR", "empathy": 3}}


def test_a_widget_that_never_saw_the_cell_never_writes_fewer_answers(monkeypatch):
    """A fresh kernel whose form could not load the saved answers: one change must not wipe the others."""
    app = Frontend(monkeypatch)
    app.cell = ('answers = {"T1": {"code": "SR", "empathy": 3}, "T2": {"code": "CR", "empathy": 4}}\n'
                "form.record(answers)")
    state = {"value": {}}
    touched = {"T2"}
    recorder = CellRecorder("answers", lambda: dict(state["value"]),
                            lambda v: state.update(value=dict(v)) or [], merge_by_item(state, touched))
    state["value"] = {"T2": {"code": "AF", "empathy": 2}}
    recorder.widget_changed()
    outcome, answers = app.run(recorder)
    assert outcome.action == "written"
    assert answers == {"T1": {"code": "SR", "empathy": 3}, "T2": {"code": "AF", "empathy": 2}}
    assert state["value"] == answers                                    # the widget shows what the cell holds


def test_an_undo_after_a_rewrite_is_the_learners_text_not_an_ignored_rewrite(monkeypatch):
    app = Frontend(monkeypatch)
    state, recorder = make_widget()
    app.run(recorder)
    state["value"] = {"T1": {"code": "SR", "empathy": 3}}
    recorder.widget_changed()
    app.run(recorder)
    app.run(recorder)                                                    # the rewrite ran: this app applies them
    state["value"] = {"T1": {"code": "OQ", "empathy": 3}}
    recorder.widget_changed()
    before = app.cell
    assert app.run(recorder)[0].action == "written"
    app.cell = before                                                    # Ctrl+Z in the cell
    outcome, answers = app.run(recorder)
    assert outcome.action == "restored" and answers == state["value"] == {"T1": {"code": "SR", "empathy": 3}}


def test_changing_a_choice_back_is_no_change(monkeypatch):
    app = Frontend(monkeypatch)
    state, recorder = make_widget()
    app.run(recorder)
    state["value"] = {"T1": {"code": "SR", "empathy": 3}}
    recorder.widget_changed()
    assert recorder.changed
    state["value"] = {}
    assert not recorder.changed


def test_form_changed_back_to_what_the_cell_holds_needs_no_rewrite(monkeypatch):
    app = Frontend(monkeypatch)
    _state, recorder = make_widget()
    app.run(recorder)
    recorder.widget_changed()                                            # touched, but still {}
    assert app.run(recorder)[0].action == "restored" and app.asked == [] and not recorder.changed


@pytest.mark.parametrize(("source", "expected"), [
    ('answers = {"T1": 1}\nanswers = {}\nform.record(answers)',
     'answers = {"T1": 1}\nanswers = {\n    "T9": 2,\n}\nform.record(answers)'),
    ("answers = {}; form.record(answers)", 'answers = {\n    "T9": 2,\n}; form.record(answers)'),
    ('note = "naïve"; answers = {}  # é\nform.record(answers)',
     'note = "naïve"; answers = {\n    "T9": 2,\n}  # é\nform.record(answers)'),
])
def test_the_last_assignment_is_replaced_in_place(source, expected):
    assert replace_assignment(source, "answers", {"T9": 2}) == expected
