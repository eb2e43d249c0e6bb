"""The pages a trainee reads pass an axe-core audit in headless Chromium (WCAG A/AA and axe's best practices):
the feedback page of `nbgrader generate_feedback` (Attune's template, autograder/templates/feedback/), and the
cohort report and per-trainee debrief of `attune report` (autograder/instructor/report.py). All made by the real
commands."""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, make_course
from labdriver import accessibility_violations

from autograder.authoring.exercises import run_nbgrader
from autograder.core.literals import cell_source, grade_cell
from autograder.instructor.cohort import graded_parts
from course.widgets.recorder import replace_assignment

pytestmark = pytest.mark.browser
EXERCISE, TRAINEE = "ex00", "trainee"  # ex00: the shortest exercise, one part
PAGES = {"feedback": f"feedback/{TRAINEE}/{EXERCISE}/start-here.html", "report": "report/report.html",
         "debrief": f"report/feedback/{TRAINEE}.html"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[Path, dict]:
    """One trainee's ex00, every item answered as the reference but the first (left out, so the page shows both
    kinds of feedback): generate_assignment, autograde, generate_feedback, then `attune report`.
    Returns the course folder and the part's reference."""
    course = make_course(tmp_path_factory.mktemp("accessibility"))
    run_nbgrader(["generate_assignment", EXERCISE, "--force"], cwd=course)
    (part,) = graded_parts(ROOT / "solutions", EXERCISE)
    answers = {item: {k: v for k, v in fields.items() if k != "why"} for item, fields in part.reference.items()}
    del answers[next(iter(answers))]
    nb = json.loads((course / "exercises" / EXERCISE / f"{part.notebook}.ipynb").read_text())
    _, cell = grade_cell(nb, f"answers_{part.variable}")
    cell["source"] = replace_assignment(cell_source(cell), part.variable, answers)
    submitted = course / "submitted" / TRAINEE / EXERCISE
    submitted.mkdir(parents=True)
    (submitted / f"{part.notebook}.ipynb").write_text(json.dumps(nb))
    run_nbgrader(["autograde", EXERCISE, "--create"], cwd=course)
    run_nbgrader(["generate_feedback", EXERCISE], cwd=course)
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "report", "--course", str(course)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return course, part.reference


@pytest.mark.parametrize("name", PAGES)
def test_page_passes_axe(browser, graded, name):
    course, _ = graded
    page = browser.new_page()
    try:
        page.goto((course / PAGES[name]).as_uri())
        # What axe's rules ask for, stated here too, so that a change of axe's defaults cannot hide a regression.
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("main").count() == 1 and page.title()
        assert accessibility_violations(page, "html") == []
    finally:
        page.close()


def test_feedback_keeps_scores_outputs_and_per_item_feedback_and_never_shows_the_key(graded):
    course, reference = graded
    page = " ".join(html.unescape((course / PAGES["feedback"]).read_text()).split())  # feedback wraps long lines
    assert "BEGIN HIDDEN TESTS" not in page and "REFERENCE" not in page and "grade(" not in page
    missed, answered = list(reference)[:2]
    assert "Test cell</a> (Score: 0.0 / 0.0)" in page  # the list of graded cells, with their scores
    assert "Score: 14.0 / 16.0" in page and "Score: 14 of 16 points" in page  # a cell's score and its printout
    assert " ".join(reference[answered]["why"].split()) in page and reference[missed]["why"] not in page


def test_formgrader_finds_its_grading_page_and_feedback_is_ours():
    """nbgrader_config.py names the template folders; formgrader reads that setting too: its grading page is
    Attune's, which extends nbgrader's own (tests/test_browser_formgrader.py uses it as a grader)."""
    from nbconvert.exporters import HTMLExporter
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    found = {}
    for name in ("formgrade", "feedback"):  # the names formgrader and generate_feedback ask for
        config.HTMLExporter.template_name = name
        found[name] = Path(HTMLExporter(config=config).template.filename)
    assert found["formgrade"] == ROOT / "autograder" / "templates" / "formgrade" / "index.html.j2"
    config.HTMLExporter.template_name = "formgrade"
    parent = HTMLExporter(config=config).environment.get_template("formgrade/index.html.j2")
    assert Path(parent.filename).parts[-4:] == ("formgrader", "templates", "formgrade", "index.html.j2")
    assert found["feedback"] == ROOT / "autograder" / "templates" / "feedback" / "index.html.j2"
