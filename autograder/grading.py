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

import fnmatch
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.notebook_grading import ExerciseNotebook, NotebookGrades, grade_notebook, record, recorded, sanitise
from autograder.static import SourceCell, differs

FLAG_PREFIX = "Attune review:"


# -- the course folder, as nbgrader's config describes it --------------------------------------------------------
@dataclass(frozen=True)
class Course:
    """Where things are, read from the course's nbgrader_config.py (nbgrader's own CourseDirectory)."""

    root: Path
    db_url: str
    course_id: str
    source: str
    submitted: str
    autograded: str
    ignore: tuple[str, ...]

    @classmethod
    def load(cls, root: Path, db_url: str | None = None) -> Course:
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader

        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        coursedir = CourseDirectory(config=config)
        coursedir.root = str(root)
        return cls(root, db_url or coursedir.db_url, coursedir.course_id, coursedir.source_directory,
                   coursedir.submitted_directory, coursedir.autograded_directory, tuple(coursedir.ignore))

    def submitted_dir(self, student: str, assignment: str) -> Path:
        return self.root / self.submitted / student / assignment

    def autograded_dir(self, student: str, assignment: str) -> Path:
        return self.root / self.autograded / student / assignment

    def students(self, assignment: str) -> list[str]:
        """Every trainee with a submission folder for this assignment."""
        folder = self.root / self.submitted
        return sorted(p.parent.name for p in folder.glob(f"*/{assignment}") if p.is_dir())


def exercise_notebooks(gb: Any, assignment: str) -> list[ExerciseNotebook]:
    """The assignment's notebooks as the gradebook holds them (the text nbgrader restores and runs)."""
    found = []
    for notebook in gb.find_assignment(assignment).notebooks:
        grade = {c.name: c.max_score for c in notebook.grade_cells}
        solution = {c.name for c in notebook.solution_cells}
        cells = [SourceCell(c.name, c.cell_type, c.source or "", c.name in grade, c.name in solution, bool(c.locked),
                            grade.get(c.name), c.checksum) for c in notebook.source_cells]
        found.append(ExerciseNotebook.from_cells(notebook.name, cells))
    return found


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
    from nbgrader.utils import parse_utc

    return parse_utc(text)


# -- writing to the gradebook ---------------------------------------------------------------------------------
@dataclass
class SubmissionGrades:
    student: str
    timestamp: Any
    notebooks: list[NotebookGrades]


def save_grades(gb: Any, assignment: str, graded: Iterable[SubmissionGrades]) -> None:
    """Create or update the submissions and set auto scores and auto comments as nbgrader's SaveAutoGrades
    does (a grade needs a grader when it has no auto score or already has a manual one). One transaction."""
    from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

    db = gb.db
    assignment_row = gb.find_assignment(assignment)
    notebooks = {nb.name: nb for nb in assignment_row.notebooks}
    cells = {name: ({c.name: c.id for c in nb.grade_cells}, {c.name: c.id for c in nb.solution_cells},
                    [c.id for c in nb.task_cells]) for name, nb in notebooks.items()}
    students = {s.id: s for s in db.query(Student).all()}
    existing = {s.student_id: s for s in db.query(SubmittedAssignment).filter(
        SubmittedAssignment.assignment_id == assignment_row.id)}
    for submission in graded:
        student = students.get(submission.student)
        if student is None:
            student = students[submission.student] = Student(id=submission.student)
            db.add(student)
        row = existing.get(submission.student)
        if row is None:
            row = SubmittedAssignment(assignment=assignment_row, student=student)
            for name, notebook in notebooks.items():
                nb_row = SubmittedNotebook(notebook=notebook, assignment=row)
                grade_ids, solution_ids, task_ids = cells[name]
                for cell_id in grade_ids.values():
                    Grade(cell_id=cell_id, notebook=nb_row)
                for cell_id in [*solution_ids.values(), *task_ids]:
                    Comment(cell_id=cell_id, notebook=nb_row)
                for cell_id in task_ids:
                    Grade(cell_id=cell_id, notebook=nb_row)
            db.add(row)
            existing[submission.student] = row
        if submission.timestamp is not None:
            row.timestamp = submission.timestamp
        by_notebook = {nb.notebook.name: nb for nb in row.notebooks}
        for result in submission.notebooks:
            nb_row = by_notebook[result.notebook]
            grade_ids, solution_ids, _ = cells[result.notebook]
            grades = {g.cell_id: g for g in nb_row.grades}
            for name, score in result.scores.items():
                grade = grades[grade_ids[name]]
                grade.auto_score = score
                grade.needs_manual_grade = grade.manual_score is not None or score is None
            comments = {c.cell_id: c for c in nb_row.comments}
            for name, text in result.comments.items():
                comments[solution_ids[name]].auto_comment = text
    db.commit()


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


def _copy_files(course: Course, assignment: str, student: str, dest: Path) -> None:
    """Non-notebook files, as nbgrader's autograde copies them: the trainee's, then the instructor's on top."""
    for folder, ignore in ((course.submitted_dir(student, assignment), ["*.ipynb", "timestamp.txt"]),
                           (course.root / course.source / assignment, [*course.ignore, "*.ipynb"])):
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            rel = path.relative_to(folder)
            if path.is_dir() or any(fnmatch.fnmatch(part, pattern) for part in rel.parts for pattern in ignore):
                continue
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel)
    timestamp = course.submitted_dir(student, assignment) / "timestamp.txt"
    if timestamp.is_file():
        shutil.copyfile(timestamp, dest / "timestamp.txt")


def grade_submission(course: Course, assignment: str, student: str,
                     exercise: list[ExerciseNotebook]) -> SubmissionGrades:
    """Grade one trainee's submission statically and write its autograded notebooks."""
    folder = course.submitted_dir(student, assignment)
    dest = course.autograded_dir(student, assignment)
    dest.mkdir(parents=True, exist_ok=True)
    results = []
    for notebook in exercise:
        path = folder / f"{notebook.name}.ipynb"
        nb, problem = read_submitted(path)
        if nb is None:
            results.append(grade_notebook(None, notebook, problem))
            (dest / path.name).unlink(missing_ok=True)
            continue
        clean = sanitise(nb, notebook)
        grades = grade_notebook(clean, notebook)
        record(clean, grades, "static")
        (dest / path.name).write_text(json.dumps(clean, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        results.append(grades)
    _copy_files(course, assignment, student, dest)
    return SubmissionGrades(student, read_timestamp(folder), results)


def grade_static(course: Course, assignment: str, students: list[str] | None = None, progress: bool = True,
                 batch: int = 200) -> StaticSummary:
    """Grade every submission of an assignment statically; commit the gradebook every ``batch`` submissions."""
    from nbgrader.api import Gradebook
    from tqdm import tqdm

    start = time.perf_counter()
    names = course.students(assignment) if students is None else students
    summary = StaticSummary()
    with Gradebook(course.db_url, course_id=course.course_id) as gb:
        exercise = exercise_notebooks(gb, assignment)
        pending: list[SubmissionGrades] = []
        for student in tqdm(names, desc=f"static {assignment}", unit="submission", disable=not progress):
            graded = grade_submission(course, assignment, student, exercise)
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
                save_grades(gb, assignment, pending)
                pending = []
        save_grades(gb, assignment, pending)
    summary.seconds = time.perf_counter() - start
    return summary


# -- executed vs static -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Difference:
    """A rubric cell whose executed score differs from the score of its answers as written."""

    student: str
    notebook: str
    cell: str
    executed: float | None
    static: float
    answer_cell: str

    def line(self) -> str:
        executed = "no score (the test cell did not run)" if self.executed is None else f"{self.executed:g}"
        return (f"{self.student} {self.notebook} {self.cell}: executed {executed}, as written {self.static:g} "
                "(recorded)")

    def comment(self) -> str:
        executed = "did not report a score" if self.executed is None else f"gave {self.executed:g}"
        return (f"{FLAG_PREFIX} when this notebook was run, its test cell {self.cell} {executed}, but the answers "
                f"as written earn {self.static:g}. {self.static:g} was recorded; please review this submission.")


def differences(record_entry: dict, student: str, notebook: str, answer_cells: dict[str, str]) -> list[Difference]:
    """Differences in one autograded notebook's grading record (nothing if it was graded statically only)."""
    found = []
    for cell, entry in record_entry.get("cells", {}).items():
        if "executed" in entry and differs(entry["executed"], entry["static"]):
            found.append(Difference(student, notebook, cell, entry["executed"], entry["static"], answer_cells[cell]))
    return found


def flag(gb: Any, assignment: str, found: Iterable[Difference]) -> None:
    """Mark each differing cell as needing a grader, with a comment on its answer cell (shown in formgrader)."""
    for difference in found:
        grade = gb.find_grade(difference.cell, difference.notebook, assignment, difference.student)
        grade.needs_manual_grade = True
        comment = gb.find_comment(difference.answer_cell, difference.notebook, assignment, difference.student)
        text = difference.comment()
        if not (comment.auto_comment or "").startswith(FLAG_PREFIX):
            comment.auto_comment = text if not comment.auto_comment else f"{text}\n{comment.auto_comment}"
    gb.db.commit()


@dataclass
class Comparison:
    differences: list[Difference] = field(default_factory=list)
    static_only: list[str] = field(default_factory=list)
    ungraded: list[str] = field(default_factory=list)
    compared: int = 0


def compare(course: Course, assignment: str, apply_flags: bool = True) -> Comparison:
    """Read every autograded notebook's grading record; list (and flag) executed-vs-static differences."""
    from nbgrader.api import Gradebook

    result = Comparison()
    with Gradebook(course.db_url, course_id=course.course_id) as gb:
        exercise = exercise_notebooks(gb, assignment)
        for submission in gb.assignment_submissions(assignment):
            student = submission.student.id
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


def flagged_for_review(gb: Any, assignment: str) -> list[dict]:
    """Rubric cells flagged by the cross-check, for the report: who, which cell, and the comment."""
    rows = []
    for submission in gb.assignment_submissions(assignment):
        for notebook in submission.notebooks:
            for comment in notebook.comments:
                if (comment.auto_comment or "").startswith(FLAG_PREFIX):
                    rows.append({"student": submission.student.id, "assignment": assignment,
                                 "notebook": notebook.name, "cell": comment.name,
                                 "comment": comment.auto_comment.splitlines()[0]})
    return rows


ProgressHook = Callable[[int], None]


def _env_path() -> str:
    from autograder.cli import _with_bin_on_path

    return _with_bin_on_path()


def nbgrader_env() -> dict[str, str]:
    return {**os.environ, "PATH": _env_path()}
