"""Grading from the answers as written, without running any of the trainee's code. Pure: plain data in and out.

Every autograded part of an exercise is a pair of nbgrader cells: an answer cell, where the form writes
``amira = {...}`` as a literal, and a test cell whose hidden test holds the reference literal and calls
``grade(globals().get("amira"), REFERENCE, part=..., points=...)``. Executing the notebook scores whatever
``amira`` holds at the end of the run, which trainee code can change (or the scoring function itself). Here the
answer is read from the answer cell's text with ``ast`` and scored with the same core and the same reference,
so the score depends on what was written, and on nothing that runs.

The cells of an exercise come from where nbgrader keeps them (its gradebook, or the source notebook):
:class:`SourceCell`. Which cell is a submission's answer cell follows nbgrader's own sanitising rules: the
last cell carrying the grade id wins (``DeduplicateIds``).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from autograder.core.feedback import render_feedback
from autograder.core.literals import Found, cell_source, hidden_tests, literal_assigned, value_assigned
from autograder.core.scoring import CohortScorer, Rule, Score
from course.errors import AttuneError

GRADE_FUNCTION = "grade"


class ExerciseError(AttuneError, ValueError):
    """An exercise's own cells (its hidden tests, its answer cells, its reference) are not in the form `attune build`
    writes: grading stops, naming the cell; the fix is the instructor's (rebuild the exercise)."""


@dataclass(frozen=True)
class SourceCell:
    """One nbgrader cell of an exercise notebook, as the instructor's version defines it."""

    name: str
    cell_type: str
    source: str
    grade: bool = False
    solution: bool = False
    locked: bool = False
    points: float | None = None
    checksum: str | None = None
    task: bool = False

    def nbgrader_metadata(self) -> dict:
        """The cell's nbgrader metadata as the released notebook carries it."""
        meta = {"cell_type": self.cell_type, "checksum": self.checksum, "grade": self.grade, "grade_id": self.name,
                "locked": self.locked, "schema_version": 3, "solution": self.solution, "task": self.task}
        if self.grade or self.task:
            meta["points"] = self.points
        return meta


@dataclass(frozen=True)
class RubricCell:
    """An autograded part: the test cell that scores it, the answer cell that holds it, and its reference."""

    test_cell: str
    answer_cell: str
    variable: str
    part: str
    points: float
    reference: dict


@dataclass(frozen=True)
class StaticGrade:
    """The score of one rubric cell from the answers as written; ``problem`` says why nothing could be read."""

    rubric: RubricCell
    score: Score
    problem: str | None = None

    @property
    def points(self) -> float:
        return self.score.points

    def feedback(self) -> str:
        """What the test cell prints when it runs, so static and executed feedback read the same."""
        return render_feedback(self.score, reveal=False)


def _grade_call(hidden: str) -> ast.Call | None:
    try:
        tree = ast.parse(hidden)
    except SyntaxError:
        return None
    return next((node for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Name) and node.func.id == GRADE_FUNCTION), None)


def rubric_cells(cells: Sequence[SourceCell]) -> list[RubricCell]:
    """The autograded parts of one notebook: every grade cell whose hidden test calls ``grade(...)``.

    Raises ExerciseError naming the cell when a hidden test or its answer cell is not in the expected form:
    these are the instructor's cells, so a mistake there must stop grading, not score silently.
    """
    found = []
    for cell in cells:
        hidden = hidden_tests(cell.source) if cell.grade and cell.cell_type == "code" else ""
        call = _grade_call(hidden) if hidden else None
        if call is None:
            continue
        where = f"test cell {cell.name!r}"
        try:
            keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg in ("part", "points")}
            first = call.args[0]
            # grade(globals().get("<variable>"), REFERENCE, ...): the variable is the first argument's string
            variable = first.args[0].value if isinstance(first, ast.Call) and first.args else None  # type: ignore
        except (ValueError, IndexError, AttributeError) as err:
            raise ExerciseError(f"{where}: the grade(...) call is not in the generated form ({err}).") from None
        if not isinstance(variable, str) or "part" not in keywords or "points" not in keywords:
            raise ExerciseError(f"{where}: expected grade(globals().get(\"<variable>\"), REFERENCE, part=..., "
                                "points=...).")
        reference = literal_assigned(hidden, "REFERENCE")
        if reference.problem:
            raise ExerciseError(f"{where}: {reference.problem}.")
        if cell.points is not None and float(keywords["points"]) != float(cell.points):
            raise ExerciseError(f"{where}: grade(..., points={keywords['points']}) but the cell is worth "
                                f"{cell.points} points; rebuild the exercise (attune build).")
        answer = [c.name for c in cells if c.solution and c.cell_type == "code"
                  and value_assigned(c.source, variable).problem != f"no assignment to {variable!r}"]
        if len(answer) != 1:
            raise ExerciseError(f"{where}: expected one answer cell assigning {variable!r}, found {answer or 'none'}.")
        found.append(RubricCell(cell.name, answer[0], variable, str(keywords["part"]), float(keywords["points"]),
                                reference.value))
    return found


def nbgrader_cells(cells: Sequence[Mapping]) -> dict[str, Mapping]:
    """Submitted cells by grade id, as nbgrader sanitises them: of repeated ids the LAST cell keeps the id."""
    by_id: dict[str, Mapping] = {}
    for cell in cells:
        # isinstance(dict), not Mapping: nbformat's NotebookNode is a dict, and ABC checks are slow
        metadata = cell.get("metadata") if isinstance(cell, dict) else None
        meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
        if isinstance(meta, dict) and (meta.get("grade") or meta.get("solution") or meta.get("locked")) \
                and type(meta.get("grade_id")) is str:
            by_id[meta["grade_id"]] = cell
    return by_id


def scorer(rubric: RubricCell, rules: Mapping[str, Rule]) -> CohortScorer:
    """The scorer of one rubric part: checks its reference (loudly) once, then scores any number of answers."""
    return CohortScorer(rubric.reference, rules, rubric.points)


def answers_as_written(cells: Mapping[str, Mapping], answer_cell: str, variable: str) -> Found:
    """The answers in one answer cell (``cells`` from :func:`nbgrader_cells`), or why they cannot be read."""
    cell = cells.get(answer_cell)
    if cell is None:
        return Found(problem=f"the answer cell ({answer_cell}) is not in the notebook: it was deleted or its "
                             "grade id was changed")
    found = value_assigned(cell_source(cell), variable)
    return Found(problem=f"answer cell {answer_cell}: {found.problem}") if found.problem else found


def grade_answers(cells: Mapping[str, Mapping], rubric: RubricCell, scoring: CohortScorer) -> StaticGrade:
    """Score one part from its answer cell's text (``cells`` from :func:`nbgrader_cells`)."""
    found = answers_as_written(cells, rubric.answer_cell, rubric.variable)
    if found.problem:
        return unreadable(rubric, scoring, found.problem)
    return StaticGrade(rubric, scoring.score(found.value))


def unreadable(rubric: RubricCell, scoring: CohortScorer, problem: str) -> StaticGrade:
    """Zero for a part whose answers cannot be read at all, with the reason shown where the score is shown."""
    score = scoring.score(None)
    advice = "Use the form, run the answer cell so it writes your answers as values, and save the notebook."
    return StaticGrade(rubric, dataclasses.replace(score, problems=(f"{problem}. {advice}",)), problem)


def differs(executed: float | None, static: float, tolerance: float = 1e-9) -> bool:
    """Whether an executed test cell's score disagrees with the score of the answers as written."""
    return executed is None or abs(float(executed) - float(static)) > tolerance
