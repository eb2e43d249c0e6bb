"""`attune grade`: grading a cohort's submissions into nbgrader's gradebook.

Three ways, one system of record (the gradebook, so formgrader, feedback and export work unchanged):

* static (``--static``): read every submitted notebook, score the answers as written, write the grades and the
  autograded notebooks. Nothing the trainee wrote runs.
* executed (the default): plain ``nbgrader autograde``, sharded over local processes (``--workers``) or a Dask
  cluster (``--scheduler``). The project's nbgrader_config.py adds Attune's steps, so the score recorded for a
  rubric part is still the static one, with the executed score kept beside it.
* ``--compare``: list every rubric cell whose executed score differs from its static score, and flag those
  submissions for review (formgrader shows them as needing grading, with a comment on the answer cell).
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from autograder.adapters.config import CourseConfig
from autograder.adapters.gradebook import (
    GradebookWriter,
    SubmissionGrades,
    exercise_notebooks,
    flag,
    open_gradebook,
    register_students,
    submitted_students,
)
from autograder.static.notebooks import (
    RECORDED_LOG,
    Difference,
    ExerciseNotebook,
    differences,
    grade_notebook,
    record,
    recorded,
    sanitise,
)
from course.errors import AttuneError


# -- reading a submission -------------------------------------------------------------------------------------
def read_submitted(path: Path) -> tuple[dict | None, str | None]:
    """A submitted notebook as a v4 dict, or None and why not (in words a trainee can act on)."""
    if not path.is_file():
        return None, f"no {path.name} was submitted"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return None, f"{path.name} cannot be read ({err})"
    if not text.strip():
        return None, f"{path.name} is empty (0 bytes of notebook)"
    try:
        nb = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        return None, f"{path.name} is not a valid notebook file (broken JSON: {err})"
    if isinstance(nb, dict) and nb.get("nbformat") in (3, 2, 1):
        # Old Jupyter saved nbformat 3; nbgrader reads it converted to version 4, so static grading does too.
        import nbformat

        try:
            nb = json.loads(json.dumps(nbformat.reads(text, as_version=4)))
        except Exception as err:  # nbformat raises many kinds for malformed old notebooks
            return None, f"{path.name} is an old notebook format that could not be converted ({err})"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None, f"{path.name} is not a notebook (no list of cells)"
    return nb, None


def read_timestamp(folder: Path) -> Any:
    path = folder / "timestamp.txt"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        return None
    if text.endswith(" UTC"):  # nbgrader's own format: read it without dateutil's general (slow) parser
        try:
            return datetime.datetime.fromisoformat(text.removesuffix(" UTC"))
        except ValueError:
            pass
    from nbgrader.utils import parse_utc

    return parse_utc(text)


# -- static grading --------------------------------------------------------------------------------------------
@dataclass
class StaticSummary:
    submissions: int = 0
    notebooks: int = 0
    seconds: float = 0.0
    unreadable: list[str] = field(default_factory=list)
    answer_problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        per = self.seconds / self.notebooks * 1000 if self.notebooks else 0.0
        lines = [f"Graded {self.submissions} submission(s), {self.notebooks} notebook(s), statically in "
                 f"{self.seconds:.2f} s ({per:.2f} ms per notebook). No trainee code was run."]
        if self.unreadable:
            lines.append(f"{len(self.unreadable)} notebook(s) could not be read and scored 0:")
            lines += [f"  {line}" for line in self.unreadable]
        if self.answer_problems:
            lines.append(f"{len(self.answer_problems)} part(s) had answers that could not be read and scored 0:")
            lines += [f"  {line}" for line in self.answer_problems]
        return lines


def instructor_files(course: CourseConfig, assignment: str) -> list[tuple[Path, Path]]:
    """The exercise's non-notebook files that autograde copies over each submission: (source, relative path)."""
    folder = course.root / course.source / assignment
    return [(path, path.relative_to(folder)) for path in sorted(folder.rglob("*")) if path.is_file()
            and not _ignored(path.relative_to(folder), [*course.ignore, "*.ipynb"])]


def _ignored(rel: Path, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in rel.parts for pattern in patterns)


READ_ONLY = 0o444


def _copy_files(folder: Path, dest: Path, instructor: list[tuple[Path, Path]]) -> None:
    """Non-notebook files, as nbgrader's autograde copies them: the trainee's, then the instructor's on top."""
    own = []
    with os.scandir(folder) as entries:  # most submissions hold a notebook and timestamp.txt: no walk needed
        for entry in entries:
            if entry.is_dir():
                own += [(Path(top, name), Path(top, name).relative_to(folder))
                        for top, _dirs, names in os.walk(entry.path) for name in names]
            elif not entry.name.endswith(".ipynb"):
                own.append((Path(entry.path), Path(entry.name)))
    for path, rel in [*((p, r) for p, r in own if not _ignored(r, ["*.ipynb"])), *instructor]:
        if len(rel.parts) > 1:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest / rel)


def grade_submission(course: CourseConfig, assignment: str, student: str, exercise: list[ExerciseNotebook],
                     instructor: list[tuple[Path, Path]]) -> SubmissionGrades:
    """Grade one trainee's submission statically and write its autograded notebooks."""
    folder = course.submitted_dir(student, assignment)
    dest = course.autograded_dir(student, assignment)
    if dest.exists():  # as nbgrader does: its files are read-only (444), so replace the folder, not the files
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    results = []
    for notebook in exercise:
        path = folder / f"{notebook.name}.ipynb"
        nb, problem = read_submitted(path)
        if nb is None:
            results.append(grade_notebook(None, notebook, problem))
            (dest / path.name).unlink(missing_ok=True)  # an unreadable submission leaves no autograded copy
            continue
        clean = sanitise(nb, notebook)
        grades = grade_notebook(clean, notebook)
        record(clean, grades, "static")
        (dest / path.name).write_bytes(orjson.dumps(clean))  # compact: the file is for programs, and fast
        results.append(grades)
    _copy_files(folder, dest, instructor)
    for path in dest.rglob("*"):  # nbgrader's default for what autograde writes (Converter.permissions)
        if path.is_file():
            path.chmod(READ_ONLY)
    return SubmissionGrades(student, read_timestamp(folder), results)


def grade_static(course: CourseConfig, assignment: str, students: list[str] | None = None, progress: bool = True,
                 batch: int = 200) -> StaticSummary:
    """Grade every submission of an assignment statically; commit the gradebook every ``batch`` submissions."""
    from tqdm import tqdm

    if course.late_penalties:
        raise AttuneError("nbgrader_config.py sets a late-submission plugin (AssignLatePenalties.plugin_class), "
                         "which static grading does not apply; grade with plain `attune grade` (executed).")
    start = time.perf_counter()
    names = course.students(assignment) if students is None else students
    summary = StaticSummary()
    with open_gradebook(course.db_url, course.course_id) as gb:
        exercise = exercise_notebooks(gb, assignment)
        instructor = instructor_files(course, assignment)
        writer = GradebookWriter(gb, assignment)
        pending: list[SubmissionGrades] = []
        for student in tqdm(names, desc=f"static {assignment}", unit="submission", disable=not progress):
            graded = grade_submission(course, assignment, student, exercise, instructor)
            pending.append(graded)
            summary.submissions += 1
            for result in graded.notebooks:
                summary.notebooks += 1
                if result.problem:
                    summary.unreadable.append(f"{student}: {result.problem}")
                else:
                    summary.answer_problems += [f"{student} {result.notebook} {g.rubric.test_cell}: {g.problem}"
                                                for g in result.static.values() if g.problem]
            if len(pending) >= batch:
                writer.write(pending)
                pending = []
        writer.write(pending)
    summary.seconds = time.perf_counter() - start
    return summary


# -- executed vs static -----------------------------------------------------------------------------------------
@dataclass
class Comparison:
    differences: list[Difference] = field(default_factory=list)
    static_only: list[str] = field(default_factory=list)
    ungraded: list[str] = field(default_factory=list)
    compared: int = 0


def compare(course: CourseConfig, assignment: str, apply_flags: bool = True) -> Comparison:
    """Read every autograded notebook's grading record; list (and flag) executed-vs-static differences."""
    result = Comparison()
    with open_gradebook(course.db_url, course.course_id) as gb:
        exercise = exercise_notebooks(gb, assignment)
        for student in submitted_students(gb, assignment):
            for notebook in exercise:
                answers = {r.test_cell: r.answer_cell for r in notebook.rubric}
                path = course.autograded_dir(student, assignment) / f"{notebook.name}.ipynb"
                nb, _ = read_submitted(path)
                entry = recorded(nb) if nb is not None else None
                if entry is None:
                    result.ungraded.append(f"{student} {notebook.name}")
                    continue
                if entry["graded"] != "executed":
                    result.static_only.append(f"{student} {notebook.name}")
                    continue
                result.compared += 1
                result.differences += differences(entry, student, notebook.name, answers)
        if apply_flags:
            flag(gb, assignment, result.differences)
    return result


# -- executed grading, sharded ----------------------------------------------------------------------------------
def is_complete(course: CourseConfig, assignment: str, student: str, notebooks: Iterable[str], how: str) -> bool:
    """Whether a submission's grading finished: every autograded notebook exists, parses, and carries Attune's
    record, which is written in the last step of grading (a run killed half-way leaves no record), and the
    submission is not newer than what was graded (a resubmission is graded again, as nbgrader autograde does)."""
    folder = course.autograded_dir(student, assignment)
    for name in notebooks:
        nb, _ = read_submitted(folder / f"{name}.ipynb")
        entry = recorded(nb) if nb is not None else None
        if entry is None or entry["graded"] != how:
            return False
    try:
        submitted, graded = read_timestamp(course.submitted_dir(student, assignment)), read_timestamp(folder)
    except (ValueError, OverflowError):  # an unreadable timestamp: nbgrader fails that submission, so grade it
        return False
    return submitted is None or graded is None or submitted <= graded


@dataclass(frozen=True)
class Shard:
    """One `nbgrader autograde` run: the real command line, limited to some trainees by excluding the rest."""

    students: tuple[str, ...]
    command: tuple[str, ...]
    cwd: str
    log: str


def shard_commands(course: CourseConfig, assignment: str, pending: list[str], everyone: list[str], shards: int,
                   db_url: str | None, log_dir: Path) -> list[Shard]:
    """Split the pending trainees into at most ``shards`` runs of nbgrader autograde (round robin)."""
    groups = [pending[i::shards] for i in range(shards)]
    found = []
    for number, group in enumerate(g for g in groups if g):
        others = sorted(set(everyone) - set(group))
        command = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force"]
        if others:  # nbgrader takes a glob of ids to include, or a comma-separated list of ids to exclude
            command.append(f"--CourseDirectory.student_id_exclude={','.join(others)}")
        if db_url:
            command.append(f"--db={db_url}")
        # The course id as this run resolved it (the config's, or --course-id), so nbgrader grades the same course.
        command.append(f"--CourseDirectory.course_id={course.course_id}")
        found.append(Shard(tuple(group), tuple(command), str(course.root),
                           str(log_dir / f"{assignment}-shard-{number + 1:03d}.log")))
    return found


_RUNNING: set[subprocess.Popen] = set()  # this process's shard runs, stopped if it is told to stop


def run_shard(shard: Shard, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run one shard to the end (locally, or on a Dask worker that sees the same course folder)."""
    Path(shard.log).parent.mkdir(parents=True, exist_ok=True)
    environment = dict(env or os.environ)
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environment.get("PATH", "")])
    with open(shard.log, "w", encoding="utf-8") as log:
        process = subprocess.Popen(list(shard.command), cwd=shard.cwd, env=environment, stdout=log,
                                   stderr=subprocess.STDOUT)
        _RUNNING.add(process)
        try:
            code = process.wait()
        finally:
            _RUNNING.discard(process)
    return code, shard.log


def _stop_shards() -> None:
    """Stop the running shards (their kernels exit with them): a stopped `attune grade` leaves nothing running
    that a second run would race with."""
    for process in list(_RUNNING):
        process.terminate()
    for process in list(_RUNNING):
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class ExecutedSummary:
    students: int = 0
    already_done: int = 0
    shards: int = 0
    seconds: float = 0.0
    failed_shards: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"Autograded {self.students - self.already_done} of {self.students} submission(s) in {self.shards} "
                 f"nbgrader run(s), {self.seconds:.1f} s ({self.already_done} were already graded)."]
        if self.failed_shards:
            lines.append("nbgrader reported errors; see the logs: " + ", ".join(self.failed_shards))
        if self.incomplete:
            lines.append(f"{len(self.incomplete)} submission(s) are not graded; run the same command again to "
                         "finish them: " + ", ".join(self.incomplete))
        return lines


def grade_executed(course: CourseConfig, assignment: str, workers: int = 1, scheduler: str | None = None,
                   force: bool = False, progress: bool = True, db_override: str | None = None) -> ExecutedSummary:
    """Run `nbgrader autograde` over every pending submission, in ``workers`` local processes or as tasks on a
    Dask cluster. Finished submissions are skipped, so a killed run is completed by running it again."""
    start = time.perf_counter()
    everyone = course.students(assignment)
    notebooks = register_students(course, assignment, everyone)
    pending = [s for s in everyone if force or not is_complete(course, assignment, s, notebooks, "executed")]
    summary = ExecutedSummary(students=len(everyone), already_done=len(everyone) - len(pending))
    log_dir = course.root / "grading-logs"
    total = len(pending) * len(notebooks)
    if scheduler:
        from dask.distributed import Client

        with Client(scheduler) as client:
            slots = max(1, sum(client.nthreads().values()))
            # Small shards balance the cluster; each one pays nbgrader's start-up (~3 s), so not too small.
            count = max(1, min(slots * 4, -(-len(pending) // 5)))
            shards = shard_commands(course, assignment, pending, everyone, count, db_override, log_dir)
            futures = client.map(run_shard, shards, pure=False)
            results = _follow(futures, shards, total, f"autograde {assignment}", progress)
    else:
        shards = shard_commands(course, assignment, pending, everyone, max(1, workers), db_override, log_dir)
        previous = _on_sigterm_exit()
        try:
            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                futures = [pool.submit(run_shard, shard) for shard in shards]
                results = _follow(futures, shards, total, f"autograde {assignment}", progress)
        except BaseException:  # Ctrl+C, SIGTERM from a job scheduler: stop the shards before leaving
            _stop_shards()
            raise
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    summary.failed_shards = [log for code, log in results if code]
    summary.shards = len(shards)
    summary.incomplete = [s for s in pending if not is_complete(course, assignment, s, notebooks, "executed")]
    summary.seconds = time.perf_counter() - start
    return summary


def _on_sigterm_exit() -> Any:
    """Turn SIGTERM into SystemExit while shards run (so they are stopped); returns the handler it replaced."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    return signal.signal(signal.SIGTERM, stop)


def _follow(futures: list, shards: list[Shard], total: int, label: str, progress: bool) -> list[tuple[int, str]]:
    """Wait for the shards, with a progress bar fed by the line Attune's last autograde step logs per notebook."""
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit="notebook", disable=not progress) as bar:
        while not all(f.done() for f in futures):
            time.sleep(0.5)
            bar.update(max(0, _recorded_lines(shards) - bar.n))
        bar.update(max(0, _recorded_lines(shards) - bar.n))
    return [f.result() for f in futures]


def _recorded_lines(shards: list[Shard]) -> int:
    count = 0
    for shard in shards:
        try:
            with open(shard.log, encoding="utf-8", errors="replace") as log:
                count += sum(RECORDED_LOG in line for line in log)
        except OSError:
            continue
    return count
