"""Must-show (c): a course whose nbgrader_config.py names a PostgreSQL gradebook and another course id:
`attune report`, `certify` and `export` work with no flag (they read the same configuration as `attune grade`
and nbgrader), and a wrong --course-id fails loudly."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import ROOT
from postgres import postgres_url  # noqa: F401  (a fixture: see tests/postgres.py)

from autograder.authoring.exercises import nbgrader_env, run_nbgrader

pytestmark = pytest.mark.nbgrader

COURSE_ID = "counselling-2027"
EXERCISE = "ex01"
TRAINEES = {"trainee-001": "near-expert", "trainee-002": "lenient", "trainee-003": "careless"}
ATTUNE = [str(Path(sys.executable).parent / "attune")]


def attune(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*ATTUNE, *args], cwd=cwd, env=nbgrader_env(), capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def graded(postgres_url: str, tmp_path_factory) -> Path:  # noqa: F811
    """A course folder graded into PostgreSQL: its config names the gradebook and the course id, nothing else
    does (no flag anywhere, no gradebook.db)."""
    from autograder.demo import answer_notebook
    from autograder.instructor.cohort import graded_parts

    course = tmp_path_factory.mktemp("pg-course") / "counselling"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(
        (ROOT / "nbgrader_config.py").read_text()
        + f"\nc.CourseDirectory.db_url = {postgres_url!r}\nc.CourseDirectory.course_id = {COURSE_ID!r}\n")
    shutil.copytree(ROOT / "solutions" / EXERCISE, course / "solutions" / EXERCISE,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    run_nbgrader(["generate_assignment", EXERCISE, "--force"], cwd=course)
    parts = graded_parts(course / "solutions", EXERCISE)
    rng = random.Random(7)
    for student, profile in TRAINEES.items():
        submitted = course / "submitted" / student / EXERCISE
        shutil.copytree(course / "exercises" / EXERCISE, submitted)
        for notebook in submitted.glob("*.ipynb"):
            answer_notebook(notebook, parts, profile, rng)
    done = attune("grade", EXERCISE, "--static", "--quiet", cwd=course)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Graded {len(TRAINEES)} submission(s)" in done.stdout
    assert not (course / "gradebook.db").exists()  # everything went to PostgreSQL
    return course


def recorded_totals(url: str) -> dict[str, float]:
    """Each trainee's total on the exercise, straight from nbgrader's tables in PostgreSQL."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT st.id, SUM(COALESCE(g.manual_score, g.auto_score, 0) + COALESCE(g.extra_credit, 0)) "
                "FROM grade g JOIN submitted_notebook sn ON g.notebook_id = sn.id "
                "JOIN submitted_assignment sa ON sn.assignment_id = sa.id JOIN assignment a ON sa.assignment_id = a.id "
                "JOIN student st ON sa.student_id = st.id WHERE a.name = :ex AND a.course_id = :course "
                "GROUP BY st.id"), {"ex": EXERCISE, "course": COURSE_ID}).all()
    finally:
        engine.dispose()
    return {student: float(total) for student, total in rows}


def test_report_certify_and_export_read_the_configured_postgresql_gradebook(graded: Path,
                                                                            postgres_url: str) -> None:  # noqa: F811
    expected = recorded_totals(postgres_url)
    assert set(expected) == set(TRAINEES) and len(set(expected.values())) > 1  # the profiles score differently

    done = attune("report", "--no-feedback", cwd=graded)
    assert done.returncode == 0, done.stdout + done.stderr
    totals = pd.read_csv(graded / "report" / "totals.csv")
    assert dict(zip(totals["student_id"], totals["score"], strict=True)) == pytest.approx(expected)
    html = (graded / "report" / "report.html").read_text()
    assert all(student in html for student in TRAINEES)

    done = attune("certify", "--out", str(graded / "certified.csv"), cwd=graded)
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(student in done.stdout for student in TRAINEES)
    assert f"of {len(TRAINEES)} trainees meet the thresholds" in done.stdout
    assert set(pd.read_csv(graded / "certified.csv")["student"]) == set(TRAINEES)

    done = attune("export", cwd=graded)
    assert done.returncode == 0, done.stdout + done.stderr
    exported = pd.read_csv(graded / "exports" / "totals.csv")
    assert dict(zip(exported["student_id"], exported["score"], strict=True)) == pytest.approx(expected)
    canvas = pd.read_csv(graded / "exports" / "canvas-gradebook.csv")
    assert set(canvas["SIS User ID"].dropna()) == set(TRAINEES)  # (its first row is "Points Possible")
    assert not (graded / "gradebook.db").exists()  # no command fell back to a SQLite file


@pytest.mark.parametrize("verb", ["report", "certify", "export", "grade"])
def test_a_wrong_course_id_fails_loudly_and_changes_nothing(graded: Path, postgres_url: str,  # noqa: F811
                                                            verb: str) -> None:
    args = [EXERCISE, "--static", "--quiet"] if verb == "grade" else ["--out", str(graded / "wrong")]
    done = attune(verb, *args, "--course-id", "attune", cwd=graded)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert f"no course 'attune' (it has: {COURSE_ID!r}" in done.stderr, done.stderr
    assert str(graded / "nbgrader_config.py") in done.stderr and "--course-id" in done.stderr
    assert not (graded / "wrong").exists()
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:  # nbgrader's Gradebook would have added the course: it was never opened
            assert "attune" not in conn.execute(sa.text("SELECT id FROM course")).scalars().all()
    finally:
        engine.dispose()


def test_the_configured_postgresql_gradebook_is_named_with_its_password_masked(graded: Path) -> None:
    config = (graded / "nbgrader_config.py").read_text()
    wrong = graded.parent / "wrong-password"
    wrong.mkdir()
    (wrong / "solutions").mkdir()
    (wrong / "nbgrader_config.py").write_text(
        config + '\nc.CourseDirectory.db_url = "postgresql+psycopg://grader:s3cret@127.0.0.1:1/attune"\n')
    done = attune("report", cwd=wrong)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "cannot open the gradebook postgresql+psycopg://grader:***@127.0.0.1:1/attune" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout and str(wrong) in done.stderr
