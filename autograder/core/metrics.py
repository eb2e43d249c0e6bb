"""Session summary scores over coded listener turns. Pure functions over plain data: no I/O.

The definitions follow MITI 4.2.1's summary scores (see the lesson "A whole session"): questions count open
and closed questions together; reflections count simple and complex ones.

These scores are defined on the shipped rubric's codes (what is a complex reflection, which codes are
roadblocks) and serve its session-metrics items only. An instructor's own rubric has no such definitions, so
codes that are not the shipped ones are refused with a clear message rather than silently counted as 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

# The shipped rubric's code ids (course/rubric.yaml; a test keeps the two in step).
SHIPPED_CODES = ("OQ", "CQ", "SR", "CR", "AF", "VA", "RS", "GI", "AD", "AP", "CO", "SC", "EA", "SD", "NC")
ROADBLOCKS = ("AD", "RS", "CO")
METRIC_IDS = ("r_to_q", "pct_cr", "mean_empathy", "pct_roadblocks")


def session_summary(codes: Sequence[str], empathy: Sequence[int]) -> dict[str, float]:
    """R:Q, % complex reflections, mean empathy and % roadblocks of one session's listener turns.

    Raises ValueError where a ratio has no denominator (no questions, no reflections, no turns): a session
    summary that silently reads 0 or inf would be wrong, not just missing.
    """
    if len(codes) != len(empathy):
        raise ValueError(f"{len(codes)} codes but {len(empathy)} empathy levels")
    if not codes:
        raise ValueError("no listener turns to summarise")
    unknown = sorted({str(c) for c in codes if c not in SHIPPED_CODES})
    if unknown:
        raise ValueError(f"session summary scores are defined on the shipped rubric's codes only; not among them: "
                         f"{', '.join(unknown)}. A course's own rubric needs its own session metrics.")
    n = Counter(codes)
    questions, reflections = n["OQ"] + n["CQ"], n["SR"] + n["CR"]
    if questions == 0:
        raise ValueError("the reflection-to-question ratio is undefined: the session has no questions")
    if reflections == 0:
        raise ValueError("the share of complex reflections is undefined: the session has no reflections")
    return {
        "r_to_q": reflections / questions,
        "pct_cr": 100.0 * n["CR"] / reflections,
        "mean_empathy": sum(empathy) / len(empathy),
        "pct_roadblocks": 100.0 * sum(n[c] for c in ROADBLOCKS) / len(codes),
    }
