"""The real nbgrader pipeline on ex01: generate, three submissions, autograde, gradebook, feedback."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from conftest import ASSIGNMENT, NOTEBOOK, make_course

from autograder.exercises import run_nbgrader
from autograder.literals import cell_source, grade_cell
from course.widgets.recorder import replace_assignment

pytestmark = pytest.mark.nbgrader


def with_answers(released: dict, answers: dict | None) -> dict:
    """The released notebook with its answer cell as the form would write it (or untouched)."""
    nb = json.loads(json.dumps(released))
    if answers is not None:
        _, cell = grade_cell(nb, "answers")
        cell["source"] = replace_assignment(cell_source(cell), "answers", answers)
    return nb


def partly_correct(reference: dict) -> dict:
    answers = {k: {"code": v["code"], "empathy": v["empathy"]} for k, v in reference.items()}
    answers["T3"] = {"code": "SR", "empathy": 4}    # wrong code: -1
    answers["T4"] = {"code": "AD", "empathy": 2}    # empathy one level off: -0.5
    answers["T10"] = {"code": "CR", "empathy": 3}   # empathy two levels off: -1
    del answers["T6"]                                # turn not coded: -2
    answers["T7"] = {"code": "XX", "empathy": 2}    # unknown code: -1
    return answers                                   # 20 - 5.5 = 14.5


EXPECTED = {"all-correct": 20.0, "partly-correct": 14.5, "untouched": 0.0, "broken-cell": 0.0, "sabotaged": 0.0}

# Answer-cell texts that break things: a hand edit that lost its closing brace, and code that makes the
# grading call itself fail (its traceback would quote the hidden key). Gaming the grade UP is issue #5's.
BROKEN = {"broken-cell": 'answers = {\n    "T1": {"code": "SR", "empathy": 3},\nform.record(answers)',
          "sabotaged": "import autograder.cells\nautograder.cells.grade_coding = None\nanswers = {}"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, reference):
    course = make_course(tmp_path_factory.mktemp("pipeline"))
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], cwd=course)
    released = json.loads((course / "exercises" / ASSIGNMENT / NOTEBOOK).read_text())
    all_correct = {k: {"code": v["code"], "empathy": v["empathy"]} for k, v in reference.items()}
    submissions = {"all-correct": all_correct, "partly-correct": partly_correct(reference), "untouched": None}
    for student, answers in submissions.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_text(json.dumps(with_answers(released, answers), indent=1))
    for student, source in BROKEN.items():
        nb = with_answers(released, None)
        grade_cell(nb, "answers")[1]["source"] = source
        (course / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        (course / "submitted" / student / ASSIGNMENT / NOTEBOOK).write_text(json.dumps(nb, indent=1))
    run_nbgrader(["autograde", ASSIGNMENT, "--create"], cwd=course)
    run_nbgrader(["generate_feedback", ASSIGNMENT], cwd=course)
    return course


def test_gradebook_scores_equal_expected_points_exactly(graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded / 'gradebook.db'}", course_id="attune") as gb:
        for student, expected in EXPECTED.items():
            submission = gb.find_submission_notebook(Path(NOTEBOOK).stem, ASSIGNMENT, student)
            grade = gb.find_grade("coding_score", Path(NOTEBOOK).stem, ASSIGNMENT, student)
            assert grade.auto_score == expected, student
            assert submission.score == expected, student
            assert grade.max_score == 20.0


def test_untouched_release_scores_zero_on_every_autograded_test(graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded / 'gradebook.db'}", course_id="attune") as gb:
        notebook = gb.find_submission_notebook(Path(NOTEBOOK).stem, ASSIGNMENT, "untouched")
        autograded = [g for g in notebook.grades if g.auto_score is not None]
        assert autograded, "no autograded tests found"
        assert all(g.auto_score == 0 for g in autograded)


def test_feedback_shows_scores_and_reasons_but_never_the_key(graded, reference):
    for student in EXPECTED:
        raw = (graded / "feedback" / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).read_text()
        page = " ".join(html.unescape(raw).split())  # feedback wraps long lines
        assert "BEGIN HIDDEN TESTS" not in page and "REFERENCE" not in page and "grade_coding(" not in page
        if student == "sabotaged":  # the traceback would have quoted the key; one plain line instead
            assert "TypeError: the grading code stopped with an error, so this cell scored 0." in page
        assert "Score:" in page or student == "sabotaged"
        # The transcript shows as static text (a widget cannot render in a page with no kernel).
        assert "It's the sleep, mostly." in page and "attuneKeyboardGuard" not in page
        if student == "all-correct":
            assert all(item["why"] in page for item in reference.values())
        else:
            missed = ["T3", "T4", "T10", "T6", "T7"] if student == "partly-correct" else list(reference)
            leaked = [turn for turn in missed if reference[turn]["why"] in page]
            assert not leaked, f"{student}: rationale of missed turns {leaked} in feedback"
            quoted = [turn for turn in missed if f'"{turn}": {{"code": "{reference[turn]["code"]}"' in page]
            assert not quoted, f"{student}: reference entries {quoted} quoted in feedback"


def test_validate_button_tells_the_truth(tmp_path, reference):
    """nbgrader validate (the trainee's Validate button) fails an incomplete notebook, naming the turns."""
    course = make_course(tmp_path)
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], cwd=course)
    released = json.loads((course / "exercises" / ASSIGNMENT / NOTEBOOK).read_text())
    incomplete, complete = tmp_path / "incomplete.ipynb", tmp_path / "complete.ipynb"
    incomplete.write_text(json.dumps(with_answers(released, None)))
    complete.write_text(json.dumps(with_answers(released, {k: {"code": "SR", "empathy": 3} for k in reference})))
    failed = run_nbgrader(["validate", str(incomplete)], cwd=course).stdout
    assert "VALIDATION FAILED" in failed and "T1: not coded yet." in failed
    passed = run_nbgrader(["validate", str(complete)], cwd=course).stdout
    assert "Success! Your notebook passes all the tests." in passed  # well formed, though mostly wrong
