"""Static grading of one submitted notebook against its exercise's cells, as nbgrader would record it.

Shared by the two ways Attune records rubric scores: ``attune grade --static`` (nothing runs at all) and the
autograde steps in autograder/adapters/preprocessors.py (the notebook runs, but the score recorded for a rubric part is
the one computed here). Works on plain notebook dicts, so nbformat's NotebookNode works too.

The gradebook decides what the exercise is: its source cells (the text nbgrader restores into locked cells and
runs as hidden tests), its grade cells and their points. :func:`sanitise` mirrors nbgrader's own sanitising
steps (ClearOutput, DeduplicateIds, OverwriteCells) so that the autograded notebook Attune writes is the one
nbgrader would write, minus the execution; tests compare the two cell by cell.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autograder.core.literals import cell_source
from autograder.core.scoring import CohortScorer, Rule
from autograder.static.answers import (
    ExerciseError,
    RubricCell,
    SourceCell,
    StaticGrade,
    differs,
    grade_answers,
    nbgrader_cells,
    rubric_cells,
    scorer,
    unreadable,
)

FLAG_PREFIX = "Attune review:"  # starts every comment that flags a submission for review (formgrader shows it)
RECORDED_LOG = "Attune recorded the scores of"  # logged once per notebook by SaveStaticGrades, after record()
RECORD_KEY = "attune"  # notebook metadata written by Attune's grading: scores per rubric cell, and how graded
NO_RESPONSE = "No response."  # nbgrader's auto comment for an untouched answer cell


@dataclass
class ExerciseNotebook:
    """One notebook of an exercise as the gradebook defines it, with its rubric parts and their scoring rules."""

    name: str
    cells: list[SourceCell]
    rubric: list[RubricCell]
    rules: dict[str, dict[str, Rule]]
    scorers: dict[str, CohortScorer]  # by test cell
    by_name: dict[str, SourceCell] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name: dict[str, SourceCell] = {c.name: c for c in self.cells}

    @classmethod
    def from_cells(cls, name: str, cells: list[SourceCell]) -> ExerciseNotebook:
        load_part = installed_course_package().parts.load_part

        rubric = rubric_cells(cells)
        rules = {r.part: load_part(r.part).rules for r in rubric}
        scorers = {}
        for r in rubric:  # the key is the instructor's: a broken one stops grading, once, before any trainee
            try:
                scorers[r.test_cell] = scorer(r, rules[r.part])
            except ValueError as err:
                raise ExerciseError(f"{name}: test cell {r.test_cell!r}: {err}") from None
        return cls(name, cells, rubric, rules, scorers)


@dataclass
class NotebookGrades:
    """What grading one notebook gives: auto scores per grade cell (None: to be graded by hand), auto comments
    per answer cell, the static grade of every rubric part, and why the notebook could not be read if so."""

    notebook: str
    scores: dict[str, float | None] = field(default_factory=dict)
    comments: dict[str, str | None] = field(default_factory=dict)
    static: dict[str, StaticGrade] = field(default_factory=dict)
    problem: str | None = None
    present: set[str] = field(default_factory=set)  # grade cells found in the submission


def installed_course_package() -> Any:
    """The installed ``course`` package, with its ``parts`` module.

    nbgrader puts its working directory first on sys.path. A course folder that holds a ``course/`` folder of
    its own (copies of the lessons, say) is then found as a namespace package before an editable install's
    finder is asked, and Attune's grading steps could not load the rubric. Such a shadow is set aside here.
    """
    import importlib
    import os
    import sys

    course = importlib.import_module("course")
    if getattr(course, "__file__", None) is None:  # a namespace package: a bare folder, not Attune's package
        for module in [m for m in sys.modules if m == "course" or m.startswith("course.")]:
            del sys.modules[module]
        here, saved = os.getcwd(), sys.path[:]
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
        try:
            course = importlib.import_module("course")
        finally:
            sys.path[:] = saved
    importlib.import_module("course.parts")
    return course


def checksum(cell_type: str, source: str, meta: Mapping[str, Any]) -> str:
    """nbgrader's cell checksum (nbgrader.utils.compute_checksum, cross-checked in the tests)."""
    digest = hashlib.md5()
    for part in (source, cell_type, str(bool(meta.get("grade"))), str(bool(meta.get("solution"))),
                 str(bool(meta.get("locked"))), meta["grade_id"]):
        digest.update(part.encode("utf-8"))
    if meta.get("grade"):
        digest.update(str(float(meta["points"])).encode("utf-8"))
    return digest.hexdigest()


def _meta(cell: Any) -> Mapping:
    """A cell's nbgrader metadata, or {} (also when a hand edit left the metadata malformed)."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def restore_metadata(cells: list, exercise: ExerciseNotebook) -> None:
    """Give every cell that claims a grade id the gradebook's nbgrader metadata for it, and take the claim away
    from cells whose id the gradebook does not know, whose metadata is not nbgrader's at all, or that repeat an
    id (the last cell keeps it, as nbgrader's DeduplicateIds decides).

    nbgrader trusts the flags and points a submission carries until its last sanitising step validates them: a
    hand-edited value fails the submission, and a repeated id stops the whole autograde run for every trainee
    after it (DeduplicateIds leaves an empty metadata dict, which validation rejects as an outdated schema).
    The trainee's sources are left as they are.
    """
    known = exercise.by_name
    seen: set[str] = set()
    for cell in reversed(cells):
        if not isinstance(cell, dict) or not isinstance(cell.get("metadata"), dict) \
                or "nbgrader" not in cell["metadata"]:
            continue
        meta = cell["metadata"]["nbgrader"]
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if isinstance(grade_id, str) and grade_id in known and grade_id not in seen:
            cell["metadata"]["nbgrader"] = known[grade_id].nbgrader_metadata()
            seen.add(grade_id)
        else:
            del cell["metadata"]["nbgrader"]


def sanitise(nb: dict, exercise: ExerciseNotebook) -> dict:
    """The submitted notebook as nbgrader's sanitising steps leave it. Changes ``nb`` in place and returns it
    (graders read each submission fresh from its file, so a copy would only cost time).

    First :func:`restore_metadata` (Attune's RestoreCellMetadata step, first in the project's sanitising list),
    which leaves one cell per known grade id with the gradebook's metadata (what DeduplicateIds and the metadata
    part of OverwriteCells would otherwise do); then ClearOutput empties code outputs, and OverwriteCells restores
    the cell type and, for locked cells, the source from the gradebook.
    """
    cells = [c for c in nb.get("cells", []) if isinstance(c, dict)]
    nb["cells"] = cells
    restore_metadata(cells, exercise)
    known = exercise.by_name
    for cell in cells:
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        meta = _meta(cell)
        source = known.get(meta.get("grade_id"))  # type: ignore[arg-type]
        if source is None:
            continue
        if cell.get("cell_type") != source.cell_type:
            cell["cell_type"] = source.cell_type
            if source.cell_type == "code":
                cell["outputs"], cell["execution_count"] = [], None
            else:
                cell.pop("outputs", None)
                cell.pop("execution_count", None)
        text = cell_source(cell)
        if source.locked and text != source.source and checksum(cell["cell_type"], text, meta) != source.checksum:
            cell["source"] = source.source
    return nb


def grade_notebook(nb: dict | None, exercise: ExerciseNotebook, problem: str | None = None) -> NotebookGrades:
    """Grade a sanitised notebook (or none, with ``problem`` saying why) from its answers as written.

    Rubric parts are scored statically. Other grade cells follow nbgrader's rules: an answer cell to be graded
    by hand scores 0 if untouched, else waits for a grader (None); a 0-point format check scores 0. An
    autograded test cell worth points that static grading cannot score raises ValueError: the exercise needs
    executed grading, and guessing would be silently wrong.
    """
    result = NotebookGrades(exercise.name, problem=problem)
    cells = nbgrader_cells(nb["cells"]) if nb is not None else {}
    rubric_by_test = {r.test_cell: r for r in exercise.rubric}
    for source in exercise.cells:
        cell = cells.get(source.name)
        if cell is not None:
            result.present.add(source.name)
        if source.name in rubric_by_test:
            rubric = rubric_by_test[source.name]
            scoring = exercise.scorers[source.name]
            if nb is None or problem:
                graded = unreadable(rubric, scoring, problem or "the notebook could not be read")
            else:
                graded = grade_answers(cells, rubric, scoring)
            result.static[source.name] = graded
            result.scores[source.name] = graded.points
            continue
        meta = _meta(cell) if cell is not None else {}
        if source.grade:
            if nb is None:
                result.scores[source.name] = 0.0
            elif cell is None:
                continue  # nbgrader leaves a missing cell's grade as it is
            elif source.solution:
                unchanged = checksum(source.cell_type, cell_source(cell), {**meta, "grade": True, "solution": True,
                                                                          "points": source.points}) == source.checksum
                result.scores[source.name] = 0.0 if unchanged else None
            elif not source.points:
                result.scores[source.name] = 0.0
            else:
                raise ExerciseError(f"{exercise.name}: cell {source.name!r} is an autograded test worth "
                                    f"{source.points:g} points that is not an Attune rubric part; static grading "
                                    "cannot score it. Grade this exercise with plain `attune grade` (executed).")
        if source.solution:
            if cell is None or nb is None:
                continue
            unchanged = checksum(source.cell_type, cell_source(cell), meta) == source.checksum
            result.comments[source.name] = NO_RESPONSE if unchanged else None
    for graded in result.static.values():
        if graded.problem:
            result.comments[graded.rubric.answer_cell] = f"Attune: {graded.problem}."
    return result


def form_output(part_id: str) -> dict:
    """What a form cell shows where no widget can render (the part's text), as the executed form cell leaves it
    for feedback pages; the same for every trainee, so made once per part."""
    return _form_output(part_id)


@functools.lru_cache(maxsize=64)
def _form_output(part_id: str) -> dict:
    part = installed_course_package().parts.load_part(part_id)
    return {"data": {"text/html": part.as_html(), "text/plain": part.as_text()}, "metadata": {},
            "output_type": "display_data"}


def feedback_outputs(graded: StaticGrade) -> list[dict]:
    """The outputs a rubric test cell shows: the same per-item feedback and score the hidden test prints."""
    return [{"name": "stdout", "output_type": "stream", "text": graded.feedback() + "\n"},
            {"data": {"text/plain": repr(float(graded.points))}, "execution_count": None, "metadata": {},
             "output_type": "execute_result"}]


def record(nb: dict, grades: NotebookGrades, how: str, executed: Mapping[str, float | None] | None = None,
           as_node: Any = None, sandboxed: bool | None = None) -> None:
    """Write the static scores into the notebook: each rubric test cell's outputs, and a metadata record of
    the static score (and the executed one, when the notebook ran) per rubric cell; for an executed run, whether
    its kernel ran in the grading sandbox."""
    cells = nbgrader_cells(nb["cells"])
    entries = {}
    for test_cell, graded in grades.static.items():
        form = cells.get(f"form_{graded.rubric.variable}")  # the form cell, named by `attune build`
        if form is not None and form.get("cell_type") == "code":
            # The transcript or items as text, for executed and static grading alike: a widget's view needs its
            # kernel, so in formgrader and in the autograded notebook it would be an empty area.
            output = form_output(graded.rubric.part)
            form["outputs"] = [as_node(output) if as_node else output]  # type: ignore[index]
        cell = cells.get(test_cell)
        if cell is not None and cell.get("cell_type") == "code":
            outputs = feedback_outputs(graded)
            # nbconvert's writer reads outputs by attribute: inside nbgrader the notebook is a NotebookNode.
            cell["outputs"] = [as_node(o) for o in outputs] if as_node else outputs  # type: ignore[index]
        entry: dict[str, Any] = {"static": graded.points, "max": graded.rubric.points}
        if executed is not None:
            entry["executed"] = executed.get(test_cell)
            if differs(entry["executed"], graded.points):  # for the grader only (formgrader's grading page)
                entry["review"] = review_reason(test_cell, entry["executed"], graded.points)
        if graded.problem:
            entry["problem"] = graded.problem
        entries[test_cell] = entry
    nb.setdefault("metadata", {})[RECORD_KEY] = {"graded": how, "cells": entries}
    if sandboxed is not None:
        nb["metadata"][RECORD_KEY]["sandboxed"] = sandboxed


def recorded(nb: Mapping) -> dict | None:
    """Attune's grading record in an autograded notebook, or None if Attune's grading did not finish it."""
    entry = nb.get("metadata", {}).get(RECORD_KEY) if isinstance(nb, Mapping) else None
    return entry if isinstance(entry, dict) and "graded" in entry else None


# -- executed vs static ------------------------------------------------------------------------------------------
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
        return review_reason(self.cell, self.executed, self.static)


def review_reason(cell: str, executed: float | None, static: float) -> str:
    """Why a rubric cell is flagged for review, for the grader who scores it (never shown to the trainee)."""
    said = "did not report a score" if executed is None else f"gave {executed:g}"
    return (f"{FLAG_PREFIX} when this notebook was run, its test cell {cell} {said}, but the answers as written "
            f"earn {static:g}. {static:g} was recorded; enter the score you decide on this cell to resolve the "
            "flag.")


def differences(record_entry: dict, student: str, notebook: str, answer_cells: dict[str, str]) -> list[Difference]:
    """Differences in one autograded notebook's grading record (nothing if it was graded statically only)."""
    found = []
    for cell, entry in record_entry.get("cells", {}).items():
        if "executed" in entry and differs(entry["executed"], entry["static"]):
            found.append(Difference(student, notebook, cell, entry["executed"], entry["static"], answer_cells[cell]))
    return found
