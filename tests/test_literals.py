"""Answer literals: written by the form, read back by graders without executing anything."""

import ast

import pytest

from autograder.core.literals import answers_in_notebook, literal_assigned, reference_in_notebook
from course.widgets.recorder import format_literal, replace_assignment

SAMPLE = {"T1": {"code": "OQ", "empathy": 3}, "T2": {"code": None, "empathy": 4},
          "T3": {"code": "CR", "empathy": None}, "naïve \"quote\"\n": {"x": [1, 2.5, True]}}


def test_format_literal_round_trips_through_ast():
    assert ast.literal_eval(format_literal(SAMPLE)) == SAMPLE
    assert ast.literal_eval(format_literal(["p1:0", "p2b:3"])) == ["p1:0", "p2b:3"]
    assert format_literal({}) == "{}"


def test_replace_assignment_keeps_the_rest_of_the_cell():
    released = "# your answers\nanswers = {\n    # (the coding form writes your answers here)\n}\nform.record(answers)"
    new = replace_assignment(released, "answers", SAMPLE)
    assert new.startswith("# your answers\nanswers = {\n") and new.endswith("\nform.record(answers)")
    assert literal_assigned(new, "answers").value == SAMPLE
    again = replace_assignment(new, "answers", {"T1": {"code": "SR", "empathy": 2}})
    assert literal_assigned(again, "answers").value == {"T1": {"code": "SR", "empathy": 2}}
    assert again.count("answers =") == 1


def test_replace_assignment_on_unparseable_or_missing():
    assert replace_assignment("form.record(answers", "answers", {}).startswith("answers = {}\n")
    assert replace_assignment("", "answers", {"a": 1}) == 'answers = {\n    "a": 1,\n}'


@pytest.mark.parametrize(("source", "problem"), [
    ("answers = make()", "computed by code"),
    ("answers = {", "not valid Python"),
    ("x = 1", "no assignment"),
])
def test_literal_assigned_never_runs_code(source, problem):
    assert problem in literal_assigned(source, "answers").problem


def _nb(*sources, grade_id=None):
    cells = [{"cell_type": "code", "source": s, "metadata": {}} for s in sources]
    if grade_id:
        cells[-1]["metadata"] = {"nbgrader": {"grade_id": grade_id, "grade": True}}
    return {"cells": cells}


def test_last_answer_cell_wins():
    nb = _nb('answers = {"T1": 1}', "print(1)", 'answers = {"T1": 2}\nform.record(answers)')
    assert answers_in_notebook(nb).value == {"T1": 2}


def test_reference_is_read_from_the_hidden_tests_only():
    cell = ('check_format(answers, "t")\n### BEGIN HIDDEN TESTS\nREFERENCE = {"T1": {"code": "OQ"}}\n'
            "grade_coding(answers, REFERENCE, points=2.0)\n### END HIDDEN TESTS\n")
    assert reference_in_notebook(_nb(cell, grade_id="g"), "g").value == {"T1": {"code": "OQ"}}
    assert "no hidden tests" in reference_in_notebook(_nb("x = 1", grade_id="g"), "g").problem
    assert "no cell" in reference_in_notebook(_nb("x = 1", grade_id="g"), "other").problem


def test_recorder_outside_ipython_never_claims_to_have_written():
    from course.widgets.recorder import CellRecorder

    state: dict = {}
    recorder = CellRecorder("answers", lambda: dict(state), lambda value: [])
    assert recorder.record({}).action == "restored"
    state["T1"] = {"code": "SR", "empathy": 3}
    recorder.widget_changed()
    outcome = recorder.record({})
    assert outcome.action == "ignored" and '"T1": {"code": "SR", "empathy": 3}' in outcome.literal
