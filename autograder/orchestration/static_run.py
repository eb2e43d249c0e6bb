"""`attune grade --static`: read every submitted notebook, score the answers as written, write the grades (into
the gradebook, in bulk) and the autograded notebooks. Nothing the trainee wrote runs."""

from __future__ import annotations

import fnmatch
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from autograder.adapters.config import CourseConfig
from autograder.adapters.gradebook import GradebookWriter, SubmissionGrades, exercise_notebooks, open_gradebook
from autograder.orchestration.submissions import read_submitted, read_timestamp
from autograder.static.notebooks import ExerciseNotebook, grade_notebook, record, sanitise
from course.errors import AttuneError


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
