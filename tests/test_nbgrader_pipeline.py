"""The real nbgrader pipeline on every exercise: generate, submissions (full, partial, untouched, broken),
autograde, gradebook, feedback."""

from __future__ import annotations

import copy
import html
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import ASSIGNMENT, NOTEBOOK, ROOT, SCORE_CELL, VARIABLE, make_course

from autograder.authoring.build import load_manifest
from autograder.authoring.exercises import run_nbgrader
from autograder.core.literals import cell_source, grade_cell
from autograder.instructor.cohort import graded_parts
from course.parts import load_part
from course.widgets.recorder import replace_assignment

pytestmark = pytest.mark.nbgrader
EXERCISES = load_manifest(ROOT / "solutions").exercises


def auto_parts(entry) -> list:
    return [p for p in entry.parts if p.graded == "auto"]


def references(entry) -> dict[str, dict]:
    """The reference answers of each autograded part, as the hidden tests hold them."""
    return {p.variable: p.reference for p in graded_parts(ROOT / "solutions", entry.id)}


def answers_from(reference: dict) -> dict:
    return {item: {k: v for k, v in fields.items() if k != "why"} for item, fields in reference.items()}


def partly_correct(part_id: str, reference: dict) -> tuple[dict, float]:
    """The reference with two deliberate misses, and the points they cost, worked out by hand from the rules:
    the first item is left out (each of its fields loses its 1 point); the second item's first field is
    changed (an exact field loses 1, an ordinal one moved one step loses 0.5, a set with one extra label
    keeps n/(n+1), a number pushed past its tolerance loses 1)."""
    part = load_part(part_id)
    answers = answers_from(reference)
    first, second = list(reference)[:2]
    lost = float(len(answers.pop(first)))
    field = part.items[second][0]
    rule, expected = part.rules[field], reference[second][field]
    if rule.kind == "exact":
        answers[second][field] = next(v for v in rule.values if v != expected)
        lost += 1
    elif rule.kind == "ordinal":
        i = rule.values.index(expected)
        answers[second][field] = rule.values[i + 1] if i + 1 < len(rule.values) else rule.values[i - 1]
        lost += 0.5
    elif rule.kind == "set":
        extra = next(v for v in rule.values if v not in expected)
        answers[second][field] = [*expected, extra]
        lost += 1 - len(expected) / (len(expected) + 1)
    else:
        answers[second][field] = expected + 10 * rule.tolerance
        lost += 1
    return answers, part.n_fields - lost


def with_answers(released: dict, answers: dict[str, dict | None]) -> dict:
    """The released notebook with its answer cells as the forms would write them (or untouched)."""
    nb = copy.deepcopy(released)
    for variable, value in answers.items():
        if value is not None:
            _, cell = grade_cell(nb, f"answers_{variable}")
            cell["source"] = replace_assignment(cell_source(cell), variable, value)
    return nb


def write_free_text(nb: dict) -> None:
    """What a trainee writes by hand: a response in every free-text cell, and their own coding of it."""
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if grade_id.startswith("response_"):
            cell["source"] = "It sounds as if this has weighed on you for a while, and you're unsure where to begin."
        elif grade_id == "answers_self_coding":
            grade_ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "") for c in nb["cells"]]
            ids = [g.removeprefix("response_").upper() for g in grade_ids if g.startswith("response_")]
            cell["source"] = replace_assignment(cell_source(cell), "self_coding",
                                                {i: {"code": "CR", "empathy": 4} for i in ids})


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every exercise, four trainees each, through generate_assignment, autograde and generate_feedback."""
    course = make_course(tmp_path_factory.mktemp("pipeline"))
    expected: dict[tuple[str, str], dict[str, float]] = {}
    for entry in EXERCISES:
        run_nbgrader(["generate_assignment", entry.id, "--force"], cwd=course)
        released = json.loads((course / "exercises" / entry.id / entry.notebook).read_text())
        refs = references(entry)
        partial = {p.variable: partly_correct(p.part, refs[p.variable]) for p in auto_parts(entry)}
        submissions = {
            "all-correct": ({v: answers_from(r) for v, r in refs.items()},
                            {v: float(load_part(p.part).n_fields) for p in auto_parts(entry) for v in [p.variable]}),
            "partly-correct": ({v: a for v, (a, _) in partial.items()}, {v: e for v, (_, e) in partial.items()}),
            "untouched": ({}, {p.variable: 0.0 for p in auto_parts(entry)}),
        }
        for student, (answers, points) in submissions.items():
            folder = course / "submitted" / student / entry.id
            folder.mkdir(parents=True)
            nb = with_answers(released, answers)
            if student == "all-correct":
                write_free_text(nb)
            (folder / entry.notebook).write_text(json.dumps(nb, indent=1))
            expected[student, entry.id] = points
    # Answer-cell texts that break things: a hand edit that lost its closing brace, and code that makes the
    # grading call itself fail (its traceback would quote the hidden key). Gaming the grade UP is issue #5's.
    broken = {"broken-cell": f'{VARIABLE} = {{\n    "T1": {{"code": "SR", "empathy": 3}},\n{VARIABLE}_form.record(x)',
              "sabotaged": f"import autograder.cells\nautograder.cells.grade = None\n{VARIABLE} = {{}}"}
    released = json.loads((course / "exercises" / ASSIGNMENT / NOTEBOOK).read_text())
    for student, source in broken.items():
        nb = copy.deepcopy(released)
        grade_cell(nb, f"answers_{VARIABLE}")[1]["source"] = source
        (course / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        (course / "submitted" / student / ASSIGNMENT / NOTEBOOK).write_text(json.dumps(nb, indent=1))
        expected[student, ASSIGNMENT] = {p.variable: 0.0 for p in auto_parts(EXERCISES[1])}
    # The exercise with every trainee first, alone: its run creates the trainees and nbgrader's default course row
    # (two runs creating the same row at once collide). The others then two at a time, as `attune grade --workers`
    # grades shards: one SQLite gradebook, several nbgrader processes.
    first = [e.id for e in EXERCISES if e.id == ASSIGNMENT]
    rest = [e.id for e in EXERCISES if e.id != ASSIGNMENT]

    def grade(exercise: str) -> None:
        run_nbgrader(["autograde", exercise, "--create"], cwd=course)
        run_nbgrader(["generate_feedback", exercise], cwd=course)

    for exercise in first:
        grade(exercise)
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(grade, rest))  # list(): an exception in any run is raised here
    return course, expected


def test_gradebook_scores_equal_expected_points_exactly(graded):
    from nbgrader.api import Gradebook

    course, expected = graded
    notebooks = {e.id: Path(e.notebook).stem for e in EXERCISES}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="attune") as gb:
        for (student, exercise), points in expected.items():
            for variable, value in points.items():
                grade = gb.find_grade(f"score_{variable}", notebooks[exercise], exercise, student)
                assert grade.auto_score == pytest.approx(value, abs=1e-9), (student, exercise, variable)
                assert grade.max_score == load_part(next(p.part for e in EXERCISES if e.id == exercise
                                                         for p in e.parts if p.variable == variable)).n_fields


def test_untouched_release_scores_zero_on_every_autograded_test(graded):
    from nbgrader.api import Gradebook

    course, _ = graded
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="attune") as gb:
        for entry in EXERCISES:
            notebook = gb.find_submission_notebook(Path(entry.notebook).stem, entry.id, "untouched")
            autograded = [g for g in notebook.grades if g.auto_score is not None]
            assert autograded, "no autograded tests found"
            assert all(g.auto_score == 0 for g in autograded), entry.id


def test_feedback_shows_scores_and_reasons_but_never_the_key(graded, reference):
    course, expected = graded
    for (student, exercise) in expected:
        if exercise != ASSIGNMENT:
            continue
        raw = (course / "feedback" / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).read_text()
        page = " ".join(html.unescape(raw).split())  # feedback wraps long lines
        assert "BEGIN HIDDEN TESTS" not in page and "REFERENCE" not in page and "grade(" not in page
        if student == "sabotaged":  # the traceback would have quoted the key: the cell shows the static score
            assert "TypeError" not in page and "Score: 0 of 20 points" in page
        assert "Score:" in page
        # The transcript shows as static text (a widget cannot render in a page with no kernel).
        assert "It's the sleep, mostly." in page and "attuneKeyboardGuard" not in page
        if student == "all-correct":
            assert all(" ".join(item["why"].split()) in page for item in reference.values())
        else:
            missed = list(reference)[:2] if student == "partly-correct" else list(reference)
            leaked = [turn for turn in missed if reference[turn]["why"] in page]
            assert not leaked, f"{student}: rationale of missed turns {leaked} in feedback"
            quoted = [turn for turn in missed if f'"{turn}": {{"code": "{reference[turn]["code"]}"' in page]
            assert not quoted, f"{student}: reference entries {quoted} quoted in feedback"


def test_validate_button_tells_the_truth(tmp_path, reference):
    """nbgrader validate (the trainee's Validate button) fails an incomplete notebook, naming the turns."""
    course = make_course(tmp_path)
    run_nbgrader(["generate_assignment", "ex00", "--force"], cwd=course)
    entry = EXERCISES[0]
    released = json.loads((course / "exercises" / "ex00" / entry.notebook).read_text())
    variable = entry.parts[0].variable
    turns = load_part(entry.parts[0].part).items
    incomplete, complete = tmp_path / "incomplete.ipynb", tmp_path / "complete.ipynb"
    incomplete.write_text(json.dumps(with_answers(released, {variable: None})))
    complete.write_text(json.dumps(with_answers(released, {variable: {k: {"code": "SR", "empathy": 3}
                                                                      for k in turns}})))
    failed = run_nbgrader(["validate", str(incomplete)], cwd=course).stdout
    assert "VALIDATION FAILED" in failed and "T1: not coded yet." in failed
    passed = run_nbgrader(["validate", str(complete)], cwd=course).stdout
    assert "Success! Your notebook passes all the tests." in passed  # well formed, though mostly wrong


def test_the_first_part_of_ex01_is_what_the_other_tests_use():
    assert auto_parts(EXERCISES[1])[0].variable == VARIABLE and SCORE_CELL == f"score_{VARIABLE}"


def test_free_text_is_left_for_hand_grading_and_hand_scores_reach_the_export(graded):
    """ex06's written responses and self-coding wait for formgrader; what the grader gives is exported."""
    import csv

    from nbgrader.api import Gradebook

    course, _ = graded
    entry = next(e for e in EXERCISES if e.id == "ex06")
    notebook = Path(entry.notebook).stem
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="attune") as gb:
        submission = gb.find_submission_notebook(notebook, "ex06", "all-correct")
        manual = [g for g in submission.grades if g.name.startswith(("response_", "answers_self_coding"))]
        assert len(manual) == 7 and all(g.needs_manual_grade for g in manual)
        auto = sum(g.auto_score or 0 for g in submission.grades)
        for grade in manual:  # what a grader would enter in formgrader
            grade.manual_score = 3.0
        gb.db.commit()
    run_nbgrader(["export", "--to", str(course / "grades.csv")], cwd=course)
    exported = csv.DictReader((course / "grades.csv").open())
    rows = {(r["assignment"], r["student_id"]): float(r["score"]) for r in exported}
    assert rows["ex06", "all-correct"] == pytest.approx(auto + 7 * 3.0)
