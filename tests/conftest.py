"""Shared fixtures: a scratch course folder driven by the real nbgrader command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autograder.authoring.exercises import run_nbgrader
from autograder.core.literals import reference_in_notebook

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "ex01"
NOTEBOOK = "hearing-the-concern.ipynb"
PART, VARIABLE, SCORE_CELL = "amira-night-shifts", "amira", "score_amira"  # the first part of ex01


@pytest.fixture(autouse=True)
def fresh_kernel_state(monkeypatch):
    """Widgets built inside the test process share what a kernel keeps (its live widgets, what it learnt about
    its notebook app); every test starts as a fresh kernel would, so one test's widgets never carry into
    another's."""
    from course.widgets import recorder

    monkeypatch.setattr(recorder, "_FRONTEND", {"applies_rewrites": False})
    monkeypatch.setattr(recorder, "_LIVE_WIDGETS", {})
    monkeypatch.setattr(recorder, "_BY_VARIABLE", {})


@pytest.fixture(autouse=True)
def shipped_content_only(monkeypatch):
    """Content comes from the shipped curriculum unless a test chooses otherwise: `attune` commands run in a test
    process (main([...])) choose their course's content folders for the rest of the process."""
    from course import library

    monkeypatch.setattr(library, "_chosen", None)


def make_course(tmp: Path) -> Path:
    """A scratch course folder: our nbgrader_config.py and solutions/, nothing else."""
    course = tmp / "course-root"
    course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions", course / "solutions",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return course


@pytest.fixture(scope="session")
def reference() -> dict:
    nb = json.loads((ROOT / "solutions" / ASSIGNMENT / NOTEBOOK).read_text())
    found = reference_in_notebook(nb, SCORE_CELL)
    assert found.problem is None, found.problem
    return found.value


def autograded_score(course: Path, assignment: str, notebook: Path, student: str, score_cell: str) -> float:
    """Submit exactly this notebook file as ``student`` and grade it with the real `nbgrader autograde`; the
    score its test cell ``score_cell`` got."""
    from nbgrader.api import Gradebook

    submitted = course / "submitted" / student / assignment
    submitted.mkdir(parents=True)
    shutil.copy2(notebook, submitted / notebook.name)
    run_nbgrader(["generate_assignment", assignment, "--force"], cwd=course)
    run_nbgrader(["autograde", assignment, "--create"], cwd=course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="attune") as gb:
        return gb.find_grade(score_cell, notebook.stem, assignment, student).auto_score


@pytest.fixture(scope="session")
def nbgrader():
    return run_nbgrader


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by Playwright (see tests/labdriver.py), one per test module; browser
    tests skip without it, and fail in CI."""
    from labdriver import chromium

    with chromium() as browser:
        yield browser


@pytest.fixture(autouse=True, scope="session")
def practice_history_in_a_scratch_file(tmp_path_factory):
    """Kernels started by the tests (they inherit this environment) keep their practice history in a scratch file,
    never in the Jupyter data folder of whoever runs the tests (a test that reads the history sets its own)."""
    import os

    path = tmp_path_factory.mktemp("practice") / "practice.sqlite3"
    before = os.environ.get("ATTUNE_PRACTICE_DB")
    os.environ["ATTUNE_PRACTICE_DB"] = str(path)
    yield path
    if before is None:
        os.environ.pop("ATTUNE_PRACTICE_DB", None)
    else:
        os.environ["ATTUNE_PRACTICE_DB"] = before
