"""Defending reference answers the way coding labs do: a blind second coding of every transcript, agreement
between the two codings, and a recorded resolution of every disagreement.

Records live beside the keys, in solutions/<exercise>/keys/second-coding/<transcript>.yaml:

    transcript: <id>
    first:  {T1: {code: OQ, empathy: 3}, ...}    # the reference as first written, before any discussion
    second: {T1: {code: OQ, empathy: 3, why: ...}, ...}   # the blind second coder's
    resolutions:                                  # one per turn where the two differ
      T4: {code: AD, empathy: 1, why: "one sentence: which reading wins and why"}

`compare` is pure; `load_records` and `main` are the thin file and command-line adapters.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from autograder.core.agreement import adjacent_agreement, cohen_kappa, percent_agreement

SECOND_CODING_DIR = "second-coding"
FIELDS = ("code", "empathy")


@dataclass(frozen=True)
class Comparison:
    turns: int
    code_agreement: float
    code_kappa: float | None
    empathy_exact: float
    empathy_adjacent: float
    empathy_weighted_kappa: float | None
    disagreements: tuple[tuple[str, str, object, object], ...]  # (turn, field, first, second)


def _kappa(a: list, b: list, **kw: object) -> float | None:
    try:
        return cohen_kappa(a, b, **kw)  # type: ignore[arg-type]
    except ValueError:
        return None  # undefined (a single category): reported as n/a, never as NaN


def compare(first: Mapping[str, Mapping], second: Mapping[str, Mapping],
            levels: Sequence[int] | None = None) -> Comparison:
    """Agreement of two codings of the same turns: codes (percent, Cohen's kappa) and empathy levels (exact,
    within one level, quadratic-weighted kappa on the rubric's scale ``levels``, e.g. its ``empathy_levels``).

    Without ``levels``, the consecutive levels from the lowest to the highest either coder used: the same kappa
    on a scale 1..n (levels nobody used at either end change nothing), but nothing checks the values are levels.
    """
    if set(first) != set(second):
        raise ValueError(f"the codings cover different turns: {sorted(set(first) ^ set(second))}")
    turns = list(first)
    codes_a, codes_b = [first[t]["code"] for t in turns], [second[t]["code"] for t in turns]
    emp_a, emp_b = [first[t]["empathy"] for t in turns], [second[t]["empathy"] for t in turns]
    if levels is None:
        used = [v for v in emp_a + emp_b if v is not None]
        levels = range(min(used), max(used) + 1) if used else ()
    off_scale = sorted({str(v) for v in emp_a + emp_b if v is not None and v not in levels})
    if off_scale:  # a record's error: say so, rather than a kappa of n/a
        raise ValueError(f"empathy levels not on the scale {', '.join(map(str, levels))}: {', '.join(off_scale)}")
    disagreements = tuple((t, f, first[t][f], second[t][f]) for t in turns for f in FIELDS
                          if first[t][f] != second[t][f])
    return Comparison(
        turns=len(turns),
        code_agreement=percent_agreement(codes_a, codes_b),
        code_kappa=_kappa(codes_a, codes_b),
        empathy_exact=percent_agreement(emp_a, emp_b),
        empathy_adjacent=adjacent_agreement(emp_a, emp_b),
        empathy_weighted_kappa=_kappa(emp_a, emp_b, weights="quadratic", categories=list(levels)),
        disagreements=disagreements,
    )


def load_records(solutions: Path) -> dict[str, dict]:
    """Every second-coding record, by transcript id, with the exercise it belongs to."""
    records = {}
    for path in sorted(solutions.glob(f"ex*/keys/{SECOND_CODING_DIR}/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["exercise"] = path.parts[-4]
        data["path"] = path
        records[path.stem] = data
    return records


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def report(solutions: Path, levels: Sequence[int] | None = None) -> str:
    """A plain-text table: per transcript and pooled per exercise and overall, on the scale ``levels``
    (default: the empathy levels of the rubric in force)."""
    if levels is None:
        from course.rubric import load_rubric

        levels = load_rubric().empathy_levels
    records = load_records(solutions)
    lines = [f"{'exercise':<9}{'transcript':<32}{'turns':>6}{'code %':>8}{'kappa':>7}{'emp %':>7}{'±1 %':>7}"
             f"{'wkappa':>8}{'resolved':>9}"]
    pooled: dict[str, tuple[dict, dict]] = {}
    for transcript, r in records.items():
        c = compare(r["first"], r["second"], levels)
        lines.append(f"{r['exercise']:<9}{transcript:<32}{c.turns:>6}{100 * c.code_agreement:>8.0f}"
                     f"{_fmt(c.code_kappa):>7}{100 * c.empathy_exact:>7.0f}{100 * c.empathy_adjacent:>7.0f}"
                     f"{_fmt(c.empathy_weighted_kappa):>8}{len(r.get('resolutions') or {}):>9}")
        for group in (r["exercise"], "all"):
            first, second = pooled.setdefault(group, ({}, {}))
            first.update({f"{transcript}:{t}": v for t, v in r["first"].items()})
            second.update({f"{transcript}:{t}": v for t, v in r["second"].items()})
    lines.append("")
    for group, (first, second) in sorted(pooled.items()):
        c = compare(first, second, levels)
        lines.append(f"{group:<9}{'(pooled)':<32}{c.turns:>6}{100 * c.code_agreement:>8.0f}{_fmt(c.code_kappa):>7}"
                     f"{100 * c.empathy_exact:>7.0f}{100 * c.empathy_adjacent:>7.0f}"
                     f"{_fmt(c.empathy_weighted_kappa):>8}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Agreement between the reference and the blind second coding.")
    parser.add_argument("solutions", nargs="?", default="solutions", type=Path)
    args = parser.parse_args(argv)
    print(report(args.solutions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
