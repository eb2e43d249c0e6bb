"""A grader's session in nbgrader's formgrader, inside a real JupyterLab in headless Chromium.

Two trainees' ex01 graded by plain `nbgrader autograde` with the course's config: one honest, one whose later cell
reassigns the answers (the executed test then gives more than the answers as written earn, so the cell is flagged
for review). As a grader: open Formgrader from JupyterLab's Nbgrader menu, see the flagged submission in the
"Flagged?" column, open it, read the transcript the trainee coded (the form cell's static stand-in) and the reason
on the flagged test cell, enter a score and a comment, and see the flag resolved; then generate feedback, which
has the grader's score and comment and none of the grader-only text.
"""

from __future__ import annotations

import html
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_course
from labdriver import chromium, jupyterlab, shutdown_sessions
from test_hostile import CASES, EXERCISE, NOTEBOOK, PARTS

from autograder.authoring.exercises import nbgrader_env, run_nbgrader
from course.parts import load_part

pytestmark = pytest.mark.browser
FLAGGED, HONEST = "reassigned-later", "honest-full"  # cases of tests/test_hostile.py
VARIABLE = "amira"  # the part the flagged trainee's later cell reassigns
GRADER_ONLY = ("Attune review", "Needs your review", "graders only")


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    course = make_course(tmp_path_factory.mktemp("formgrader"))
    run_nbgrader(["generate_assignment", EXERCISE, "--force"], cwd=course)
    released = json.loads((course / "exercises" / EXERCISE / f"{NOTEBOOK}.ipynb").read_text())
    for case in [c for c in CASES if c.name in (FLAGGED, HONEST)]:
        folder = course / "submitted" / case.name / EXERCISE
        folder.mkdir(parents=True)
        (folder / f"{NOTEBOOK}.ipynb").write_bytes(case.build(released))
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC\n")
    done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", EXERCISE], cwd=course, env=nbgrader_env(),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return course


def gradebook_state(course: Path, student: str) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="attune") as gb:
        notebook = gb.find_submission_notebook(NOTEBOOK, EXERCISE, student)
        grade = gb.find_grade(f"score_{VARIABLE}", NOTEBOOK, EXERCISE, student)
        return {"id": notebook.id, "flagged": notebook.flagged, "manual": grade.manual_score,
                "needs_manual": grade.needs_manual_grade, "auto": grade.auto_score, "max": grade.max_score}


def wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.25)


def test_a_grader_reads_the_transcript_and_the_reason_scores_the_flag_away_and_feedback_has_no_grader_text(
        graded, tmp_path):
    course = graded
    before = gradebook_state(course, FLAGGED)
    assert before["flagged"] and before["needs_manual"] and before["manual"] is None
    assert not gradebook_state(course, HONEST)["flagged"]
    transcript_line = next(line.strip() for line in load_part(PARTS[VARIABLE].part).as_text().splitlines()
                           if len(line.strip()) > 40)
    decided = before["auto"] + 1  # the grader's own judgement: one point above the recorded score
    scratch = tmp_path / "jupyter"
    scratch.mkdir()
    with chromium() as browser, jupyterlab(course, scratch) as (base, token):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}/lab?token={token}")
            page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click(timeout=60_000)
            page.locator(".lm-Menu-itemLabel", has_text="Formgrader").first.click()
            page.locator("#formgrader iframe").wait_for(timeout=30_000)
            grader = page.frame_locator("#formgrader iframe")
            # Manual Grading > ex01 > the notebook: the flagged submission shows in the "Flagged?" column.
            grader.locator("a", has_text="Manual Grading").first.click()
            grader.locator(f"a[href$='/gradebook/{EXERCISE}']").first.click()
            grader.locator(f"a[href$='/gradebook/{EXERCISE}/{NOTEBOOK}']").first.click()
            row = grader.locator("tr", has=grader.locator(f"a[href$='/submissions/{before['id']}']"))
            row.locator(".flagged .glyphicon").wait_for(timeout=30_000)
            honest = gradebook_state(course, HONEST)["id"]
            assert grader.locator("tr", has=grader.locator(f"a[href$='/submissions/{honest}']")).locator(
                ".flagged .glyphicon").count() == 0
            row.locator(f"a[href$='/submissions/{before['id']}']").first.click()

            # The grading view: the transcript the trainee coded, as text (the form cell's stand-in).
            grader.locator("#notebook-container").first.wait_for(timeout=30_000)
            view = " ".join(grader.locator("#notebook-container").first.inner_text().split())
            assert " ".join(transcript_line.split()) in view
            assert "Error displaying widget" not in view
            # The reason, on the flagged test cell where the score goes, in the page's text (not a placeholder).
            score = grader.locator(f"input#score_{VARIABLE}")
            cell = grader.locator(".nbgrader_cell", has=score)
            note = grader.locator(".attune-review")
            assert note.count() == 1
            reason = " ".join(note.inner_text().split())
            assert f"score_{VARIABLE}" in reason and "answers as written earn" in reason
            assert cell.evaluate("(c, n) => !!(c.compareDocumentPosition(n) & Node.DOCUMENT_POSITION_FOLLOWING)",
                                 note.element_handle())  # right below the cell that is scored
            wait_for(lambda: "needs_manual_grade" in (score.get_attribute("class") or ""),
                     "the flagged cell is not marked as needing a grade")

            # The grader enters a score on the flagged cell and a comment on the answer.
            score.fill(f"{decided:g}")
            score.press("Tab")
            comment = grader.locator(f"#answers_{VARIABLE}-comment")
            comment.fill("Your coding of the turns as written is what counts; well argued choices.")
            comment.press("Tab")
            wait_for(lambda: gradebook_state(course, FLAGGED)["manual"] == decided, "the score was not saved")
            after = gradebook_state(course, FLAGGED)
            assert not after["needs_manual"] and not after["flagged"], after
            wait_for(lambda: "needs_manual_grade" not in (score.get_attribute("class") or ""),
                     "the cell still shows as needing a grade")
            assert note.count() == 1  # the reason stays on the page for the record

            # Back in the list: no longer flagged, no longer needing a grade.
            grader.locator(f"a[href$='/gradebook/{EXERCISE}/{NOTEBOOK}']").first.click()
            row = grader.locator("tr", has=grader.locator(f"a[href$='/submissions/{before['id']}']"))
            row.locator(".score").wait_for(timeout=30_000)
            wait_for(lambda: row.locator(".score").inner_text().strip() != "", "the list did not load")
            assert row.locator(".flagged .glyphicon").count() == 0
            assert row.locator(".needs-manual-grade .glyphicon").count() == 0
        finally:
            page.close()
            shutdown_sessions(base, token)

    run_nbgrader(["generate_feedback", EXERCISE], cwd=course)
    feedback = course / "feedback" / FLAGGED / EXERCISE / f"{NOTEBOOK}.html"
    page_text = " ".join(html.unescape(feedback.read_text()).split())
    assert "well argued choices" in page_text
    assert f"Score: {decided:.1f} / {before['max']:.1f}" in page_text
    for text in GRADER_ONLY:
        assert text not in page_text, text
