"""A course of one's own, end to end, in a folder outside the repository (issue 13, must-show a and b).

An instructor runs `attune init`, writes content by hand (two transcripts, one item file, one scenario), keys and an
exercise list (including the shipped ex00 by id, or not), then every step runs with the real `attune` and nbgrader
command lines from inside the folder: validate, build, generate, release, fetch, submit, collect, grade (static and
executed), feedback, report. Throughout, the installed package is never written, and no key text reaches a
release, a feedback page or the package.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT
from own_course import (
    EXERCISES,
    ITEMS,
    KEY_MARKERS,
    KEY_REASONS,
    OWN_RUBRIC,
    TRANSCRIPT_AYO,
    TRANSCRIPT_JOAO,
    coding_key,
    rating_key,
    scenario,
)

pytestmark = pytest.mark.nbgrader

ATTUNE = [sys.executable, "-m", "autograder.cli"]
PACKAGES = ("course", "autograder")
TRAINEES = {"ana": "near-expert", "ben": "reflection-confuser", "chidi": "lenient"}
EXCHANGE = """
# A local exchange inside this folder, for the test (an instructor's would be /srv/nbgrader/exchange).
c.Exchange.root = os.path.join(c.CourseDirectory.root, "exchange")
c.Exchange.path_includes_course = False
c.ExchangeCollect.check_owner = False  # every trainee here is the one Unix user running the test
"""


def package_digest() -> dict[str, str]:
    """SHA-256 of every file of the installed packages (Python's own bytecode cache aside)."""
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()
            for name in PACKAGES for p in sorted((ROOT / name).rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def attune(*args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([*ATTUNE, *args], cwd=cwd, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if ok:
        assert done.returncode == 0, f"attune {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    from autograder.authoring.exercises import run_nbgrader

    return run_nbgrader(list(args), cwd=cwd)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_course(tmp: Path, *, own_rubric: bool, include: str) -> Path:
    """`attune init`, then the instructor's own content, keys and exercise list, written by hand."""
    attune("init", "my-course", "--course-id", "counselling-skills", "--include", include, cwd=tmp)
    course = tmp / "my-course"
    # The example that init made is replaced by the instructor's own material.
    (course / "content" / "transcripts" / "example-first-call.yaml").unlink()
    shutil.rmtree(course / "solutions" / "first-call")
    content = course / "content"
    write(content / "transcripts" / "joao-night-porter.yaml", TRANSCRIPT_JOAO)
    write(content / "transcripts" / "ayo-exam-resit.yaml", TRANSCRIPT_AYO)
    write(content / "items" / "first-replies.yaml", ITEMS)
    write(content / "scenarios" / "bea-returns-to-work.yaml", scenario(own_rubric))
    if own_rubric:
        write(content / "rubric.yaml", OWN_RUBRIC)
    keys = course / "solutions" / "week1" / "keys"
    for transcript in ("joao-night-porter", "ayo-exam-resit"):
        write(keys / f"{transcript}.yaml", coding_key(transcript, own_rubric))
    write(keys / "first-replies.yaml", rating_key(own_rubric))
    write(course / "solutions" / "exercises.yaml", EXERCISES.format(include=include))
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as handle:
        handle.write(EXCHANGE)
    return course


def trainees_submit(course: Path, exercise: str, seed: int) -> None:
    """Every trainee fetches the released exercise, answers it as their profile would, and submits it."""
    from autograder.demo import _exchange, answer_notebook
    from autograder.instructor.cohort import graded_parts
    from course.library import using

    rng = random.Random(seed)
    with using(course / "content"):
        parts = graded_parts(course / "solutions", exercise)
        for student, profile in TRAINEES.items():
            _exchange("fetch", course, exercise, student, "counselling-skills")
            for notebook in sorted((course / "home" / student / exercise).glob("*.ipynb")):
                answer_notebook(notebook, parts, profile, rng)
            _exchange("submit", course, exercise, student, "counselling-skills")


def texts_under(folder: Path) -> dict[str, str]:
    return {str(p): p.read_text(encoding="utf-8", errors="replace") for p in folder.rglob("*")
            if p.is_file() and p.suffix in (".ipynb", ".yaml", ".html", ".py", ".json", ".csv", ".txt", ".md")}


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leaks(folder: Path) -> list[str]:
    return [f"{path}: {marker}" for path, text in texts_under(folder).items() for marker in KEY_MARKERS
            if marker in text]


def run_course_flow(tmp: Path, *, own_rubric: bool, include: str) -> Path:
    course = make_course(tmp, own_rubric=own_rubric, include=include)
    exercises = ["ex00", "week1"] if include else ["week1"]
    validated = attune("validate", cwd=course)
    assert "ok  content/transcripts/joao-night-porter.yaml" in validated.stdout
    assert "ok  content/scenarios/bea-returns-to-work.yaml" in validated.stdout
    built = attune("build", cwd=course)
    assert all(f"built solutions/{e}/" in built.stdout for e in exercises), built.stdout
    attune("exercises", cwd=course)  # generated in a scratch copy of the course
    scratch_generated = files_under(course / "exercises")
    for exercise in exercises:  # nbgrader's own generate, in the course: it also enters the gradebook
        nbgrader("generate_assignment", exercise, "--force", cwd=course)
    assert files_under(course / "exercises") == scratch_generated, "exercises/ is what a fresh generate makes"
    released = course / "exercises" / "week1" / "content"
    # The trainee's copy carries the course's own content (and rubric), never a key.
    expected = {"transcripts/joao-night-porter.yaml", "transcripts/ayo-exam-resit.yaml", "items/first-replies.yaml"}
    expected |= {"rubric.yaml"} if own_rubric else set()
    assert {str(p.relative_to(released)) for p in released.rglob("*.yaml")} == expected
    assert not list((course / "exercises").rglob("keys"))
    for exercise in exercises:
        nbgrader("release_assignment", exercise, "--force", cwd=course)
        trainees_submit(course, exercise, seed=len(exercise))
        nbgrader("collect", exercise, cwd=course)
    return course


def grade_feedback_report(course: Path, exercises: list[str]) -> pd.DataFrame:
    for exercise in exercises:
        static = attune("grade", exercise, "--static", "--quiet", cwd=course)
        assert "3 graded" in static.stdout or "3 notebook" in static.stdout, static.stdout
        attune("grade", exercise, "--force", "--quiet", cwd=course)  # executed, in nbgrader's kernels
        compared = attune("grade", exercise, "--compare", cwd=course)
        assert "No differences." in compared.stdout, compared.stdout
        nbgrader("generate_feedback", exercise, cwd=course)
    attune("report", cwd=course)
    certified = attune("certify", cwd=course)  # no flag: the course's config names its gradebook and id
    assert all(student in certified.stdout for student in TRAINEES) and "trainees meet the thresholds" in \
        certified.stdout
    attune("export", cwd=course)
    assert sorted(pd.read_csv(course / "exports" / "totals.csv")["student_id"].unique()) == sorted(TRAINEES)
    return pd.read_csv(course / "report" / "trainees.csv")


@pytest.mark.parametrize("own_rubric", [False, True], ids=["shipped-rubric-with-ex00", "own-rubric-1-to-7"])
def test_a_course_of_ones_own_end_to_end(tmp_path: Path, own_rubric: bool) -> None:
    before = package_digest()
    include = "" if own_rubric else "ex00"
    course = run_course_flow(tmp_path, own_rubric=own_rubric, include=include)
    exercises = ["ex00", "week1"] if include else ["week1"]
    trainees = grade_feedback_report(course, exercises)

    # Every trainee is graded on every exercise, from the course's own content (the executed kernels found the
    # transcripts beside the notebook: no form cell failed).
    assert sorted(trainees["student"]) == sorted(TRAINEES)
    autograded = json.loads((course / "autograded" / "ana" / "week1" / "week-one.ipynb").read_text())
    form = next(c for c in autograded["cells"] if c.get("id") == "form-joao")
    assert form["outputs"] and not [o for o in form["outputs"] if o.get("output_type") == "error"], form["outputs"]
    feedback = next((course / "feedback" / "ana" / "week1").glob("*.html")).read_text()
    assert "Forty years we slept in the same bed" in feedback, "the feedback page shows the course's own transcript"

    # The report's agreement is on the rubric in force: its codes and its scale.
    confusion = pd.read_csv(course / "report" / "code-confusion.csv", index_col=0)
    codes = set(confusion.index) | set(confusion.columns)
    own_codes, shipped_codes = {"QO", "QC", "RF", "RD", "SU", "DI"}, {"OQ", "CQ", "SR", "CR", "AD", "VA", "AF"}
    assert codes & (own_codes if own_rubric else shipped_codes)
    assert not codes & (shipped_codes if own_rubric else own_codes)
    assert trainees["code_kappa"].notna().all() and trainees["rating_kappa"].notna().all()
    from autograder.instructor.cohort import cohort_table
    from course.library import using

    with using(course / "content"):
        table = cohort_table(course, ["week1"])
    levels = table.loc[table["label"] == "empathy level", "expected_num"]
    assert levels.max() == (7 if own_rubric else 5), "the rubric's scale reaches the cohort table"

    # No key text in what trainees get: not in the release or the exchange; in a feedback page only the reasons
    # of the items the trainee answered right (as for the shipped course); the package is untouched.
    for folder in ("exercises", "exchange"):
        found = [leak for leak in leaks(course / folder) if "/feedback/" not in leak]
        assert not found, found
    missed = table.groupby(["student", "part", "item"])["credit"].sum() < table.groupby(
        ["student", "part", "item"])["possible"].sum()
    shown_wrongly = []
    for (student, part, item), was_missed in missed.items():
        page = (course / "feedback" / student / "week1" / "week-one.html").read_text()
        if was_missed and KEY_REASONS[(part, item)] in page:
            shown_wrongly.append((student, part, item))
    assert missed.any() and not shown_wrongly, shown_wrongly
    assert leaks(course / "solutions"), "the keys are in the course's own solutions/ (the test would see a leak)"
    if own_rubric:  # the demo, run from inside the course: simulated coders that fit the course's rubric
        demo = attune("demo", "--trainees", "5", "--dest", str(tmp_path / "demo"), cwd=course)
        assert "Done in" in demo.stdout, demo.stdout
        demo_confusion = pd.read_csv(tmp_path / "demo" / "report" / "code-confusion.csv", index_col=0)
        assert (set(demo_confusion.index) | set(demo_confusion.columns)) - {"(none)"} <= own_codes  # (none): skipped
        assert not leaks(tmp_path / "demo" / "exercises")
    assert package_digest() == before, "the installed package was written"
    assert not leaks(ROOT / "course") and not leaks(ROOT / "autograder")


def test_an_id_defined_twice_and_a_foreign_key_are_clear_errors(tmp_path: Path) -> None:
    course = make_course(tmp_path, own_rubric=False, include="")
    write(course / "content" / "transcripts" / "amira-night-shifts.yaml",
          TRANSCRIPT_JOAO.replace("id: joao-night-porter", "id: amira-night-shifts"))
    done = attune("validate", cwd=course, ok=False)
    assert done.returncode == 1
    assert "'amira-night-shifts' is defined twice" in done.stderr and "content/transcripts" in done.stderr
    (course / "content" / "transcripts" / "amira-night-shifts.yaml").unlink()

    # A course with its own rubric cannot include an exercise keyed with the shipped one.
    write(course / "content" / "rubric.yaml", OWN_RUBRIC)
    write(course / "solutions" / "exercises.yaml", EXERCISES.format(include="ex00"))
    done = attune("build", "ex00", cwd=course, ok=False)
    assert done.returncode == 1
    assert "hoang-caring-for-lan.yaml: " in done.stderr and "is not in the rubric in force (QO, QC, RF, RD, SU, DI)" \
        in done.stderr
    assert not (course / "solutions" / "ex00").exists(), "nothing was written"
