"""Plain-text feedback on a Score, for test-cell output, the self-check and reports. No I/O."""

from __future__ import annotations

import functools
import textwrap
from typing import Any

from autograder.scoring import FieldResult, Score

WIDTH = 100


@functools.lru_cache(maxsize=4096)  # rationales repeat for every trainee; grading a cohort wraps them once
def wrap(text: str, indent: str = "") -> str:
    """Wrap a message for pre-formatted output (notebook streams and feedback pages do not wrap).

    The same as ``textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent or "  ",
    break_on_hyphens=False)`` (tested), done directly for the usual text (words between single spaces), which
    is most of what grading a cohort costs in feedback.
    """
    following = indent or "  "
    words = text.split(" ")
    if any(not w or len(w) > WIDTH - len(following) for w in words) or any(c in text for c in "\t\n\r\x0b\x0c"):
        return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=following,
                             break_on_hyphens=False)
    lines, line = [], indent + words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) <= WIDTH:
            line += " " + word
        else:
            lines.append(line)
            line = following + word
    lines.append(line)
    return "\n".join(lines)


def _mark(result: FieldResult) -> str:
    if result.correct:
        return "✓"
    return "½" if result.credit >= 0.5 else ("~" if result.credit > 0 else "✗")


def show_value(value: Any) -> str:
    """An answer value as a trainee would write it, compactly."""
    if value is None:
        return "—"
    if isinstance(value, list | tuple | set | frozenset):
        return "{" + ", ".join(sorted(map(str, value))) + "}" if value else "{}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _verdict(result: FieldResult, reveal: bool) -> str:
    if result.problem:
        return result.problem
    if result.correct:
        return "matches the reference"
    if reveal:
        return f"reference: {show_value(result.expected)}"
    if result.credit > 0:
        return "close to the reference" if result.credit >= 0.5 else "partly matches the reference"
    return "differs from the reference"


def _fmt_points(value: float) -> str:
    return f"{value:g}"


def _item_lines(item_id: str, results: tuple[FieldResult, ...], reveal: bool) -> list[str]:
    try:
        return _item_lines_cached(item_id, results, reveal)
    except TypeError:  # an unhashable answer (a list of labels outside a CohortScorer): nothing to reuse
        return _item_lines_cached.__wrapped__(item_id, results, reveal)


@functools.lru_cache(maxsize=8192)  # a cohort gives the same answer to an item many times
def _item_lines_cached(item_id: str, results: tuple[FieldResult, ...], reveal: bool) -> list[str]:
    cells = [f"{r.field} {show_value(r.given):<3} {_mark(r)} {_verdict(r, reveal)}" for r in results]
    lines = [wrap(f"{item_id:<4}" + "   |   ".join(cells), indent="")]
    if reveal or all(r.correct for r in results):
        lines.append(wrap(f"Why: {results[0].rationale}", indent="      "))
    return lines


def render_feedback(score: Score, *, reveal: bool) -> str:
    """Per-item feedback. With ``reveal`` the expected answers and every rationale are shown
    (self-paced learners who hold the solutions); without it only the trainee's own answers, whether
    they match, and the rationale of items answered fully right, so the key does not leak to a cohort."""
    by_item: dict[str, list[FieldResult]] = {}
    for r in score.results:
        by_item.setdefault(r.item_id, []).append(r)
    totals: dict[str, list[float]] = {}
    for r in score.results:
        earned_possible = totals.setdefault(r.label, [0.0, 0.0])
        earned_possible[0] += r.credit
        earned_possible[1] += r.possible
    summary = ", ".join(f"{label} {_fmt_points(e)} of {_fmt_points(p)}" for label, (e, p) in totals.items())
    lines = [f"Score: {_fmt_points(score.points)} of {_fmt_points(score.max_points)} points ({summary})", ""]
    lines += [wrap(f"! {p}") for p in score.problems]
    for item_id, results in by_item.items():
        lines += _item_lines(item_id, tuple(results), reveal)
    if not reveal and any(not r.correct for r in score.results):
        lines += ["", "Where an answer differs, look again at the cue in the client's words and at the rubric's",
                  "decision rules; your instructor's debrief goes through the reference answers."]
    return "\n".join(lines)
