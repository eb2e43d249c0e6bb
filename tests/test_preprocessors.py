"""One unit test per Attune preprocessor, on an in-memory notebook (as nbgrader tests its own steps in
nbgrader/tests/preprocessors/). The whole pipeline, with a real gradebook and kernel, is tested in
test_nbgrader_pipeline.py and test_hostile.py.

Not here: ScoreAnswersAsWritten and SaveStaticGrades read and write a real gradebook (and the first scores a real
rubric part), and ResilientExecute runs a kernel; test_nbgrader_pipeline.py and test_hostile.py run them.
RestoreCellMetadata reads the exercise from the gradebook once per process; the test puts the exercise in that
cache instead.
"""

from __future__ import annotations

import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.adapters import preprocessors
from autograder.adapters.preprocessors import (
    ClearTraineeOutputs,
    GuardExecutedScores,
    HideHiddenTestErrors,
    RestoreCellMetadata,
    ShowWidgetFallbacks,
)
from autograder.static.answers import SourceCell
from autograder.static.notebooks import ExerciseNotebook

WIDGET = "application/vnd.jupyter.widget-view+json"


def nbgrader(grade_id: str, **flags) -> dict:
    return {"nbgrader": {"grade_id": grade_id, "grade": False, "solution": False, "locked": False,
                         "schema_version": 3, **flags}}


def test_show_widget_fallbacks_drops_live_views_and_keeps_their_stand_ins():
    view = new_output("display_data", data={WIDGET: {"model_id": "m1"}, "text/html": "<p>transcript</p>",
                                            "text/plain": "transcript"})
    only_view = new_output("display_data", data={WIDGET: {"model_id": "m2"}})
    script = new_output("display_data", data={"application/javascript": "alert(1)"})
    printed = new_output("stream", name="stdout", text="hello\n")
    nb = new_notebook(cells=[new_code_cell("form", outputs=[view, only_view, script, printed]),
                             new_markdown_cell("text")])

    nb, _ = ShowWidgetFallbacks().preprocess(nb, {})

    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data", "stream"]
    assert set(outputs[0].data) == {"text/html", "text/plain"}
    assert "outputs" not in nb.cells[1]


def test_hide_hidden_test_errors_replaces_the_traceback_of_hidden_test_cells_only():
    error = {"ename": "KeyError", "evalue": "'T1'", "traceback": ["REFERENCE = {'T1': {'code': 'OQ'}}", "KeyError"]}
    hidden = new_code_cell("### BEGIN HIDDEN TESTS\nREFERENCE = {...}\n### END HIDDEN TESTS",
                           outputs=[new_output("error", **error)])
    trainee = new_code_cell("amira = {}", outputs=[new_output("error", **error)])
    nb = new_notebook(cells=[hidden, trainee])

    nb, _ = HideHiddenTestErrors().preprocess(nb, {})

    shown = nb.cells[0].outputs[0]
    assert shown.evalue == "the grading code stopped with an error, so this cell scored 0"
    assert shown.traceback == ["KeyError: the grading code stopped with an error, so this cell scored 0. Your "
                               "instructor can see the details."]
    assert "REFERENCE" not in str(shown)
    assert nb.cells[1].outputs[0].traceback == error["traceback"]  # not a hidden-test cell: left as it is


def test_clear_trainee_outputs_keeps_only_locked_and_graded_cells_outputs():
    def ran(source: str, **meta) -> NotebookNode:
        cell = new_code_cell(source, outputs=[new_output("stream", name="stdout", text=f"{source}\n")])
        if meta:
            cell.metadata = nbgrader(source, **meta)
        return cell

    nb = new_notebook(cells=[ran("trainee's own cell"), ran("answer cell", solution=True),
                             ran("course code", locked=True), ran("test cell", grade=True, points=20.0),
                             new_markdown_cell("no outputs to clear")])

    nb, _ = ClearTraineeOutputs().preprocess(nb, {})

    assert [len(c.get("outputs", [])) for c in nb.cells] == [0, 0, 1, 1, 0]


@pytest.fixture
def exercise(monkeypatch) -> tuple[dict, ExerciseNotebook]:
    """An exercise as the gradebook holds it, in the per-process cache RestoreCellMetadata reads."""
    cells = [SourceCell("answers_amira", "code", "amira = {}", solution=True, checksum="abc"),
             SourceCell("score_amira", "code", "grade(...)", grade=True, locked=True, points=20.0, checksum="def")]
    found = ExerciseNotebook.from_cells("ex01", cells)
    info = {"db_url": "sqlite:///nowhere.db", "assignment": "ex01", "notebook": "ex01", "student": "amira"}
    monkeypatch.setitem(preprocessors._EXERCISES, (info["db_url"], "ex01", "ex01"), found)
    return info, found


def test_restore_cell_metadata_gives_back_the_gradebooks_metadata_and_drops_false_claims(exercise):
    info, found = exercise
    nb = new_notebook(cells=[
        new_code_cell("amira = {'T1': 1}", metadata=nbgrader("answers_amira", solution=True)),  # repeated id: earlier
        new_code_cell("amira = {}", metadata=nbgrader("answers_amira", solution=True, points="lots")),  # edited
        new_code_cell("20.0", metadata=nbgrader("score_amira", grade=True, points=100.0)),  # points raised
        new_code_cell("x = 1", metadata=nbgrader("made_up", grade=True, points=5.0)),  # unknown id
        new_code_cell("y = 2", metadata={"tags": ["mine"]}),  # no nbgrader metadata at all: untouched
    ])

    nb, _ = RestoreCellMetadata().preprocess(nb, {"nbgrader": info})

    assert "nbgrader" not in nb.cells[0].metadata
    assert nb.cells[1].metadata.nbgrader == found.by_name["answers_amira"].nbgrader_metadata()
    assert nb.cells[2].metadata.nbgrader.points == 20.0  # nbconvert reads it by attribute: a NotebookNode
    assert isinstance(nb.cells[2].metadata.nbgrader, NotebookNode)
    assert "nbgrader" not in nb.cells[3].metadata
    assert nb.cells[4].metadata == {"tags": ["mine"]}
    assert [c.source for c in nb.cells] == ["amira = {'T1': 1}", "amira = {}", "20.0", "x = 1", "y = 2"]


def test_guard_executed_scores_turns_an_unrecordable_score_into_a_zero_and_keeps_recordable_ones():
    from nbgrader.utils import determine_grade

    def test_cell(grade_id: str, printed: str | None) -> NotebookNode:
        outputs = [] if printed is None else [new_output("execute_result", data={"text/plain": printed},
                                                         execution_count=1)]
        return new_code_cell("score()", metadata=nbgrader(grade_id, grade=True, points=20), outputs=outputs)

    cells = {"above": test_cell("above", "999.0"), "infinite": test_cell("infinite", "inf"),
             "partial": test_cell("partial", "15.0"), "text": test_cell("text", "'all good'"),
             "silent": test_cell("silent", None)}
    nb = new_notebook(cells=list(cells.values()))
    with pytest.raises(ValueError):  # what nbgrader's SaveAutoGrades meets without the guard: the submission fails
        determine_grade(cells["above"])

    nb, _ = GuardExecutedScores().preprocess(nb, {})

    scores = {name: determine_grade(cell)[0] for name, cell in zip(cells, nb.cells, strict=True)}
    # Recordable outputs keep nbgrader's reading (a non-number is full credit there: the cross-check flags it).
    assert scores == {"above": 0, "infinite": 0, "partial": 15.0, "text": 20.0, "silent": 20.0}
    assert "999.0" in nb.cells[0].outputs[0].evalue and nb.cells[0].outputs[0].ename == "UnrecordableScore"
