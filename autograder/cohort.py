"""The tidy cohort table: one row per trainee x assignment x item x field, from the gradebook and the
autograded notebooks.

The gradebook says who submitted what; each autograded notebook holds the trainee's answer literals; the source
notebook in solutions/ holds the reference answers in its hidden tests (the same literal nbgrader runs). Both
are read without executing anything, and scored with the same core as the test cells.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from autograder.literals import answers_in_notebook, cell_source, hidden_tests, read_notebook, reference_in_notebook
from autograder.scoring import Score, score_items

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


def graded_parts(source: Path, assignment: str) -> list[GradedPart]:
    """The parts of one exercise found in its source notebook(s): every hidden test that calls grade()."""
    found = []
    for path in sorted((source / assignment).glob("*.ipynb")):
        nb = read_notebook(path)
        for cell in nb["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            hidden = hidden_tests(cell_source(cell))
            if not (meta.get("grade") and hidden):
                continue
            call = next((n for n in ast.walk(ast.parse(hidden)) if isinstance(n, ast.Call)
                         and getattr(n.func, "id", None) == "grade"), None)
            if call is None:
                continue
            keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
            variable = ast.unparse(call.args[0].args[0]) if isinstance(call.args[0], ast.Call) else ""
            variable = variable.strip("'\"")
            reference = reference_in_notebook(nb, meta["grade_id"])
            if reference.problem:
                raise ValueError(f"{path}: cell {meta['grade_id']}: {reference.problem}")
            found.append(GradedPart(assignment, path.stem, variable, keywords["part"], meta["grade_id"],
                                    float(keywords["points"]), reference.value))
    return found


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set):
        return ",".join(sorted(map(str, value)))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(value: Any) -> float:
    return float(value) if type(value) in (int, float) else float("nan")


def score_rows(student: str, part: GradedPart, score: Score, kinds: dict[str, str]) -> list[tuple]:
    """Rows of the cohort table for one scored part of one trainee. Pure."""
    return [(student, part.assignment, part.part, r.item_id, r.field, r.label, kinds[r.field], _show(r.expected),
             _show(r.given), _number(r.expected), _number(r.given), r.credit, r.possible, r.rationale,
             r.problem or "") for r in score.results]


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
            for submission in gb.assignment_submissions(assignment):
                student = submission.student.id
                for part in parts:
                    rules = load_part(part.part).rules
                    kinds = {name: rule.kind for name, rule in rules.items()}
                    path = root / "autograded" / student / assignment / f"{part.notebook}.ipynb"
                    answers: Any = None
                    if path.is_file():
                        try:
                            answers = answers_in_notebook(read_notebook(path), part.variable).value
                        except ValueError:
                            answers = None  # unreadable: scored as unanswered, with the problem per field
                    score = score_items(answers, part.reference, rules, part.points)
                    rows += score_rows(student, part, score, kinds)
    return build_table(rows)


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
