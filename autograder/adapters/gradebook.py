"""Every read and write of nbgrader's gradebook, in one place.

nbgrader's gradebook is Attune's system of record: formgrader, feedback and export read it unchanged. Everything
Attune asks of it or writes into it is here: whether it exists (check_gradebook, before nbgrader's Gradebook would
create a missing one), the exercise as nbgrader holds it, who submitted, the scores and comments of grading (in bulk
for a cohort, one notebook at a time inside nbgrader autograde), and the flags of the executed-vs-static cross-check.
Callers get plain data back (lists, dicts, autograder.static's dataclasses); a few functions take an open gradebook
(``open_gradebook``) so that one connection serves a whole run.

nbgrader and SQLAlchemy are imported inside the functions: nbgrader loads autograder.preprocessors for every
autograde run, and the instructor's commands should not pay for them before they need the gradebook.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from autograder.adapters.config import CONFIG_FILE, ConfigError, CourseConfig, masked_url, sqlite_file
from autograder.static.answers import SourceCell, differs
from autograder.static.notebooks import FLAG_PREFIX, Difference, ExerciseNotebook, NotebookGrades
from course.errors import AttuneError


def open_gradebook(db_url: str, course_id: str | None = None) -> Any:
    """nbgrader's Gradebook at ``db_url`` (a context manager). Without ``course_id`` it is nbgrader's default
    course, as nbgrader's own autograde steps open it."""
    from nbgrader.api import Gradebook

    return Gradebook(db_url) if course_id is None else Gradebook(db_url, course_id=course_id)


def check_gradebook(config: CourseConfig) -> None:
    """ConfigError unless the configured gradebook exists and knows the course id. Commands that only read must
    check first: nbgrader's Gradebook creates a missing database, its tables and the course on opening, so a
    wrong URL or course id would otherwise read as an empty cohort (and leave an empty gradebook behind)."""
    import sqlalchemy as sa

    shown = masked_url(config.db_url)
    what = (f"Grade an exercise first (`attune grade EXERCISE`, or nbgrader autograde), or name the course's "
            f"gradebook: c.CourseDirectory.db_url in {config.root / CONFIG_FILE}, or --db URL.")
    file = sqlite_file(config.db_url)
    if file is not None and not file.is_file():
        raise ConfigError(f"no gradebook for the course folder {config.root}: {file} does not exist "
                          f"({shown}). {what}")
    try:
        engine = sa.create_engine(config.db_url)
    except (sa.exc.ArgumentError, ImportError, ValueError) as err:
        raise ConfigError(f"the gradebook URL {shown} (course folder {config.root}) is not usable: "
                          f"{err}. Fix c.CourseDirectory.db_url in {CONFIG_FILE}, or pass --db URL.") from None
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("course"):
                raise ConfigError(f"the database {shown} (course folder {config.root}) holds no "
                                  f"nbgrader gradebook yet. {what}")
            ids = sorted(conn.execute(sa.text("SELECT id FROM course")).scalars())
    except sa.exc.SQLAlchemyError as err:
        reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
        raise ConfigError(f"cannot open the gradebook {shown} (course folder {config.root}): {reason}. "
                          f"Check that the database server runs and the URL is right (c.CourseDirectory.db_url "
                          f"in {CONFIG_FILE}, or --db URL).") from None
    finally:
        engine.dispose()
    if config.course_id not in ids:
        known = ", ".join(repr(i) for i in ids) or "none"
        raise ConfigError(f"the gradebook {shown} has no course {config.course_id!r} (it has: {known}). "
                          f"Set c.CourseDirectory.course_id in {config.root / CONFIG_FILE} to the course's id, or "
                          "pass --course-id ID.")


# -- reading ---------------------------------------------------------------------------------------------------
def course_assignments(gb: Any, course_id: str) -> list[str]:
    """The course's assignments in the gradebook, in nbgrader's order (due date, name). nbgrader's
    Gradebook.assignments lists every course's, so one database can hold several courses."""
    return [a.name for a in gb.assignments if a.course_id == course_id]


def submitted_students(gb: Any, assignment: str) -> list[str]:
    """Every trainee with a submission of ``assignment`` in the gradebook."""
    return [submission.student.id for submission in gb.assignment_submissions(assignment)]


def exercise_notebooks(gb: Any, assignment: str) -> list[ExerciseNotebook]:
    """The assignment's notebooks as the gradebook holds them (the text nbgrader restores and runs)."""
    found = []
    for notebook in gb.find_assignment(assignment).notebooks:
        grade = {c.name: c.max_score for c in notebook.grade_cells}
        task = {c.name: c.max_score for c in notebook.task_cells}
        solution = {c.name for c in notebook.solution_cells}
        cells = [SourceCell(c.name, c.cell_type, c.source or "", c.name in grade, c.name in solution, bool(c.locked),
                            grade.get(c.name, task.get(c.name)), c.checksum, c.name in task)
                 for c in notebook.source_cells]
        found.append(ExerciseNotebook.from_cells(notebook.name, cells))
    return found


def exercise_at(db_url: str, assignment: str) -> list[ExerciseNotebook]:
    """exercise_notebooks from the gradebook at ``db_url``, as nbgrader's autograde steps open it."""
    with open_gradebook(db_url) as gb:
        return exercise_notebooks(gb, assignment)


def submissions(config: CourseConfig, assignments: list[str] | None = None) -> Iterator[tuple[str, list[str]]]:
    """Each of the course's assignments in the gradebook (only ``assignments``, if given), with the trainees who
    submitted it."""
    with open_gradebook(config.db_url, config.course_id) as gb:
        known = course_assignments(gb, config.course_id)
        for name in [n for n in assignments if n in known] if assignments else known:
            yield name, submitted_students(gb, name)


def recorded_grades(config: CourseConfig) -> list[dict]:
    """What nbgrader recorded: one dict per trainee x assignment x graded cell (auto, manual and final score)."""
    records = []
    with open_gradebook(config.db_url, config.course_id) as gb:
        for name in course_assignments(gb, config.course_id):
            for submission in gb.assignment_submissions(name):
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        records.append({"student": submission.student.id, "assignment": name,
                                        "notebook": notebook.name, "cell": grade.name, "auto": grade.auto_score,
                                        "manual": grade.manual_score, "score": grade.score,
                                        "max_score": grade.max_score, "needs_manual": grade.needs_manual_grade})
    return records


def flagged_for_review(gb: Any, assignment: str) -> list[dict]:
    """Every review flag of the assignment, for the report and `attune grade --compare`: the rubric cells the
    cross-check flagged (who, which cell, the reason, and whether a grader has scored the cell since, which
    resolves it), and notebooks a grader flagged in formgrader with no reason of Attune's (cell "")."""
    rows = []
    for submission in gb.assignment_submissions(assignment):
        for notebook in submission.notebooks:
            scored = {grade.name: grade.manual_score is not None for grade in notebook.grades}
            reasons = [c for c in notebook.comments if _is_review(c)]
            for comment in reasons:
                rows.append({"student": submission.student.id, "assignment": assignment,
                             "notebook": notebook.name, "cell": comment.name,
                             "comment": comment.auto_comment.splitlines()[0],
                             "resolved": scored.get(comment.name, False)})
            if notebook.flagged and all(scored.get(c.name, False) for c in reasons):
                rows.append({"student": submission.student.id, "assignment": assignment,
                             "notebook": notebook.name, "cell": "",
                             "comment": "flagged in formgrader by a grader", "resolved": False})
    return rows


def review_rows(config: CourseConfig) -> list[dict]:
    """flagged_for_review over every assignment of the course."""
    rows: list[dict] = []
    with open_gradebook(config.db_url, config.course_id) as gb:
        for name in course_assignments(gb, config.course_id):
            rows += flagged_for_review(gb, name)
    return rows


# -- writing ---------------------------------------------------------------------------------------------------
def add_students(config: CourseConfig, names: Mapping[str, tuple[str, str]]) -> None:
    """Create or update trainees (id: first and last name)."""
    with open_gradebook(config.db_url, config.course_id) as gb:
        for student, (first, last) in names.items():
            gb.update_or_create_student(student, first_name=first, last_name=last)


def register_students(config: CourseConfig, assignment: str, students: Iterable[str]) -> list[str]:
    """Create every trainee in the gradebook before grading fans out (parallel creation of one new trainee is a
    duplicate-key race in nbgrader); return the assignment's notebook names."""
    from nbgrader.api import MissingEntry

    with open_gradebook(config.db_url, config.course_id) as gb:
        try:
            notebooks = [n.name for n in gb.find_assignment(assignment).notebooks]
        except MissingEntry:
            raise AttuneError(f"{assignment} is not in the gradebook ({config.shown_url}); run "
                              f"`nbgrader generate_assignment {assignment}` first.") from None
        known = {s.id for s in gb.students}
        for student in students:
            if student not in known:
                gb.add_student(student)
    # Attune's autograde steps open the gradebook without a course id, so nbgrader adds a "default_course" row on
    # first use: shards doing that at the same moment fail on the duplicate key. Add it here, once.
    open_gradebook(config.db_url).close()
    return notebooks


@dataclass
class SubmissionGrades:
    student: str
    timestamp: Any
    notebooks: list[NotebookGrades]


class GradebookWriter:
    """Writes many submissions' auto scores and comments in bulk, as nbgrader's SaveAutoGrades sets them for one
    (a grade needs a grader when it has no auto score or already has a manual one; manual scores are kept).

    New submissions get the rows nbgrader's ``Gradebook.add_submission`` would create; existing ones are updated
    in place. SQLAlchemy Core statements on nbgrader's own tables: the ORM's per-object work would cost more
    than all the grading.
    """

    def __init__(self, gb: Any, assignment: str) -> None:
        from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook
        from sqlalchemy import select

        self.db, self.tables = gb.db, (Student.__table__, SubmittedAssignment.__table__,
                                       SubmittedNotebook.__table__, Grade.__table__, Comment.__table__)
        row = gb.find_assignment(assignment)
        self.assignment_id = row.id
        self.notebooks = {nb.name: nb.id for nb in row.notebooks}
        self.grade_cells = {nb.name: {c.name: c.id for c in [*nb.grade_cells, *nb.task_cells]}
                            for nb in row.notebooks}
        self.comment_cells = {nb.name: {c.name: c.id for c in [*nb.solution_cells, *nb.task_cells]}
                              for nb in row.notebooks}
        self.students = set(self.db.execute(select(Student.id)).scalars())
        sa, sn = SubmittedAssignment.__table__, SubmittedNotebook.__table__
        self.existing: dict[str, tuple[str, dict[str, str]]] = {}
        names = {v: k for k, v in self.notebooks.items()}
        for student, sa_id, sn_id, nb_id in self.db.execute(
                select(sa.c.student_id, sa.c.id, sn.c.id, sn.c.notebook_id).join(sn, sn.c.assignment_id == sa.c.id)
                .where(sa.c.assignment_id == self.assignment_id)):
            self.existing.setdefault(student, (sa_id, {}))[1][names[nb_id]] = sn_id

    def write(self, graded: Iterable[SubmissionGrades]) -> None:
        from nbgrader.api import new_uuid
        from sqlalchemy import bindparam, case, update

        student_t, sa, sn, grade_t, comment_t = self.tables
        new_students, new_sa, new_sn, new_grades, new_comments = [], [], [], [], []
        grade_updates, comment_updates, stamps = [], [], []
        for submission in graded:
            if submission.student not in self.students:
                new_students.append({"id": submission.student})
                self.students.add(submission.student)
            by_name = {r.notebook: r for r in submission.notebooks}
            if submission.student not in self.existing:
                sa_id = new_uuid()
                new_sa.append({"id": sa_id, "assignment_id": self.assignment_id, "student_id": submission.student,
                               "timestamp": submission.timestamp})
                notebooks = {}
                for name, nb_id in self.notebooks.items():
                    sn_id = notebooks[name] = new_uuid()
                    new_sn.append({"id": sn_id, "assignment_id": sa_id, "notebook_id": nb_id, "flagged": False})
                    result = by_name.get(name)
                    scores = result.scores if result else {}
                    comments = result.comments if result else {}
                    for cell, cell_id in self.grade_cells[name].items():
                        score = scores.get(cell)
                        new_grades.append({"id": new_uuid(), "notebook_id": sn_id, "cell_id": cell_id,
                                           "auto_score": score, "needs_manual_grade": score is None})
                    for cell, cell_id in self.comment_cells[name].items():
                        new_comments.append({"id": new_uuid(), "notebook_id": sn_id, "cell_id": cell_id,
                                             "auto_comment": comments.get(cell)})
                self.existing[submission.student] = (sa_id, notebooks)
                continue
            sa_id, notebooks = self.existing[submission.student]
            if submission.timestamp is not None:
                stamps.append({"b_id": sa_id, "b_timestamp": submission.timestamp})
            for name, result in by_name.items():
                grade_updates += [{"b_nb": notebooks[name], "b_cell": self.grade_cells[name][cell], "b_score": score}
                                  for cell, score in result.scores.items()]
                comment_updates += [{"b_nb": notebooks[name], "b_cell": self.comment_cells[name][cell], "b_text": text}
                                    for cell, text in result.comments.items()]
        for table, rows in ((student_t, new_students), (sa, new_sa), (sn, new_sn), (grade_t, new_grades),
                            (comment_t, new_comments)):
            if rows:
                self.db.execute(table.insert(), rows)
        if stamps:
            self.db.execute(update(sa).where(sa.c.id == bindparam("b_id"))
                            .values(timestamp=bindparam("b_timestamp")), stamps)
        if grade_updates:
            score = bindparam("b_score")
            self.db.execute(update(grade_t).where(grade_t.c.notebook_id == bindparam("b_nb"),
                                                  grade_t.c.cell_id == bindparam("b_cell"))
                            .values(auto_score=score, needs_manual_grade=case(
                                (grade_t.c.manual_score.is_not(None), True), (score.is_(None), True), else_=False)),
                            grade_updates)
        if comment_updates:
            self.db.execute(update(comment_t).where(comment_t.c.notebook_id == bindparam("b_nb"),
                                                    comment_t.c.cell_id == bindparam("b_cell"))
                            .values(auto_comment=bindparam("b_text")), comment_updates)
        self.db.commit()


def _submitted_notebook(gb: Any, notebook: str, assignment: str, student: str) -> Any:
    return gb.find_submission_notebook(notebook, assignment, student)


def _is_review(comment: Any) -> bool:
    """Whether a gradebook comment holds Attune's review reason: on a rubric test cell (a grade cell), starting with
    FLAG_PREFIX. nbgrader makes comments for answer cells only; a comment on the test cell is where the grader
    scores, and nbgrader's feedback (GetGrades) never reads it, so the reason cannot reach the trainee."""
    from nbgrader.api import GradeCell

    return isinstance(comment.cell, GradeCell) and (comment.auto_comment or "").startswith(FLAG_PREFIX)


def _review_comment(submitted: Any, cell: str) -> Any:
    """The review reason on the test cell ``cell`` of a submitted notebook, or None."""
    return next((c for c in submitted.comments if c.name == cell and _is_review(c)), None)


def _drop_legacy_flag(gb: Any, answer_cell: str, notebook: str, assignment: str, student: str) -> None:
    """Gradebooks flagged by earlier versions held the reason in the answer cell's comment, which feedback shows
    the trainee: take it out."""
    from nbgrader.api import MissingEntry

    try:
        comment = gb.find_comment(answer_cell, notebook, assignment, student)
    except MissingEntry:
        return
    lines = (comment.auto_comment or "").splitlines()
    if lines and lines[0].startswith(FLAG_PREFIX):
        comment.auto_comment = "\n".join(lines[1:]) or None


def flag(gb: Any, assignment: str, found: Iterable[Difference]) -> None:
    """Flag each differing rubric cell where the grader scores it: the test cell needs grading and carries the
    reason as a comment, and its notebook is flagged (formgrader's "Flagged?" column). Scoring the cell in
    formgrader resolves it (:func:`resolve_review_flags_when_scored`)."""
    from nbgrader.api import Comment

    for difference in found:
        submitted = _submitted_notebook(gb, difference.notebook, assignment, difference.student)
        grade = gb.find_grade(difference.cell, difference.notebook, assignment, difference.student)
        grade.needs_manual_grade = True
        comment = _review_comment(submitted, difference.cell)
        if comment is None:
            comment = Comment(notebook=submitted, cell=grade.cell)
            gb.db.add(comment)
        comment.auto_comment = difference.comment()
        submitted.flagged = True
        _drop_legacy_flag(gb, difference.answer_cell, difference.notebook, assignment, difference.student)
    gb.db.commit()


def unflag(gb: Any, assignment: str, notebook: str, student: str, cells: Iterable[str]) -> None:
    """A regrade found these rubric cells no longer differ: take Attune's review reason off them, and the
    notebook's flag when none of Attune's reasons is left (a flag a grader set by hand with no reason of ours
    stays)."""
    submitted = _submitted_notebook(gb, notebook, assignment, student)
    removed = False
    for cell in cells:
        comment = _review_comment(submitted, cell)
        if comment is not None:
            gb.db.delete(comment)
            removed = True
    gb.db.flush()
    if removed and not any(_is_review(c) for c in submitted.comments):
        submitted.flagged = False
    gb.db.commit()


def save_static_grades(db_url: str, assignment: str, notebook: str, student: str, grades: NotebookGrades,
                       executed: Mapping[str, float | None]) -> list[Difference]:
    """Inside nbgrader autograde, after its SaveAutoGrades: record each rubric part's score of the answers as
    written (with a comment when they could not be read), and flag the cells whose executed score differs."""
    found, agreeing = [], []
    with open_gradebook(db_url) as gb:
        for test_cell, graded in grades.static.items():
            grade = gb.find_grade(test_cell, notebook, assignment, student)
            grade.auto_score = graded.points
            grade.needs_manual_grade = grade.manual_score is not None
            comment = gb.find_comment(graded.rubric.answer_cell, notebook, assignment, student)
            if graded.problem:
                comment.auto_comment = f"Attune: {graded.problem}."
            if differs(executed[test_cell], graded.points):
                found.append(Difference(student, notebook, test_cell, executed[test_cell], graded.points,
                                        graded.rubric.answer_cell))
            else:
                agreeing.append(test_cell)
        gb.db.commit()
        unflag(gb, assignment, notebook, student, agreeing)
        flag(gb, assignment, found)
    return found


def _resolve_when_scored(grade: Any, value: Any, _old: Any, _initiator: Any) -> None:
    """A grader entered a score on a cell Attune flagged: once every flagged cell of the notebook has one, the
    notebook is no longer flagged (nbgrader itself clears the cell's needs-grading mark)."""
    if value is None or grade.notebook is None or not grade.notebook.flagged:
        return
    submitted = grade.notebook
    reasons = {c.name for c in submitted.comments if _is_review(c)}
    if grade.name not in reasons:
        return
    if all(g.manual_score is not None for g in submitted.grades if g.name in reasons and g is not grade):
        submitted.flagged = False


def resolve_review_flags_when_scored() -> None:
    """Make a score entered in formgrader (or through nbgrader's API) on a flagged cell resolve Attune's flag.
    Loaded by every course's nbgrader_config.py, so formgrader's process has it; an ORM event on nbgrader's own
    Grade model, since nbgrader offers no hook there."""
    from nbgrader.api import Grade
    from sqlalchemy import event

    if not event.contains(Grade.manual_score, "set", _resolve_when_scored):
        event.listen(Grade.manual_score, "set", _resolve_when_scored)


# -- the grader's view: recorded totals, cell grades, submissions ---------------------------------------------------
def _export_text(value: Any) -> str:
    """A value as `nbgrader export` writes it: str(), and "" for None."""
    return "" if value is None else str(value)


def graders_records(config: CourseConfig, assignments: Iterable[str] | None = None) -> dict[str, list[dict]]:
    """What `nbgrader export` and formgrader read, as plain data: ``assignments`` (the course's, in nbgrader's order:
    name, duedate and max_score as export writes them, and notebook names), ``students`` (everyone in the gradebook,
    in export's order, with names and email) and ``submissions`` (student, assignment, timestamp, raw_score: the
    gradebook's SubmittedAssignment.score, late_penalty, and each graded cell's auto, manual, extra credit,
    max_score and needs_manual). Only ``assignments``, if given."""
    chosen = set(assignments) if assignments else None
    found: dict[str, list[dict]] = {"assignments": [], "students": [], "submissions": []}
    with open_gradebook(config.db_url, config.course_id) as gb:
        rows = [a for a in gb.assignments if a.course_id == config.course_id and (chosen is None or a.name in chosen)]
        for assignment in rows:
            found["assignments"].append({"name": assignment.name, "duedate": _export_text(assignment.duedate),
                                         "max_score": float(assignment.max_score or 0.0),
                                         "notebooks": [n.name for n in assignment.notebooks]})
            for submission in gb.assignment_submissions(assignment.name):
                cells = [{"notebook": notebook.name, "cell": grade.name, "max_score": float(grade.max_score or 0.0),
                          "auto": grade.auto_score, "manual": grade.manual_score, "extra_credit": grade.extra_credit,
                          "needs_manual": bool(grade.needs_manual_grade)}
                         for notebook in submission.notebooks for grade in notebook.grades]
                found["submissions"].append({
                    "student": submission.student.id, "assignment": assignment.name,
                    "timestamp": _export_text(submission.timestamp), "graded_timestamp": submission.timestamp,
                    "raw_score": float(submission.score),
                    "late_penalty": float(submission.late_submission_penalty or 0.0), "cells": cells})
        found["students"] = [{"id": s.id, "first_name": _export_text(s.first_name),
                              "last_name": _export_text(s.last_name), "email": _export_text(s.email)}
                             for s in gb.students]
    return found
