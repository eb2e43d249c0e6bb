"""What nbgrader test cells call. Thin adapters over the scoring core.

nbgrader reads a test cell's score from its LAST execute_result, and gives FULL credit when there is
none or when it cannot read it, and ZERO when anything reaches stderr (see shared notes). So:
``check_format`` passes or raises FormatProblems (visible test in a 0-point cell, format only), ``grade_coding`` prints
feedback and returns a plain float in [0, points] (hidden test), and neither writes to stderr.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from autograder.feedback import render_feedback, wrap
from autograder.scoring import format_problems, score_coding


class FormatProblems(AssertionError):
    """The answers are not complete or not well formed. Shown as plain words, without a traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython shows these lines instead of a traceback
        return str(self).splitlines()


def check_format(answers: object, transcript_id: str) -> None:
    """A visible test: print a short note when every turn is well formed, else fail in plain words.

    It checks the shape only (known turns, known codes, whole-number levels), never correctness, and sits
    in a 0-point test cell: failing it costs nothing at grading, but nbgrader's Validate button and a
    trainee's own run see the problems. The graded cell scores whatever is well formed, turn by turn.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from course.rubric import load_rubric
        from course.transcript import load_transcript

        rubric, transcript = load_rubric(), load_transcript(transcript_id)
    turn_ids = transcript.coded_turn_ids
    problems = format_problems(answers, turn_ids, rubric.code_ids, rubric.empathy_levels)
    if problems:
        lines = [f"Format check: {len(problems)} thing(s) to fix before submitting:"]
        lines += [wrap(f"- {problem}", indent="  ") for problem in problems]
        lines.append("Use the coding form, run the answer cell, and save. Turns that are well formed still count.")
        raise FormatProblems("\n".join(lines))
    print(f"Format check passed: all {len(turn_ids)} therapist turns have a code and an empathy level.")
    print("This checks the format only; your score comes when your instructor grades the notebook.")


def grade_coding(answers: object, reference: Mapping, points: float, *, reveal: bool = False) -> float:
    """Score against the hidden reference, print per-turn feedback, and return the points as a float."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from course.rubric import load_rubric

        rubric = load_rubric()
    score = score_coding(answers, reference, points, rubric.code_ids, rubric.empathy_levels)
    print(render_feedback(score, reveal=reveal))
    return score.points
