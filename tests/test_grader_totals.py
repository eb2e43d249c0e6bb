"""One set of numbers: `attune report` and `attune export` write the totals `nbgrader export` writes, and every
anomaly a grader must see before they go out (autograder.core.attention) is listed at the top of the report and
by `attune grade EXERCISE --compare`, which then exits 3.

One scratch course, graded statically (no kernels), then each anomaly planted in the gradebook or the course
folder as a grader or a trainee would leave it."""

from __future__ import annotations

import csv
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, make_course

from autograder.authoring.exercises import run_nbgrader
from autograder.core import attention as at
from autograder.core.literals import cell_source, grade_cell
from autograder.instructor.cohort import graded_parts
from course.widgets.recorder import replace_assignment

pytestmark = pytest.mark.nbgrader
EXERCISE = "ex00"  # the shortest exercise: one part
GRADED = ["t-clean", "t-negative", "t-over", "t-extra", "t-empty", "t-flag", "t-again"]
LATE, ABSENT = "t-late", "t-absent"  # collected after grading; in the gradebook, never submitted
PLANTED = [(at.NEGATIVE_TOTAL, "t-negative"), (at.EXTRA_CREDIT, "t-negative"), (at.OVER_MAXIMUM, "t-over"),
           (at.CELL_OUT_OF_RANGE, "t-over"), (at.MANUAL_OVERRIDE, "t-over"), (at.EXTRA_CREDIT, "t-extra"),
           (at.NOT_GRADED, LATE), (at.NOT_GRADED, "t-again"), (at.FILE_PROBLEM, "t-empty"),
           (at.OPEN_FLAG, "t-flag"), (at.NO_TOTAL, ABSENT)]


def attune(*args: str, course: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder.cli", *args, "--course", str(course)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def plant_anomalies(course: Path, notebook: str, score_cell: str) -> None:
    """What graders leave in formgrader (scores, extra credit, a flag) and a trainee added to the roster."""
    from nbgrader.api import Comment, Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="attune") as gb:
        def grade(student):
            return gb.find_grade(score_cell, notebook, EXERCISE, student)

        grade("t-negative").extra_credit = -50.0
        grade("t-over").manual_score = 600.0
        grade("t-extra").extra_credit = 2.0
        flagged = grade("t-flag")  # as the cross-check flags a cell: needs grading, a comment, the notebook flagged
        flagged.needs_manual_grade, flagged.manual_score = True, None
        flagged.notebook.flagged = True
        gb.db.add(Comment(notebook_id=flagged.notebook.id, cell_id=flagged.cell_id,
                          auto_comment="Attune review: executed 0, as written 14."))
        gb.add_student(ABSENT, first_name="Abe", last_name="Sent")
        gb.db.commit()


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> dict:
    """The graded course with its anomalies, and what report, export, compare and nbgrader export made of it."""
    course = make_course(tmp_path_factory.mktemp("grader-totals"))
    run_nbgrader(["generate_assignment", EXERCISE, "--force"], cwd=course)
    (part,) = graded_parts(ROOT / "solutions", EXERCISE)
    answers = {item: {k: v for k, v in fields.items() if k != "why"} for item, fields in part.reference.items()}
    del answers[next(iter(answers))]  # one item left out: 14 of 16, not a full score
    nb = json.loads((course / "exercises" / EXERCISE / f"{part.notebook}.ipynb").read_text())
    _, cell = grade_cell(nb, f"answers_{part.variable}")
    cell["source"] = replace_assignment(cell_source(cell), part.variable, answers)

    def submit(student: str) -> Path:
        folder = course / "submitted" / student / EXERCISE
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text("2024-05-01 10:00:00.000000 UTC")
        path = folder / f"{part.notebook}.ipynb"
        path.write_text(json.dumps(nb))
        return path

    for student in GRADED:
        submit(student)
    done = attune("grade", EXERCISE, "--static", "--quiet", course=course)
    assert done.returncode == 0, done.stdout + done.stderr
    plant_anomalies(course, part.notebook, part.grade_id)
    submit(LATE)  # collected after grading: nothing graded it
    # collected again after grading (formgrader: needs autograding): the recorded total is the earlier copy's
    (course / "submitted" / "t-again" / EXERCISE / "timestamp.txt").write_text("2024-05-02 09:00:00.000000 UTC")
    (course / "submitted" / "t-empty" / EXERCISE / f"{part.notebook}.ipynb").write_text("  \n")
    found = {"course": course, "part": part}
    for verb in ("report", "export"):
        found[verb] = attune(verb, *(["--no-feedback"] if verb == "report" else []), course=course)
        assert found[verb].returncode == 0, found[verb].stdout + found[verb].stderr
    found["compare"] = attune("grade", EXERCISE, "--compare", course=course)
    run_nbgrader(["export", "--to", str(course / "nbgrader-export.csv")], cwd=course)
    return found


def attention_rows(page: str) -> list[str]:
    """The text of each item row of the first section after the h1 (where the report must open)."""
    after = page.split("</h1>", 1)[1]
    first = after[:after.index("</section>")]
    assert after.lstrip().startswith("<section")
    (count,) = re.findall(r"Needs your attention \((\d+)\)", first)
    rows = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())
            for row in re.findall(r"<tr>(.*?)</tr>", first, flags=re.S)]
    assert rows[0] == "kind trainee assignment where what to do" and len(rows) - 1 == int(count)
    return rows[1:]


def test_every_anomaly_opens_the_report(course):
    rows = attention_rows((course["course"] / "report" / "report.html").read_text(encoding="utf-8"))
    for kind, student in PLANTED:
        assert any(row.startswith(kind) and f" {student} " in row for row in rows), (kind, student, rows)
    assert not any(" t-clean " in row for row in rows)
    (absent,) = [row for row in rows if f" {ABSENT} " in row]
    assert "nothing of theirs was collected" in absent  # no trainee left out silently: listed with the reason


def test_compare_lists_the_same_items_and_fails(course):
    done = course["compare"]
    assert done.returncode == 3, done.stdout + done.stderr
    assert "No differences." in done.stdout and "Nothing needs attention." not in done.stdout
    for kind, student in PLANTED:
        assert any(line.strip().startswith(kind.upper()) and f" {student} " in line
                   for line in done.stdout.splitlines()), (kind, student, done.stdout)


def exported(course: Path) -> pd.DataFrame:
    frame = pd.read_csv(course / "nbgrader-export.csv", keep_default_na=False)
    return frame.set_index(["student_id", "assignment"]).sort_index()


@pytest.mark.parametrize("folder", ["report", "exports"])
def test_totals_and_canvas_carry_exactly_nbgrader_exports_numbers(course, folder):
    expected = exported(course["course"])
    totals = pd.read_csv(course["course"] / folder / "totals.csv", keep_default_na=False)
    assert list(totals.columns) == [*at.EXPORT_COLUMNS, "as_written", "attention"]
    mine = totals.set_index(["student_id", "assignment"]).sort_index()
    assert list(mine.index) == list(expected.index)  # the same rows: every trainee in the gradebook
    for column in ("raw_score", "late_submission_penalty", "score", "max_score"):
        assert mine[column].astype(float).tolist() == expected[column].astype(float).tolist(), column
    for column in ("timestamp", "duedate", "first_name", "last_name", "email"):
        assert mine[column].astype(str).tolist() == expected[column].astype(str).tolist(), column
    assert mine.loc[("t-over", EXERCISE), "score"] == 600.0 and mine.loc[("t-negative", EXERCISE), "score"] == 0.0
    assert float(mine.loc[("t-clean", EXERCISE), "as_written"]) == 14.0
    assert mine.loc[(ABSENT, EXERCISE), "as_written"] == ""  # blank: no autograded notebook
    assert mine.loc[("t-clean", EXERCISE), "attention"] == ""
    assert at.NO_TOTAL in mine.loc[(ABSENT, EXERCISE), "attention"]
    assert at.NEGATIVE_TOTAL in mine.loc[("t-negative", EXERCISE), "attention"].split("; ")

    with (course["course"] / folder / "canvas-gradebook.csv").open(encoding="utf-8") as handle:
        canvas = list(csv.DictReader(handle))
    column = f"Attune {EXERCISE}"
    assert canvas[0]["Student"] == "Points Possible" and float(canvas[0][column]) == expected["max_score"].iloc[0]
    assert {r["SIS User ID"]: float(r[column]) for r in canvas[1:]} == {
        student: float(score) for (student, _), score in expected["score"].items()}


@pytest.mark.browser
def test_the_report_passes_axe(browser, course):
    from labdriver import accessibility_violations

    page = browser.new_page()
    try:
        page.goto((course["course"] / "report" / "report.html").as_uri())
        assert page.locator("main").count() == 1 and page.title()
        assert accessibility_violations(page, "html") == []
    finally:
        page.close()
