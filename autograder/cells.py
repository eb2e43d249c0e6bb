"""What nbgrader test cells call. Thin adapters over the scoring core.

nbgrader reads a test cell's score from its LAST execute_result, and gives FULL credit when there is
none or when it cannot read it, and ZERO when anything reaches stderr (see shared notes). So:
``check_format`` prints and returns None (visible test, format only), ``grade_coding`` prints
feedback and returns a plain float in [0, points] (hidden test), and neither writes to stderr.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from autograder.feedback import render_feedback, wrap
from autograder.scoring import format_problems, score_coding


def check_format(answers: object, transcript_id: str) -> None:
    """Print whether the answers have the right shape for this transcript (never their correctness)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from course.rubric import load_rubric
        from course.transcript import load_transcript

        rubric, transcript = load_rubric(), load_transcript(transcript_id)
    turn_ids = transcript.coded_turn_ids
    problems = format_problems(answers, turn_ids, rubric.code_ids, rubric.empathy_levels)
    if problems:
        print(f"Format check: {len(problems)} thing(s) to fix before submitting:")
        for problem in problems:
            print(wrap(f"  - {problem}", indent="  "))
    else:
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
