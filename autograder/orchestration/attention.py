"""Gathering the grader's view of a course (autograder.core.attention): the gradebook's totals and cell grades, its
review flags, the states of the submitted and autograded notebooks, the submission folders nothing graded, and the
refusals of `nbgrader collect`. All the reading is here; the judging is in the core."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from autograder.adapters.config import CourseConfig
from autograder.adapters.exchange import read_refusals, refusals_log
from autograder.adapters.gradebook import graders_records, review_rows
from autograder.core.attention import (
    AUTOGRADED,
    EMPTY,
    MISSING,
    SUBMITTED,
    UNREADABLE,
    Assignment,
    CellGrade,
    CourseFacts,
    GradersView,
    NotebookFile,
    Refusal,
    ReviewFlag,
    Student,
    Submission,
    graders_view,
)


def notebook_state(path: Path) -> str | None:
    """MISSING, EMPTY (0 bytes or only whitespace), UNREADABLE (not a JSON object), or None for a readable file."""
    if not path.is_file():
        return MISSING
    try:
        text = path.read_bytes()
    except OSError:
        return UNREADABLE
    if not text.strip():
        return EMPTY
    try:
        return None if isinstance(json.loads(text), dict) else UNREADABLE
    except (ValueError, RecursionError):
        return UNREADABLE


def submitted_timestamp(config: CourseConfig, student: str, assignment: str) -> datetime | None:
    """The time in a submission's timestamp.txt, as nbgrader reads it (naive UTC, as the gradebook keeps it); None
    without a readable one. nbgrader says "needs autograding" when it differs from the gradebook's."""
    from nbgrader.utils import parse_utc

    path = config.submitted_dir(student, assignment) / "timestamp.txt"
    try:
        return parse_utc(path.read_text().strip())
    except (OSError, ValueError, OverflowError):
        return None


def _shown(config: CourseConfig, path: Path) -> str:
    return str(path.relative_to(config.root)) if path.is_relative_to(config.root) else str(path)


def course_facts(config: CourseConfig, assignments: Iterable[str] | None = None) -> CourseFacts:
    """Everything the core needs to judge the course's totals (only ``assignments``, if given)."""
    records = graders_records(config, assignments)
    chosen = [a["name"] for a in records["assignments"]]
    notebooks = {a["name"]: a["notebooks"] for a in records["assignments"]}
    submissions = tuple(
        Submission(s["student"], s["assignment"], s["timestamp"], s["late_penalty"],
                   tuple(CellGrade(**c) for c in s["cells"]), s["raw_score"]) for s in records["submissions"])
    in_gradebook = {(s.student, s.assignment) for s in submissions}
    files = []
    for submission in submissions:
        for notebook in notebooks[submission.assignment]:
            for stage, folder in ((SUBMITTED, config.submitted_dir), (AUTOGRADED, config.autograded_dir)):
                path = folder(submission.student, submission.assignment) / f"{notebook}.ipynb"
                state = notebook_state(path)
                if state is not None:
                    files.append(NotebookFile(submission.student, submission.assignment, notebook, stage, state,
                                              _shown(config, path)))
    collected = tuple((student, name) for name in chosen for student in config.students(name)
                      if (student, name) not in in_gradebook)
    again = tuple((s["student"], s["assignment"], str(submitted), str(s["graded_timestamp"]))
                  for s in records["submissions"]
                  if (submitted := submitted_timestamp(config, s["student"], s["assignment"])) is not None
                  and submitted != s["graded_timestamp"])
    # The lead's review rows carry "resolved"; rows from before that are open.
    flags = tuple(ReviewFlag(r["student"], r["assignment"], r["notebook"], r.get("cell") or "", r.get("comment") or "",
                             bool(r.get("resolved", False)))
                  for r in review_rows(config) if r["assignment"] in chosen)
    refusals = tuple(Refusal(r["assignment"], r["claimed"], r.get("owner") or "", r.get("reason") or "")
                     for r in read_refusals(refusals_log(config.root)) if r["assignment"] in chosen)
    return CourseFacts(
        assignments=tuple(Assignment(a["name"], a["max_score"], a["duedate"]) for a in records["assignments"]),
        students=tuple(Student(**s) for s in records["students"]), submissions=submissions, flags=flags,
        files=tuple(files), collected_not_graded=collected, collected_again=again, refusals=refusals)


def course_view(config: CourseConfig, assignments: Iterable[str] | None = None) -> GradersView:
    """The totals `nbgrader export` writes and what needs a grader's attention, for the course (report, export)."""
    return graders_view(course_facts(config, assignments))


def assignment_view(config: CourseConfig, assignment: str) -> GradersView:
    """course_view for one assignment (`attune grade --compare`)."""
    return graders_view(course_facts(config, [assignment]))
