"""The learner's self-check: small and kind, like otter-grader's ``check()``.

It reports (1) whether the answers have the right format, (2) whether the notebook file on disk holds
the same answers as the kernel (what gets graded is the file), and (3) per-turn feedback with the
expert's reasons, but only where the reference is available locally: a self-paced learner who has
the course's solutions/ folder beside exercises/. In a cohort the trainee has no solutions/, and the
check says that full feedback comes from the instructor.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from autograder.feedback import render_feedback, wrap
from autograder.literals import read_notebook, reference_in_notebook
from autograder.scoring import format_problems, score_items
from course.widgets.recorder import notebook_path, saved_answers


def locate_solutions(notebook: Path | None) -> Path | None:
    """solutions/<exercise>/<notebook> for a notebook at <course>/exercises/<exercise>/<notebook>, if present.

    Deliberately narrow: during autograde the notebook sits in autograded/<student>/<exercise>/, so the
    check never finds the key there and never prints it into feedback.
    """
    folder = notebook.parent if notebook is not None else Path(os.getcwd())
    if folder.parent.name != "exercises":
        return None
    name = notebook.name if notebook is not None else None
    candidates = folder.parent.parent / "solutions" / folder.name
    if name and (candidates / name).is_file():
        return candidates / name
    found = sorted(candidates.glob("*.ipynb")) if candidates.is_dir() else []
    return found[0] if len(found) == 1 else None


def self_check(answers: Any, part: Any, *, exercise: str | None = None, test_cell: str | None = None,
               variable: str = "answers", unconfirmed: bool = False) -> None:
    """Format, saved-file and (where the solutions are at hand) feedback for one exercise part."""
    problems = format_problems(answers, part.items, part.rules, part.missing)
    if problems:
        print("Format: some things to fix first:")
        print("\n".join(wrap(f"  - {p}") for p in problems))
    elif part.kind == "coding":
        print(f"Format: all {len(part.items)} therapist turns have a code and an empathy level.")
    else:
        print(f"Format: all {len(part.items)} items are answered.")

    saved = saved_answers(variable)
    if saved is None and unconfirmed:
        print(wrap("Saved file: cannot be checked from here, and the form's last write into the answer cell was "
                   "not confirmed. Run the answer cell once more: it tells you if your notebook app ignored the "
                   "write. Then save."))
    elif saved is not None and saved.problem:
        print(wrap(f"Saved file: the answers could not be read ({saved.problem}). Run the answer cell and save "
                   "again."))
    elif saved is not None and saved.value != answers:
        print(wrap("Saved file: NOT up to date. The notebook file holds different answers from the ones checked "
                   "here. Save (Ctrl+S) and run this check again: what gets graded is the saved file."))
    elif saved is not None:
        print("Saved file: up to date.")

    notebook = notebook_path()

    solution = locate_solutions(notebook) if test_cell else None
    if solution is None:
        print("\n" + wrap("Full feedback, with the expert's reasons for each item, comes from your instructor "
                           "when they grade this exercise."))
        return
    try:
        found = reference_in_notebook(read_notebook(solution), test_cell)
    except ValueError as err:
        print(f"\nThe reference answers could not be read: {err}")
        return
    if found.problem:
        print(f"\nThe reference in {solution} could not be read ({found.problem}).")
        return
    reference = found.value
    # One point per field, as in the graded test: the self-check's score is the part's score.
    score = score_items(answers, reference, part.rules, float(part.n_fields))
    print(f"\nFeedback against the reference answers (from solutions/{solution.parent.name}/{solution.name}):")
    print(render_feedback(score, reveal=True))
