"""LMS downloads: a Canvas-style zip through `nbgrader zip_collect` ends in the same grades as the exchange."""

from __future__ import annotations

import json
import random
import zipfile

import pytest
from conftest import ROOT

from autograder.authoring.exercises import run_nbgrader
from autograder.demo import _exchange, answer_notebook, prepare_course
from autograder.instructor.cohort import gradebook_scores, graded_parts

pytestmark = pytest.mark.nbgrader
EXERCISE = "ex00"
TRAINEES = {"smithjane": "near-expert", "okafornneka": "lenient", "leeminjun": "careless"}
CANVAS_IDS = {"smithjane": (1201, 88101), "okafornneka": (1202, 88102), "leeminjun": (1203, 88103)}


def recorded(root) -> dict:
    scores = gradebook_scores(root)
    return {(r.student, r.cell): (r.auto, r.score) for r in scores.itertuples()}


def test_zip_collect_of_canvas_downloads_grades_like_the_exchange(tmp_path):
    # One set of answers, written once, submitted both ways.
    exchange = prepare_course(ROOT, tmp_path / "exchange-course", [EXERCISE], force=False)
    run_nbgrader(["generate_assignment", EXERCISE, "--force"], cwd=exchange)
    run_nbgrader(["release_assignment", EXERCISE, "--force"], cwd=exchange)
    parts = graded_parts(exchange / "solutions", EXERCISE)
    rng = random.Random(11)
    answered = {}
    for student, profile in TRAINEES.items():
        _exchange("fetch", exchange, EXERCISE, student)
        for notebook in (exchange / "home" / student / EXERCISE).glob("*.ipynb"):
            answer_notebook(notebook, parts, profile, rng)
            answered[student, notebook.name] = notebook.read_text()
        _exchange("submit", exchange, EXERCISE, student)
    run_nbgrader(["collect", EXERCISE], cwd=exchange)
    run_nbgrader(["autograde", EXERCISE], cwd=exchange)

    lms = prepare_course(ROOT, tmp_path / "lms-course", [EXERCISE], force=False)
    run_nbgrader(["generate_assignment", EXERCISE, "--force"], cwd=lms)
    archive = lms / "downloaded" / EXERCISE / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "submissions.zip", "w") as bundle:
        for (student, name), text in answered.items():
            user, submission = CANVAS_IDS[student]
            late = "LATE_" if student == "leeminjun" else ""
            bundle.writestr(f"{student}_{late}{user}_{submission}_{name}", text)
    run_nbgrader(["zip_collect", EXERCISE], cwd=lms)
    assert sorted(p.name for p in (lms / "submitted").iterdir()) == sorted(TRAINEES)
    run_nbgrader(["autograde", EXERCISE, "--create"], cwd=lms)

    via_exchange, via_zip = recorded(exchange), recorded(lms)
    assert via_exchange and via_zip == via_exchange
    scores = {student: sum(v[0] or 0 for (s, _), v in via_zip.items() if s == student) for student in TRAINEES}
    assert len(set(scores.values())) > 1, "the three profiles should not all score the same"
    assert json.loads(answered["smithjane", "start-here.ipynb"])["cells"]
