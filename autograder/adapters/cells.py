"""What nbgrader test cells call. Thin adapters over the scoring core.

nbgrader reads a test cell's score from its LAST execute_result, and gives FULL credit when there is
none or when it cannot read it, and ZERO when anything reaches stderr (see shared notes). So:
``check_format`` passes or raises FormatProblems (visible test in a 0-point cell, format only), ``grade`` prints
feedback and returns a plain float in [0, points] (hidden test), and neither writes to stderr.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from autograder.core.feedback import render_feedback, wrap
from autograder.core.scoring import format_problems, score_items


class FormatProblems(AssertionError):
    """The answers are not complete or not well formed. Shown as plain words, without a traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython shows these lines instead of a traceback
        return str(self).splitlines()


def _part(part_id: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from course.parts import load_part

        return load_part(part_id)


def check_format(answers: object, part_id: str) -> None:
    """A visible test: print a short note when every item is well formed, else fail in plain words.

    It checks the shape only (known items, known values, right types), never correctness, and sits in a
    0-point test cell: failing it costs nothing at grading, but nbgrader's Validate button and a trainee's
    own run see the problems. The graded cell scores whatever is well formed, field by field.
    """
    if answers is None:
        raise FormatProblems("Format check: there are no answers to check yet. Run the answer cell above "
                             "(Shift+Enter), then this cell.")
    part = _part(part_id)
    problems = format_problems(answers, part.items, part.rules, part.missing)
    if problems:
        lines = [f"Format check: {len(problems)} thing(s) to fix before submitting:"]
        lines += [wrap(f"- {problem}", indent="  ") for problem in problems]
        lines.append("Use the form, run the answer cell, and save. Answers that are well formed still count.")
        raise FormatProblems("\n".join(lines))
    if part.kind == "coding":
        print(f"Format check passed: all {len(part.items)} listener turns have a code and an empathy level.")
    else:
        print(f"Format check passed: all {len(part.items)} items are answered.")
    print("This checks the format only; the score comes when the notebook is graded (working on your own: the "
          "self-check).")


def grade(answers: object, reference: Mapping, *, part: str, points: float, reveal: bool = False) -> float:
    """Score against the hidden reference, print per-item feedback, and return the points as a float."""
    score = score_items(answers, reference, _part(part).rules, points)
    print(render_feedback(score, reveal=reveal))
    return score.points
