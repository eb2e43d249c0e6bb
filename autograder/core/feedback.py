"""Plain-text feedback on a Score, for test-cell output, the self-check and reports. No I/O."""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from autograder.core.scoring import FieldResult, Score

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
    by_item = _by_item(score)
    lines = [_summary(score), ""]
    lines += [wrap(f"! {p}") for p in score.problems]
    for item_id, results in by_item.items():
        lines += _item_lines(item_id, tuple(results), reveal)
    if not reveal and any(not r.correct for r in score.results):
        lines += ["", "Where an answer differs, look again at the cue in the client's words and at the rubric's",
                  "decision rules; your instructor's debrief goes through the reference answers."]
    return "\n".join(lines)


def is_untouched(results: tuple[FieldResult, ...] | list[FieldResult]) -> bool:
    """No field of the item was answered."""
    return all(r.given is None for r in results)


def note_attempts(attempts: Mapping[str, Sequence[Any]], score: Score) -> dict[str, list[Any]]:
    """The learner's attempt history after one more self-check: per item, the distinct answers that were not
    fully right, in the order first seen."""
    history = {k: list(v) for k, v in attempts.items()}
    for item_id, results in _by_item(score).items():
        if is_untouched(results) or all(r.correct for r in results):
            continue
        given = tuple(r.given for r in results)
        if given not in history.setdefault(item_id, []):
            history[item_id].append(given)
    return history


def earned_reasons(score: Score, attempts: Mapping[str, Sequence[Any]], revealed: Collection[str]) -> set[str]:
    """The items whose reasoning the learner has earned: answered fully right; answered, not right, and tried
    a second, different way (``attempts`` from :func:`note_attempts`); or revealed on purpose. An item never
    answered gets none, so the key cannot be read before trying."""
    earned = set(revealed)
    for item_id, results in _by_item(score).items():
        if is_untouched(results):
            continue
        if all(r.correct for r in results) or len(attempts.get(item_id, ())) >= 2:
            earned.add(item_id)
    return earned


def render_practice_feedback(score: Score, earned: Collection[str]) -> str:
    """Feedback that follows effort (the self-paced self-check): items not answered show no reference and no
    reason; answered items show whether they match; the reference and the reason only for ``earned`` items."""
    lines = [_summary(score), ""]
    lines += [wrap(f"! {p}") for p in score.problems]
    for item_id, results in _by_item(score).items():
        if is_untouched(results) and item_id not in earned:
            lines.append(f"{item_id:<4}not answered yet")
            continue
        lines += _item_lines(item_id, tuple(results), item_id in earned)
    return "\n".join(lines)


def _by_item(score: Score) -> dict[str, list[FieldResult]]:
    by_item: dict[str, list[FieldResult]] = {}
    for r in score.results:
        by_item.setdefault(r.item_id, []).append(r)
    return by_item


def _summary(score: Score) -> str:
    totals: dict[str, list[float]] = {}
    for r in score.results:
        earned_possible = totals.setdefault(r.label, [0.0, 0.0])
        earned_possible[0] += r.credit
        earned_possible[1] += r.possible
    summary = ", ".join(f"{label} {_fmt_points(e)} of {_fmt_points(p)}" for label, (e, p) in totals.items())
    return f"Score: {_fmt_points(score.points)} of {_fmt_points(score.max_points)} points ({summary})"
