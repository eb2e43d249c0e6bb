"""`attune grade` at scale, with the real nbgrader command line and real processes: sharded over local processes,
killed half-way and run again, on a Dask cluster, and with the gradebook on PostgreSQL.

Every run grades the same simulated submissions of ex00 (the smallest exercise) in its own identical copy of one
course folder; the grades a plain sequential run records (`--workers 1`, SQLite) are the expected ones, and every
other run must record exactly those, with one submission row per trainee and one grade row per grade cell.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa
from conftest import ROOT, make_course
from postgres import postgres_url  # noqa: F401  (a fixture: see tests/postgres.py)

from autograder.adapters.config import CourseConfig
from autograder.authoring.exercises import nbgrader_env, run_nbgrader
from autograder.orchestration.executed import is_complete

pytestmark = pytest.mark.nbgrader
ASSIGNMENT = "ex00"
SUBMISSIONS = 12
TIMEOUT = 600  # seconds for one `attune grade` run (12 notebooks take ~20 s on 2 cores)

GradeKey = tuple[str, str, str]  # student, notebook, grade cell
GradeValue = tuple[float | None, bool, float]  # auto_score, needs_manual_grade, max_score


def _grading_bench():
    spec = importlib.util.spec_from_file_location("grading_bench", ROOT / "benchmarks" / "grading_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", autouse=True)
def _bin_on_path():
    # nbgrader's Gradebook may start `alembic`: this Python's bin/ must be on PATH in this process too.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", nbgrader_env()["PATH"])
        yield


@pytest.fixture(scope="module")
def base_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course folder with ex00 generated (SQLite gradebook) and SUBMISSIONS simulated submissions; never graded:
    each test grades its own copy."""
    course = make_course(tmp_path_factory.mktemp("scale-base"))
    _grading_bench().make_cohort(course, ASSIGNMENT, SUBMISSIONS)
    return course


def copy_course(base: Path, dest: Path) -> Path:
    shutil.copytree(base, dest)
    return dest


def attune_grade(course: Path, *options: str) -> subprocess.CompletedProcess:
    """`attune grade ex00 ...` in the course folder, as an instructor would run it; it must succeed."""
    command = [sys.executable, "-m", "autograder.cli", "grade", ASSIGNMENT, "--course", str(course), "--quiet",
               *options]
    done = subprocess.run(command, cwd=course, env=nbgrader_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, f"`attune grade {' '.join(options)}` failed:\n{done.stdout}\n{done.stderr}"
    assert "nbgrader reported errors" not in done.stdout, done.stdout + _shard_logs(course)
    return done


def _shard_logs(course: Path) -> str:
    return "".join(f"\n--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                   for p in sorted((course / "grading-logs").glob("*.log")))


def sqlite_url(course: Path) -> str:
    return f"sqlite:///{course / 'gradebook.db'}"


def students_of(course: Path) -> list[str]:
    return CourseConfig.load(course).students(ASSIGNMENT)


def gradebook_grades(db_url: str, students: list[str]) -> dict[GradeKey, GradeValue]:
    """Every grade row of ex00, after checking that each trainee has exactly one submission row and each grade
    cell of each submitted notebook exactly one grade row (no duplicate, none missing, no stranger)."""
    from nbgrader.api import Gradebook, SubmittedAssignment

    with Gradebook(db_url, course_id="attune") as gb:
        assignment = gb.find_assignment(ASSIGNMENT)
        cells = [(nb.name, cell.name) for nb in assignment.notebooks for cell in nb.grade_cells]
        submitted = Counter(student for (student,) in gb.db.query(SubmittedAssignment.student_id)
                            .filter(SubmittedAssignment.assignment_id == assignment.id))
        rows = [((submission.student.id, notebook.name, grade.name),
                 (grade.auto_score, bool(grade.needs_manual_grade), grade.max_score))
                for submission in gb.assignment_submissions(ASSIGNMENT)
                for notebook in submission.notebooks for grade in notebook.grades]
    assert cells, "ex00 has no grade cells in the gradebook"
    assert submitted == Counter(students), "submission rows per trainee differ from one each"
    keys = Counter(key for key, _ in rows)
    duplicated = sorted(k for k, n in keys.items() if n > 1)
    expected = {(student, notebook, cell) for student in students for notebook, cell in cells}
    missing, extra = sorted(expected - set(keys)), sorted(set(keys) - expected)
    assert not (duplicated or missing or extra), f"duplicated {duplicated}, missing {missing}, unexpected {extra}"
    return dict(rows)


def assert_all_complete(course: Path, students: list[str]) -> None:
    notebooks = [p.stem for p in (course / "exercises" / ASSIGNMENT).glob("*.ipynb")]
    loaded = CourseConfig.load(course)
    unfinished = [s for s in students if not is_complete(loaded, ASSIGNMENT, s, notebooks, "executed")]
    assert not unfinished, f"not graded: {unfinished}"


@pytest.fixture(scope="module")
def sequential(base_course: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[GradeKey, GradeValue]:
    """The expected grades: one plain `nbgrader autograde` run over every submission (`--workers 1`), SQLite."""
    course = copy_course(base_course, tmp_path_factory.mktemp("scale-sequential") / "course")
    done = attune_grade(course, "--workers", "1")
    assert f"Autograded {SUBMISSIONS} of {SUBMISSIONS} submission(s) in 1 nbgrader run(s)" in done.stdout
    students = students_of(course)
    assert len(students) == SUBMISSIONS
    assert_all_complete(course, students)
    grades = gradebook_grades(sqlite_url(course), students)
    scores = {value[0] for value in grades.values()}
    assert None not in scores and len(scores) > 1, f"expected varied auto scores, got {scores}"
    return grades


def test_four_workers_record_the_sequential_grades(base_course, sequential, tmp_path):
    """Four nbgrader processes on one SQLite gradebook record exactly what one process records."""
    course = copy_course(base_course, tmp_path / "course")
    done = attune_grade(course, "--workers", "4")
    assert f"Autograded {SUBMISSIONS} of {SUBMISSIONS} submission(s) in 4 nbgrader run(s)" in done.stdout
    students = students_of(course)
    assert_all_complete(course, students)
    assert gradebook_grades(sqlite_url(course), students) == sequential


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _command(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _describe(processes: list[psutil.Process]) -> list[str]:
    found = []
    for process in processes:
        try:
            found.append(f"{process.pid} (parent {process.ppid()}, {process.status()}, in {process.cwd()}): "
                         f"{' '.join(process.cmdline())}")
        except psutil.Error as err:
            found.append(f"{process.pid}: {err!r}")
    return found


def _running_in(folder: Path) -> list[psutil.Process]:
    """Live processes whose working directory is in ``folder`` (nbgrader runs in the course folder, its kernels
    in autograded/<student>/<assignment>/)."""
    found = []
    for process in psutil.process_iter(["cwd"]):
        cwd = process.info.get("cwd")
        if cwd and Path(cwd).is_relative_to(folder) and _alive(process):
            found.append(process)
    return found


def test_running_again_completes_a_killed_run_and_grades_a_resubmission(base_course, sequential, tmp_path):
    """`attune grade --workers 2` killed (SIGKILL to its process group) half-way leaves no process behind; the same
    command again grades exactly the unfinished submissions, and the gradebook ends as after a sequential run."""
    course = copy_course(base_course, tmp_path / "course")
    students = students_of(course)
    notebooks = [p.stem for p in (course / "exercises" / ASSIGNMENT).glob("*.ipynb")]
    command = [sys.executable, "-m", "autograder.cli", "grade", ASSIGNMENT, "--course", str(course), "--quiet",
               "--workers", "2"]
    loaded = CourseConfig.load(course)

    def graded() -> int:
        return sum(is_complete(loaded, ASSIGNMENT, s, notebooks, "executed") for s in students)

    with (tmp_path / "first-run.log").open("w") as log:
        process = subprocess.Popen(command, cwd=course, env=nbgrader_env(), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        # Kill it once a submission is graded and while a kernel runs one (kernels spend most of the time running).
        deadline = time.monotonic() + TIMEOUT
        while True:
            assert process.poll() is None, "attune grade ended before it could be killed half-way"
            assert time.monotonic() < deadline, "no submission graded in time"
            family = psutil.Process(process.pid).children(recursive=True)
            commands = [" ".join(_command(p)) for p in family]
            if any("ipykernel" in c for c in commands) and graded() > 0:
                break
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGKILL)  # attune and its nbgrader processes (kernels have their own session)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert any("nbgrader autograde" in c for c in commands), f"killed before nbgrader ran: {commands}"

    # Everything it started ends: nbgrader by the signal, the kernels when they see their parent gone.
    deadline = time.monotonic() + 20
    while (left := [p for p in family if _alive(p)] + _running_in(course)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"still running after the kill: {_describe(left)}"

    finished = graded()
    assert 0 < finished < len(students), f"{finished} of {len(students)} graded when killed: not half-way"

    done = attune_grade(course, "--workers", "2")
    assert f"Autograded {len(students) - finished} of {len(students)}" in done.stdout, done.stdout
    assert f"({finished} were already graded)" in done.stdout, done.stdout
    assert_all_complete(course, students)
    assert gradebook_grades(sqlite_url(course), students) == sequential
    deadline = time.monotonic() + 20
    while (left := _running_in(course)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"still running after the second run: {_describe(left)}"

    # Running it again after a trainee resubmitted (newer timestamp.txt, as nbgrader collect writes it) grades that
    # submission again, as plain `nbgrader autograde` would, and skips every other one.
    def scores(student: str) -> dict[tuple[str, str], GradeValue]:
        return {(nb, cell): value for (s, nb, cell), value in sequential.items() if s == student}

    first = students[0]
    other = next(s for s in students if scores(s) != scores(first))
    folder = course / "submitted" / first / ASSIGNMENT
    for path in (course / "submitted" / other / ASSIGNMENT).glob("*.ipynb"):
        shutil.copyfile(path, folder / path.name)
    (folder / "timestamp.txt").write_text("2026-11-21 09:00:00.000000 UTC\n")

    done = attune_grade(course, "--workers", "2")
    assert f"Autograded 1 of {len(students)} submission(s) in 1 nbgrader run(s)" in done.stdout, done.stdout
    assert_all_complete(course, students)
    expected = {key: value for key, value in sequential.items() if key[0] != first}
    expected |= {(first, nb, cell): value for (nb, cell), value in scores(other).items()}
    assert gradebook_grades(sqlite_url(course), students) == expected


def test_stopping_attune_grade_alone_stops_its_shards(base_course, tmp_path):
    """SIGTERM to `attune grade` only (as a job scheduler sends it) stops its nbgrader processes and their kernels
    too, so a second run started afterwards never races with leftovers of the first."""
    course = copy_course(base_course, tmp_path / "course")
    command = [sys.executable, "-m", "autograder.cli", "grade", ASSIGNMENT, "--course", str(course), "--quiet",
               "--workers", "2"]
    process = subprocess.Popen(command, cwd=course, env=nbgrader_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not any("ipykernel" in " ".join(_command(p)) for p in psutil.Process(process.pid).children(True)):
            assert process.poll() is None and time.monotonic() < deadline, "no kernel started in time"
            time.sleep(0.1)
        os.kill(process.pid, signal.SIGTERM)  # attune alone, not its process group
        assert process.wait(timeout=30) != 0
        # Kernels notice within a few seconds that their nbgrader is gone; the shards would run on for longer.
        deadline = time.monotonic() + 6
        while (left := _running_in(course)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"still running after attune grade was stopped: {_describe(left)}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        for leftover in _running_in(course):
            leftover.kill()


def test_dask_cluster_records_the_sequential_grades(base_course, sequential, tmp_path):
    """The shards run as tasks on a local Dask cluster (two worker processes) and record the sequential grades."""
    from dask.distributed import LocalCluster

    course = copy_course(base_course, tmp_path / "course")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        done = attune_grade(course, "--scheduler", cluster.scheduler_address)
        shards = int(re.search(r"in (\d+) nbgrader run\(s\)", done.stdout).group(1))
        ran = cluster.scheduler.task_prefixes.get("run_shard")
        assert ran is not None and ran.all_durations["compute"] > 0, "no shard ran on the cluster"
    assert shards > 1, done.stdout
    students = students_of(course)
    assert_all_complete(course, students)
    assert gradebook_grades(sqlite_url(course), students) == sequential


def test_postgres_executed_and_static_grades_feedback_and_export(base_course, sequential, postgres_url,  # noqa: F811
                                                                 tmp_path):
    """The gradebook on PostgreSQL: executed (`--workers 4`) and static grading, each on its own database, record
    the sequential SQLite grades; nbgrader's feedback and export work from there."""
    executed_url = postgres_url
    static_url = sa.make_url(postgres_url).set(database="attune_static").render_as_string(hide_password=False)
    admin = sa.create_engine(sa.make_url(postgres_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text('CREATE DATABASE "attune_static"'))
    finally:
        admin.dispose()

    courses = {}
    for name, url in (("executed", executed_url), ("static", static_url)):
        course = copy_course(base_course, tmp_path / name)
        (course / "gradebook.db").unlink()  # nothing below may fall back to the course's SQLite file
        run_nbgrader(["generate_assignment", ASSIGNMENT, "--force", f"--db={url}"], cwd=course)
        courses[name] = course

    done = attune_grade(courses["executed"], "--workers", "4", "--db", executed_url)
    assert f"Autograded {SUBMISSIONS} of {SUBMISSIONS} submission(s) in 4 nbgrader run(s)" in done.stdout
    done = attune_grade(courses["static"], "--static", "--db", static_url)
    assert f"Graded {SUBMISSIONS} submission(s)" in done.stdout, done.stdout

    students = students_of(courses["executed"])
    assert_all_complete(courses["executed"], students)
    executed = gradebook_grades(executed_url, students)
    static = gradebook_grades(static_url, students)
    assert executed == sequential
    assert static == sequential

    totals = Counter()
    possible = Counter()
    for (student, _notebook, _cell), (score, _manual, max_score) in sequential.items():
        totals[student] += score or 0.0
        possible[student] += max_score
    notebooks = [p.stem for p in (courses["executed"] / "exercises" / ASSIGNMENT).glob("*.ipynb")]
    for name, url in (("executed", executed_url), ("static", static_url)):
        course = courses[name]
        run_nbgrader(["generate_feedback", ASSIGNMENT, f"--db={url}"], cwd=course)
        missing = [f"{s}/{nb}.html" for s in students for nb in notebooks
                   if not (course / "feedback" / s / ASSIGNMENT / f"{nb}.html").is_file()]
        assert not missing, f"{name}: no feedback for {missing}"
        run_nbgrader(["export", f"--db={url}", "--to", str(course / "grades.csv")], cwd=course)
        with (course / "grades.csv").open(newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["assignment"] == ASSIGNMENT]
        assert sorted(r["student_id"] for r in rows) == students, name
        for row in rows:
            assert float(row["score"]) == pytest.approx(totals[row["student_id"]]), (name, row)
            assert float(row["max_score"]) == pytest.approx(possible[row["student_id"]]), (name, row)
        assert not (course / "gradebook.db").exists(), f"{name}: something wrote the course's SQLite gradebook"
