"""The learner's self-check: small and kind, like otter-grader's ``check()``.

It reports (1) whether the answers have the right format, (2) whether the form, the answer cell (as it last
ran in this kernel) and the notebook file on disk hold the same answers, and which one differs (what gets
graded is the file), and (3) feedback with the expert's reasons, but only where the reference is available
locally: a self-paced learner who has the course's solutions/ folder beside exercises/. In a cohort the
trainee has no solutions/, and the check says that full feedback comes from the instructor.

Feedback follows effort: an item never answered shows neither the reference nor its reason, so the key cannot
be read before trying; an item answered right shows its reason; an item answered wrong shows only that it
differs, and its reason after a second, different try, or at once when the learner reveals it on purpose.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from autograder.core.feedback import earned_reasons, note_attempts, render_practice_feedback, show_value, wrap
from autograder.core.literals import read_notebook, reference_in_notebook
from autograder.core.scoring import format_problems, score_items
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


def differing(a: Any, b: Any) -> list[str]:
    """The item ids on which two answer mappings differ (all of them where either is not a mapping)."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return ["(all)"]
    return [k for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k)]


def agreement_lines(form_changes: list[str] | None, cell: Any, saved: Any, *, unconfirmed: bool) -> list[str]:
    """What the learner must do so that the form, the answer cell and the saved file hold the same answers.
    ``form_changes`` are the items changed in the form since it last matched the answer cell (None: no form);
    ``saved`` is a literals.Found or None (unreadable)."""
    lines = []
    if form_changes:
        lines.append("Form: CHANGED since the answer cell last ran (" + ", ".join(form_changes) + "). "
                     "These changes are not in the answer cell yet, so they would not be graded: run the answer "
                     "cell, then save (Ctrl+S). The check below is of the answer cell.")
    if saved is None and unconfirmed:
        lines.append("Saved file: cannot be checked from here, and the form's last write into the answer cell was "
                     "not confirmed. Run the answer cell once more: it tells you if your notebook app ignored the "
                     "write. Then save.")
    elif saved is not None and saved.problem:
        lines.append(f"Saved file: the answers could not be read ({saved.problem}). Run the answer cell and save "
                     "again.")
    elif saved is not None and saved.value != cell:
        lines.append("Saved file: NOT up to date (" + ", ".join(differing(saved.value, cell)) + "). The notebook "
                     "file holds different answers from the answer cell. Save (Ctrl+S) and run this check again: "
                     "what gets graded is the saved file.")
    elif saved is not None:
        lines.append("Saved file: up to date with the answer cell (not with the form)." if form_changes else
                     "Saved file: up to date.")
    elif form_changes is not None and not form_changes:
        lines.append("Form and answer cell agree. (The saved file cannot be read from here: save before you "
                     "hand in.)")
    return lines


def self_check(answers: Any, part: Any, *, test_cell: str | None = None, variable: str = "answers",
               unconfirmed: bool = False, form_changes: list[str] | None = None,
               attempts: dict[str, list[Any]] | None = None, revealed: Collection[str] = ()) -> None:
    """Format, agreement of form / answer cell / saved file and (where the solutions are at hand) feedback that
    follows effort, for one exercise part. ``attempts`` is updated in place with this check's answers."""
    problems = format_problems(answers, part.items, part.rules, part.missing)
    if problems:
        print("Format: some things to fix first:")
        print("\n".join(wrap(f"  - {p}") for p in problems))
    elif part.kind == "coding":
        print(f"Format: all {len(part.items)} listener turns have a code and an empathy level.")
    else:
        print(f"Format: all {len(part.items)} items are answered.")

    for line in agreement_lines(form_changes, answers, saved_answers(variable), unconfirmed=unconfirmed):
        print(wrap(line))

    solution = locate_solutions(notebook_path()) if test_cell else None
    if solution is None:
        print("\n" + wrap("Full feedback, with the expert's reasons for each item, comes from your instructor "
                           "when they grade this exercise."))
        return
    reference = _reference(solution, test_cell)
    if reference is None:
        return
    # One point per field, as in the graded test: the self-check's score is the part's score.
    score = score_items(answers, reference, part.rules, float(part.n_fields))
    history = note_attempts(attempts or {}, score)
    if attempts is not None:
        attempts.clear()
        attempts.update(history)
    earned = earned_reasons(score, history, revealed)
    print(f"\nFeedback against the reference answers (from solutions/{solution.parent.name}/{solution.name}):")
    print(render_practice_feedback(score, earned))
    unanswered = not isinstance(answers, dict) or not answers
    missed = [r.item_id for r in score.results if not r.correct and r.given is not None and r.item_id not in earned]
    if unanswered:
        print("\n" + wrap("Reasons appear for the items you answer: code some in the form, run the answer cell, "
                           "and check again."))
    elif missed:
        first = missed[0]
        print("\n" + wrap(f"Not right yet: {', '.join(dict.fromkeys(missed))}. Look again at the client's words "
                           "and the quick reference, change your answer in the form, run the answer cell and check "
                           "again: the expert's reasoning shows after your second try. To see it now, run "
                           f'reveal("{variable}", "{first}") (from course.widgets import reveal).'))


def reveal(part: Any, item_id: str, *, test_cell: str | None = None) -> bool:
    """Print the reference and the reason for one item, where the solutions are at hand; True if shown."""
    if item_id not in part.items:
        print(f"{item_id!r} is not an item of this part; its items are {', '.join(part.items)}.")
        return False
    solution = locate_solutions(notebook_path()) if test_cell else None
    if solution is None:
        print(wrap("The expert's answers are not available here: in a course, your instructor's feedback and "
                   "debrief go through them after the deadline."))
        return False
    reference = _reference(solution, test_cell)
    if reference is None:
        return False
    entry = reference[item_id]
    fields = "   ".join(f"{part.rules[k].label}: {show_value(v)}" for k, v in entry.items() if k in part.rules)
    print(wrap(f"{item_id} (revealed)   {fields}"))
    print(wrap(f"Why: {entry['why']}", indent="      "))
    return True


def _reference(solution: Path, test_cell: str | None) -> dict | None:
    try:
        found = reference_in_notebook(read_notebook(solution), test_cell)
    except ValueError as err:
        print(f"\nThe reference answers could not be read: {err}")
        return None
    if found.problem:
        print(f"\nThe reference in {solution} could not be read ({found.problem}).")
        return None
    return found.value
