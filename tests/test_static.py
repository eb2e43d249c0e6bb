"""The static-grading core: answers read as written, rubric cells found in the instructor's notebook, and the
hand-written fast paths checked against the library code they stand in for."""

from __future__ import annotations

import json
import random
import textwrap

import nbformat
import pytest
from conftest import ROOT

from autograder.authoring.build import load_manifest
from autograder.core.feedback import WIDTH, wrap
from autograder.core.literals import Computed, cell_source, value_assigned
from autograder.core.scoring import CohortScorer, score_items
from autograder.instructor.cohort import source_cells as cohort_source_cells
from autograder.orchestration.submissions import read_submitted, read_timestamp
from autograder.static.answers import SourceCell, nbgrader_cells, rubric_cells
from autograder.static.notebooks import checksum
from course.errors import AttuneError
from course.parts import load_part

EXERCISES = load_manifest(ROOT / "solutions").exercises


def source_cells(path) -> list[SourceCell]:
    return cohort_source_cells(json.loads(path.read_text()))


def test_values_are_read_as_written_and_code_costs_only_its_own_field():
    found = value_assigned('import numpy as np\na = {"T1": {"code": "SR", "empathy": np.int64(3)}, '
                           '"T2": {"code": "CR", "empathy": -1}}', "a")
    assert found.problem is None
    assert found.value["T2"] == {"code": "CR", "empathy": -1}
    computed = found.value["T1"]["empathy"]
    assert isinstance(computed, Computed) and computed.code == "np.int64(3)"
    assert "np.int64(3) (code, not a written-out value)" == repr(computed)


@pytest.mark.parametrize(("source", "problem"), [
    ("a = {k: 1 for k in 'ab'}", "computed by code ({k: 1 for k in 'ab'})"),
    ("a = dict(x=1)", "computed by code"),
    ("a = {**other}", "computed by code"),
    ("b = 1", "no assignment to 'a'"),
    ("a = {", "not valid Python"),
    ("a = " + "[" * 5000 + "]" * 5000, "not valid Python (line 1: too many nested parentheses)"),
])
def test_answers_that_cannot_be_read_say_why(source, problem):
    assert problem in value_assigned(source, "a").problem


def test_the_last_assignment_in_the_cell_counts_and_annotations_are_read():
    assert value_assigned("a = {'x': 1}\na: dict = {'x': 2}", "a").value == {"x": 2}


def test_rubric_cells_of_every_exercise_pair_each_test_with_its_answer_cell():
    for entry in EXERCISES:
        path = ROOT / "solutions" / entry.id / entry.notebook
        found = rubric_cells(source_cells(path))
        auto = [p for p in entry.parts if p.graded == "auto"]
        assert [(r.variable, r.test_cell, r.answer_cell, r.part) for r in found] == \
               [(p.variable, f"score_{p.variable}", f"answers_{p.variable}", p.part) for p in auto]
        assert all(r.points == load_part(r.part).n_fields for r in found)


def test_a_broken_hidden_test_stops_grading_and_names_the_cell():
    cells = source_cells(ROOT / "solutions" / "ex01" / "hearing-the-concern.ipynb")
    broken = [SourceCell(c.name, c.cell_type, c.source.replace("points=20", "points=19"), c.grade, c.solution,
                         c.locked, c.points) for c in cells]
    with pytest.raises(ValueError, match=r"'score_amira': grade\(\.\.\., points=19\) but the cell is worth 20"):
        rubric_cells(broken)


def test_repeated_grade_ids_resolve_to_the_last_cell_as_in_nbgrader():
    def cell(grade_id, text):
        return {"cell_type": "code", "source": text, "metadata": {"nbgrader": {"grade_id": grade_id, "solution": True}}}

    cells = nbgrader_cells([cell("answers_a", "first"), {"cell_type": "code", "metadata": "junk"},
                            cell("answers_a", "last")])
    assert cells["answers_a"]["source"] == "last"


def test_checksum_equals_nbgraders_for_every_cell_of_every_exercise():
    from nbgrader.utils import compute_checksum

    for entry in EXERCISES:
        nb = nbformat.read(ROOT / "solutions" / entry.id / entry.notebook, as_version=4)
        for cell in nb.cells:
            if "nbgrader" in cell.metadata:
                assert checksum(cell.cell_type, cell.source, cell.metadata.nbgrader) == compute_checksum(cell)


def _random_item(rng: random.Random, fields: list[str], rules) -> object:
    if rng.random() < 0.05:
        return rng.choice([None, "SR", 3, [1, 2]])
    item = {}
    for field in fields:
        rule = rules[field]
        roll = rng.random()
        if roll < 0.1:
            continue
        if roll < 0.2:
            item[field] = rng.choice(["ZZ", 3.0, True, "3", None, ["x"]])
        elif rule.kind == "set":
            item[field] = rng.sample(list(rule.values), rng.randint(0, 3))
            if rng.random() < 0.3:
                item[field] = tuple(item[field])
        elif rule.kind == "number":
            item[field] = rng.choice([0, 1, 1.25, 2.5, -1])
        else:
            item[field] = rng.choice(list(rule.values))
    return item


def test_the_cohort_scorer_gives_exactly_score_items_results():
    rng = random.Random(5)
    for entry in EXERCISES:
        from autograder.instructor.cohort import graded_parts

        for part in graded_parts(ROOT / "solutions", entry.id):
            rules = load_part(part.part).rules
            scorer = CohortScorer(part.reference, rules, part.points)
            fields = {i: [f for f in r if f != "why"] for i, r in part.reference.items()}
            for _ in range(60):
                answers = {i: _random_item(rng, fields[i], rules) for i in part.reference if rng.random() < 0.9}
                if rng.random() < 0.1:
                    answers["X9"] = {}
                expected = score_items(answers, part.reference, rules, part.points)
                got = scorer.score(answers)
                assert got.points == expected.points and got.problems == expected.problems
                assert [(r.item_id, r.field, r.credit, r.problem) for r in got.results] == \
                       [(r.item_id, r.field, r.credit, r.problem) for r in expected.results]
            assert scorer.score(None).points == 0.0


def test_wrap_equals_textwrap_fill():
    rng = random.Random(3)
    words = ["a", "well-meant", "reflection", "T12", "empathy", "✓", "|", "—", "co-worker's", "x" * 40, "x" * 99]
    for _ in range(5000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 40)))
        if rng.random() < 0.05:
            text = text.replace(" ", "  ", 1)
        for indent in ("", "      "):
            assert wrap.__wrapped__(text, indent) == textwrap.fill(
                text, WIDTH, initial_indent=indent, subsequent_indent=indent or "  ", break_on_hyphens=False)


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "is empty"),
    (b'{"cells": [', "broken JSON"),
    (b'{"nbformat": 4}', "not a notebook (no list of cells)"),
    (b"\xff\xfe", "cannot be read"),
])
def test_unreadable_submissions_say_why(tmp_path, content, reason):
    path = tmp_path / "work.ipynb"
    path.write_bytes(content)
    nb, problem = read_submitted(path)
    assert nb is None and reason in problem and "work.ipynb" in problem
    assert read_submitted(tmp_path / "missing.ipynb") == (None, "no missing.ipynb was submitted")


def test_an_old_format_notebook_is_read_as_nbgrader_reads_it(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a = {'T1': 1}")])
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.writes(nbformat.convert(nb, 3), version=3))
    read, problem = read_submitted(path)
    assert problem is None and read["nbformat"] == 4 and cell_source(read["cells"][0]) == "a = {'T1': 1}"


@pytest.mark.parametrize("stamp", ["2026-11-20 10:00:00.000000 UTC", "2026-11-20 10:00:00 UTC",
                                   "2026-11-20 11:00:00.5 CET", "2026-11-20T10:00:00+00:00"])
def test_timestamps_read_as_nbgrader_reads_them(tmp_path, stamp):
    from nbgrader.utils import parse_utc

    (tmp_path / "timestamp.txt").write_text(stamp + "\n")
    assert read_timestamp(tmp_path) == parse_utc(stamp)


def test_static_grading_refuses_a_course_with_late_penalties(tmp_path):
    from autograder.adapters.config import CourseConfig
    from autograder.orchestration.static_run import grade_static

    (tmp_path / "nbgrader_config.py").write_text(
        (ROOT / "nbgrader_config.py").read_text()
        + "\nc.AssignLatePenalties.plugin_class = 'nbgrader.plugins.latesubmission.SubMarks'\n")
    course = CourseConfig.load(tmp_path)
    assert course.late_penalties
    with pytest.raises(AttuneError, match="late-submission plugin"):
        grade_static(course, "ex01")
    assert not CourseConfig.load(ROOT).late_penalties


def test_grading_steps_load_the_course_package_where_a_course_folder_shadows_it(tmp_path):
    """nbgrader puts its working directory first on sys.path; a course folder with a bare `course/` folder (lesson
    copies) must not hide the installed package from the grading steps."""
    import subprocess
    import sys

    (tmp_path / "course" / "lessons").mkdir(parents=True)
    script = ("import os, sys; sys.path.insert(0, os.getcwd())\n"
              "import course; shadowed = getattr(course, '__file__', None) is None\n"
              "from autograder.static.notebooks import installed_course_package\n"
              "package = installed_course_package()\n"
              "print(shadowed, package.parts.load_part('amira-night-shifts').n_fields)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    shadowed, fields = done.stdout.split()
    assert fields == "20"
    # `make test` installs Attune editable, where the bare folder does shadow the package: the case that matters.
    assert shadowed == "True" or not any(ROOT.glob(".venv/lib/python*/site-packages/__editable__*attune*"))
