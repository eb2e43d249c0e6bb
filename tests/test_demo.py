"""`attune demo`, the instructor's main job, end to end through the real nbgrader steps."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

pytestmark = pytest.mark.nbgrader


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, str]:
    dest = tmp_path_factory.mktemp("demo") / "attune-demo"
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "demo", "--trainees", "10", "--exercises", "ex01",
                           "--dest", str(dest)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return dest, done.stdout


def test_demo_says_where_everything_is(demo):
    dest, output = demo
    for name in ("report/report.html", "report/trainees.csv", "report/canvas-gradebook.csv", "report/totals.csv",
                 "nbgrader-grades.csv", "gradebook.db", "roster.csv"):
        assert (dest / name).is_file(), name
        assert Path(name).name in output
    assert "autograde ex01" in output  # the progress bar of the long step


def test_report_recovers_the_simulated_profiles(demo):
    dest, _ = demo
    profiles = {r["student"]: r["simulated_profile"] for r in csv.DictReader((dest / "roster.csv").open())}
    summary = pd.read_csv(dest / "report" / "trainees.csv", index_col="student")
    lean = summary["leniency"]
    assert all(lean[s] > 0.2 for s, p in profiles.items() if p == "lenient")
    assert all(lean[s] < -0.2 for s, p in profiles.items() if p == "severe")
    experts = [s for s, p in profiles.items() if p == "near-expert"]
    careless = [s for s, p in profiles.items() if p == "careless"]
    assert summary.loc[experts, "code_kappa"].min() > summary.loc[careless, "code_kappa"].max()
    # The reflection-confuser shows in the confusion matrix: reflections coded as the other kind.
    from autograder.instructor.analytics import code_confusion
    from autograder.instructor.cohort import cohort_table

    confuser = [s for s, p in profiles.items() if p == "reflection-confuser"]
    table = cohort_table(dest, ["ex01"])
    matrix = code_confusion(table[table["student"].isin(confuser)])
    swapped = matrix.loc["SR"].get("CR", 0) + matrix.loc["CR"].get("SR", 0)
    kept = matrix.loc["SR"].get("SR", 0) + matrix.loc["CR"].get("CR", 0)
    assert swapped > kept


def test_grades_in_the_report_are_the_gradebooks(demo):
    dest, _ = demo
    exported = pd.read_csv(dest / "nbgrader-grades.csv")
    totals = pd.read_csv(dest / "report" / "totals.csv")
    merged = totals.merge(exported, on=["student_id", "assignment"])
    assert len(merged) == 10
    assert (merged["score_x"] - merged["score_y"]).abs().max() < 1e-9


def test_feedback_shows_rationales_and_never_the_hidden_tests(demo):
    dest, _ = demo
    released = sorted((dest / "feedback").rglob("*.html"))
    assert len(released) == 10
    for page in released:
        text = page.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and "REFERENCE = {" not in text and "grade(globals()" not in text
    debriefs = sorted((dest / "report" / "feedback").glob("*.html"))
    assert len(debriefs) == 10
    assert "Starts with &#x27;What&#x27;" in debriefs[0].read_text() or "Starts with 'What'" in debriefs[0].read_text()


def test_a_notebook_that_cannot_be_read_is_named_in_the_cohort_table_and_nothing_else_changes(demo, tmp_path):
    import shutil

    from autograder.instructor.cohort import cohort_table

    dest, _ = demo
    copy = tmp_path / "course"
    shutil.copytree(dest, copy)
    before = cohort_table(copy, ["ex01"])
    broken = next((copy / "autograded").glob("*/ex01/*.ipynb"))
    student = broken.parts[-3]
    broken.write_text("{ not json")
    after = cohort_table(copy, ["ex01"])
    mine = after[after["student"] == student]
    assert (mine["credit"] == 0).all()
    problems = mine["problem"].astype(str)
    assert problems.str.contains(broken.name).all() and problems.str.contains("cannot be read").all()
    others = after["student"] != student
    assert after[others]["credit"].tolist() == before[before["student"] != student]["credit"].tolist()


def test_static_and_executed_grades_are_identical_on_every_cell_of_the_demo_cohort(demo, tmp_path):
    """Must-show: the demo's executed autograde (nbgrader, the project's config) and `attune grade --static` of
    the same submissions in a copy give the same score on every graded cell, and the executed test cells agree
    with the answers as written everywhere (the cross-check finds nothing)."""
    import shutil

    from autograder.authoring.exercises import run_nbgrader
    from autograder.instructor.cohort import gradebook_scores, review_flags

    dest, output = demo
    assert "attune grade ex01 --compare: 10 notebooks, 0 cell(s)" in output
    assert review_flags(dest).empty
    static = tmp_path / "static-copy"
    # A fresh gradebook that knows the exercise and nothing else: static grading creates every row itself.
    shutil.copytree(dest, static, ignore=shutil.ignore_patterns("autograded", "feedback", "report", "gradebook.db"))
    run_nbgrader(["generate_assignment", "ex01", "--force"], cwd=static)
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", "ex01", "--static", "--quiet",
                           "--course", str(static)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Graded 10 submission(s), 10 notebook(s), statically" in done.stdout
    columns = ["student", "assignment", "notebook", "cell", "auto", "max_score", "needs_manual"]
    executed = gradebook_scores(dest)[columns].sort_values(columns[:4]).reset_index(drop=True)
    statically = gradebook_scores(static)[columns].sort_values(columns[:4]).reset_index(drop=True)
    assert len(executed) == 10 * 6  # 10 trainees x (3 rubric cells + 3 format checks)
    pd.testing.assert_frame_equal(executed, statically)
    # Feedback from static grading reads like the executed one: the transcript where the form was, the score.
    run_nbgrader(["generate_feedback", "ex01"], cwd=static)
    page = next((static / "feedback").rglob("*.html")).read_text()
    assert "It&#x27;s the sleep, mostly." in page or "It's the sleep, mostly." in page
    assert "Score:" in page and "BEGIN HIDDEN TESTS" not in page
    compared = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", "ex01", "--compare", "--course",
                               str(dest)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert compared.returncode == 0 and "No differences." in compared.stdout, compared.stdout
    # The autograded files carry nbgrader's permissions (read-only) both ways; so static grading must replace,
    # not overwrite, what an executed run left (as an instructor who is not root, writing would fail).
    def modes(root):
        return {p.relative_to(root / "autograded"): p.stat().st_mode & 0o777
                for p in (root / "autograded").rglob("*") if p.is_file()}

    assert modes(static) == modes(dest) and set(modes(dest).values()) == {0o444}
