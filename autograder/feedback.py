"""Plain-text feedback on a CodingScore, for test-cell output, the self-check and reports. No I/O."""

from __future__ import annotations

import textwrap

from autograder.scoring import CodingScore, FieldResult

WIDTH = 100


def wrap(text: str, indent: str = "") -> str:
    """Wrap a message for pre-formatted output (notebook streams and feedback pages do not wrap)."""
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent or "  ")

FIELD_NAMES = {"code": "code", "empathy": "empathy"}


def _mark(result: FieldResult) -> str:
    if result.correct:
        return "✓"
    return "½" if result.credit > 0 else "✗"


def _given(result: FieldResult) -> str:
    return "—" if result.given is None else str(result.given)


def _verdict(result: FieldResult, reveal: bool) -> str:
    if result.problem:
        return result.problem
    if result.correct:
        return "matches the reference"
    if reveal:
        return f"reference: {result.expected}"
    if result.field == "empathy" and result.credit > 0:
        return "one level from the reference"
    return "differs from the reference"


def _fmt_points(value: float) -> str:
    return f"{value:g}"


def render_feedback(score: CodingScore, *, reveal: bool) -> str:
    """Per-turn feedback. With ``reveal`` the expected answers and every rationale are shown
    (self-paced learners who hold the solutions); without it only the trainee's own answers, whether
    they match, and the rationale of turns coded fully right, so the key does not leak to a cohort."""
    by_turn: dict[str, list[FieldResult]] = {}
    for r in score.results:
        by_turn.setdefault(r.turn_id, []).append(r)
    per_field = {f: sum(r.credit for r in score.results if r.field == f) for f in FIELD_NAMES}
    totals = ", ".join(f"{name} {_fmt_points(per_field[f])} of {len(by_turn)}" for f, name in FIELD_NAMES.items())
    lines = [f"Score: {_fmt_points(score.points)} of {_fmt_points(score.max_points)} points ({totals})", ""]
    lines += [wrap(f"! {p}") for p in score.problems]
    for turn_id, results in by_turn.items():
        cells = [f"{r.field} {_given(r):<3} {_mark(r)} {_verdict(r, reveal)}" for r in results]
        lines.append(f"{turn_id:<4}" + "   |   ".join(cells))
        if reveal or all(r.correct for r in results):
            lines.append(wrap(f"Why: {results[0].rationale}", indent="      "))
    if not reveal and any(not r.correct for r in score.results):
        lines += ["", "Where a turn differs, look again at the cue in the client's words and at the rubric's",
                  "decision rules; your instructor's debrief goes through the reference answers."]
    return "\n".join(lines)
