"""The tidy cohort table: one row per trainee x assignment x item x field, from the gradebook and the
autograded notebooks.

The gradebook says who submitted what; each autograded notebook holds the trainee's answer literals; the source
notebook in solutions/ holds the reference answers in its hidden tests (the same literal nbgrader runs). Both
are read without executing anything, and scored with the same core as the test cells.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from autograder.adapters.config import CourseConfig, load_config
from autograder.adapters.gradebook import recorded_grades, review_rows, submissions
from autograder.core.literals import cell_source, read_notebook
from autograder.core.scoring import CohortScorer, Score
from autograder.static.answers import ExerciseError, SourceCell, answers_as_written, nbgrader_cells, rubric_cells

COLUMNS = ["student", "assignment", "part", "item", "field", "label", "kind", "expected", "given", "expected_num",
           "given_num", "credit", "possible", "why", "problem"]
CATEGORICAL = ["student", "assignment", "part", "item", "field", "label", "kind", "expected", "given", "why",
               "problem"]


@dataclass(frozen=True)
class GradedPart:
    """One autograded part of an exercise, as its source notebook defines it."""

    assignment: str
    notebook: str
    variable: str
    part: str
    grade_id: str
    points: float
    reference: dict
    answer_cell: str = ""


def source_cells(nb: dict) -> list[SourceCell]:
    """A source notebook's nbgrader cells, as static grading reads them from the gradebook."""
    cells = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta and meta.get("grade_id"):
            cells.append(SourceCell(meta["grade_id"], cell["cell_type"], cell_source(cell), bool(meta.get("grade")),
                                    bool(meta.get("solution")), bool(meta.get("locked")), meta.get("points")))
    return cells


def graded_parts(source: Path, assignment: str) -> list[GradedPart]:
    """The parts of one exercise found in its source notebook(s): every hidden test that calls grade()."""
    found = []
    for path in sorted((source / assignment).glob("*.ipynb")):
        try:
            rubric = rubric_cells(source_cells(read_notebook(path)))
        except ValueError as err:
            raise ExerciseError(f"{path}: {err}") from None
        found += [GradedPart(assignment, path.stem, r.variable, r.part, r.test_cell, r.points, r.reference,
                             r.answer_cell) for r in rubric]
    return found


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set):
        return ",".join(sorted(map(str, value)))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(value: Any) -> float:
    return float(value) if type(value) in (int, float) else float("nan")


def score_rows(student: str, part: GradedPart, score: Score, kinds: dict[str, str],
               problem: str | None = None) -> list[tuple]:
    """Rows of the cohort table for one scored part of one trainee. Pure. ``problem`` overrides each row's
    problem when the answers could not be read at all (it names the notebook and why)."""
    return [(student, part.assignment, part.part, r.item_id, r.field, r.label, kinds[r.field], _show(r.expected),
             _show(r.given), _number(r.expected), _number(r.given), r.credit, r.possible, r.rationale,
             problem or r.problem or "") for r in score.results]


def build_table(rows: Iterable[tuple]) -> pd.DataFrame:
    """The tidy table from rows, with categorical columns so a large cohort stays small in memory."""
    frame = pd.DataFrame.from_records(list(rows), columns=COLUMNS)
    for column in CATEGORICAL:
        frame[column] = frame[column].astype("category")
    for column in ("expected_num", "given_num", "credit", "possible"):
        frame[column] = frame[column].astype("float32")
    return frame


def course_config(course: CourseConfig | Path, db_url: str | None = None,
                  course_id: str | None = None) -> CourseConfig:
    """The course's configuration: as given, or read from the course folder ``course`` (its nbgrader_config.py);
    ``db_url`` and ``course_id`` override either. The gradebook URL and course id always come from here."""
    if isinstance(course, CourseConfig):
        overrides = {k: v for k, v in (("db_url", db_url), ("course_id", course_id)) if v}
        return replace(course, **overrides) if overrides else course
    return load_config(Path(course), db_url=db_url, course_id=course_id)


def cohort_table(course: CourseConfig | Path, assignments: list[str] | None = None, db_url: str | None = None,
                 course_id: str | None = None) -> pd.DataFrame:
    """Read the course's gradebook (from its configuration; ``db_url``/``course_id`` override it) and every
    autograded notebook it knows of. ``course`` is a CourseConfig or a course folder."""
    from autograder.instructor.analytics import RATING_LABELS, SCALE_ATTR
    from course.parts import load_part

    config = course_config(course, db_url, course_id)
    root = config.root
    rows: list[tuple] = []
    scale: set[int] = set()
    for assignment, students in submissions(config, assignments):
        parts = graded_parts(root / config.source, assignment)
        rules = {part.part: load_part(part.part).rules for part in parts}
        scorers = {part.grade_id: CohortScorer(part.reference, rules[part.part], part.points) for part in parts}
        kinds = {name: {f: rule.kind for f, rule in r.items()} for name, r in rules.items()}
        for student in students:
            for part in parts:
                answers, problem = _answers(config.autograded_dir(student, assignment) / f"{part.notebook}.ipynb",
                                            part)
                score = scorers[part.grade_id].score(answers)
                rows += score_rows(student, part, score, kinds[part.part], problem)
        scale |= {v for r in rules.values() for f, rule in r.items() if rule.label in RATING_LABELS
                  for v in rule.values}
    table = build_table(rows)
    if scale:  # the rubric's levels, so weighted kappa counts every level of its scale (instructor.analytics)
        table.attrs[SCALE_ATTR] = tuple(sorted(scale))
    return table


def _answers(path: Path, part: GradedPart) -> tuple[Any, str | None]:
    """A trainee's answers as written in the answer cell (as static grading reads them), or None and why not
    (naming the notebook): scored as unanswered, kept visible."""
    if not path.is_file():
        return None, f"no autograded notebook at {path}"
    try:
        cells = nbgrader_cells(read_notebook(path)["cells"])
    except ValueError as err:
        return None, str(err)
    found = answers_as_written(cells, part.answer_cell, part.variable)
    return found.value, (f"{path.name}: {found.problem}" if found.problem else None)


def gradebook_scores(course: CourseConfig | Path, db_url: str | None = None,
                     course_id: str | None = None) -> pd.DataFrame:
    """What nbgrader recorded: one row per trainee x assignment x graded cell (auto, manual and final score).
    ``course`` is a CourseConfig or a course folder; ``db_url``/``course_id`` override its configuration."""
    return pd.DataFrame.from_records(recorded_grades(course_config(course, db_url, course_id)))


def review_flags(course: CourseConfig | Path, db_url: str | None = None,
                 course_id: str | None = None) -> pd.DataFrame:
    """Cells flagged for review by `attune grade --compare` (or by autograde itself), with whether a grader has
    scored them since (resolved), and notebooks a grader flagged in formgrader (cell ""): one row each.
    ``course`` is a CourseConfig or a course folder; ``db_url``/``course_id`` override its configuration."""
    rows = review_rows(course_config(course, db_url, course_id))
    return pd.DataFrame.from_records(rows, columns=["student", "assignment", "notebook", "cell", "comment",
                                                    "resolved"])


def unsandboxed_submissions(course: CourseConfig | Path) -> list[str]:
    """Autograded notebooks whose kernel ran without the grading sandbox (c.GradingSandbox.run_unsandboxed), as
    "student/assignment/notebook"; their record says so (autograder.static.notebooks.record)."""
    from autograder.static.notebooks import recorded

    config = course if isinstance(course, CourseConfig) else load_config(course)
    found = []
    for path in sorted((config.root / config.autograded).glob("*/*/*.ipynb")):
        try:
            entry = recorded(read_notebook(path))
        except (OSError, ValueError):
            continue
        if entry is not None and entry.get("sandboxed") is False:
            found.append("/".join(path.relative_to(config.root / config.autograded).with_suffix("").parts))
    return found


def refused_submissions(course: CourseConfig | Path) -> pd.DataFrame:
    """Submissions `nbgrader collect` refused as made in another trainee's name (autograder.adapters.exchange): one row
    per refused inbound folder, columns autograder.adapters.exchange.FIELDS; empty (with the columns) if none was.
    RefusalLogError, naming the file and line, if the log has a malformed line. ``course`` is a CourseConfig or a
    course folder (the collector logs under the course root, where nbgrader_config.py is)."""
    from autograder.adapters.exchange import FIELDS, read_refusals, refusals_log

    root = course.root if isinstance(course, CourseConfig) else Path(course)
    return pd.DataFrame.from_records(read_refusals(refusals_log(root)), columns=list(FIELDS))
