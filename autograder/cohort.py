"""The tidy cohort table: one row per trainee x assignment x item x field, from the gradebook and the
autograded notebooks.

The gradebook says who submitted what; each autograded notebook holds the trainee's answer literals; the source
notebook in solutions/ holds the reference answers in its hidden tests (the same literal nbgrader runs). Both
are read without executing anything, and scored with the same core as the test cells.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from autograder.literals import cell_source, read_notebook
from autograder.scoring import CohortScorer, Score
from autograder.static import SourceCell, answers_as_written, nbgrader_cells, rubric_cells

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
            raise ValueError(f"{path}: {err}") from None
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


def cohort_table(root: Path, assignments: list[str] | None = None, db_url: str | None = None) -> pd.DataFrame:
    """Read the gradebook at `root` (or `db_url`) and every autograded notebook it knows of."""
    from nbgrader.api import Gradebook

    from course.parts import load_part

    url = db_url or f"sqlite:///{root / 'gradebook.db'}"
    rows: list[tuple] = []
    with Gradebook(url, course_id="attune") as gb:
        names = assignments or [a.name for a in gb.assignments]
        for assignment in names:
            parts = graded_parts(root / "solutions", assignment)
            rules = {part.part: load_part(part.part).rules for part in parts}
            scorers = {part.grade_id: CohortScorer(part.reference, rules[part.part], part.points) for part in parts}
            kinds = {name: {f: rule.kind for f, rule in r.items()} for name, r in rules.items()}
            for submission in gb.assignment_submissions(assignment):
                student = submission.student.id
                for part in parts:
                    answers, problem = _answers(root / "autograded" / student / assignment / f"{part.notebook}.ipynb",
                                                part)
                    score = scorers[part.grade_id].score(answers)
                    rows += score_rows(student, part, score, kinds[part.part], problem)
    return build_table(rows)


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


def gradebook_scores(root: Path, db_url: str | None = None) -> pd.DataFrame:
    """What nbgrader recorded: one row per trainee x assignment x graded cell (auto, manual and final score)."""
    from nbgrader.api import Gradebook

    url = db_url or f"sqlite:///{root / 'gradebook.db'}"
    records = []
    with Gradebook(url, course_id="attune") as gb:
        for assignment in gb.assignments:
            for submission in gb.assignment_submissions(assignment.name):
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        records.append({"student": submission.student.id, "assignment": assignment.name,
                                        "notebook": notebook.name, "cell": grade.name, "auto": grade.auto_score,
                                        "manual": grade.manual_score, "score": grade.score,
                                        "max_score": grade.max_score, "needs_manual": grade.needs_manual_grade})
    return pd.DataFrame.from_records(records)


def review_flags(root: Path, db_url: str | None = None) -> pd.DataFrame:
    """Cells flagged for review by `attune grade --compare` (or by autograde itself): one row per cell."""
    from nbgrader.api import Gradebook

    from autograder.grading import flagged_for_review

    url = db_url or f"sqlite:///{root / 'gradebook.db'}"
    rows: list[dict] = []
    with Gradebook(url, course_id="attune") as gb:
        for assignment in gb.assignments:
            rows += flagged_for_review(gb, assignment.name)
    return pd.DataFrame.from_records(rows, columns=["student", "assignment", "notebook", "cell", "comment"])


def refused_submissions(root: Path) -> pd.DataFrame:
    """Submissions `nbgrader collect` refused as made in another trainee's name (autograder.exchange): one row
    per refused inbound folder, columns autograder.exchange.FIELDS; empty (with the columns) if none was.
    RefusalLogError, naming the file and line, if the log has a malformed line."""
    from autograder.exchange import FIELDS, read_refusals, refusals_log

    return pd.DataFrame.from_records(read_refusals(refusals_log(root)), columns=list(FIELDS))
