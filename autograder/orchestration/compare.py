"""`attune grade --compare`: list every rubric cell whose executed score differs from the score of its answers as
written, and flag those cells for review (in formgrader the test cell needs a score and carries the reason; the
notebook shows as flagged). Then list what else needs a grader's attention in that exercise (autograder.core.attention):
the totals the gradebook would export must not go out unchecked either."""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.adapters.config import CourseConfig
from autograder.adapters.gradebook import exercise_notebooks, flag, open_gradebook, submitted_students
from autograder.core.attention import Attention
from autograder.orchestration.attention import assignment_view
from autograder.orchestration.submissions import read_submitted
from autograder.static.notebooks import Difference, differences, recorded


@dataclass
class Comparison:
    differences: list[Difference] = field(default_factory=list)
    static_only: list[str] = field(default_factory=list)
    ungraded: list[str] = field(default_factory=list)
    compared: int = 0
    attention: list[Attention] = field(default_factory=list)


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
    result.attention = assignment_view(course, assignment).attention  # after flagging: new flags are open items
    return result
