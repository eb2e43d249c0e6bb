"""`attune agreement`: how far each key and its blind second coding agree, with intervals, and every disagreement
side by side with whether it is resolved.

Per record (one second coder of one transcript) and pooled over the records shown: on behaviour codes percent
agreement, Cohen's kappa and Krippendorff's alpha (nominal); on empathy levels exact and within-one agreement,
quadratic-weighted kappa and Krippendorff's alpha (ordinal and interval). Every coefficient has a 95% percentile
bootstrap interval over turns (a fixed seed, so the same records always give the same numbers). The statistics
are autograder.core.agreement's; this module only gathers the records and lays them out.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.core.agreement import (
    alpha_from_table,
    bootstrap_interval,
    contingency_table,
    kappa_from_table,
    percent_agreement,
)
from autograder.instructor.second_coding import load_record
from course.adjudication import course_record_files, disagreements, record_files, record_transcript
from course.errors import AttuneError

RESAMPLES = 2000
SEED = 20240614
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Stat:
    """A coefficient with its bootstrap interval; ``value`` None with ``note`` saying why it is undefined."""

    value: float | None
    low: float | None = None
    high: float | None = None
    note: str = ""

    def text(self) -> str:
        if self.value is None:
            return "n/a"
        interval = f" [{self.low:.2f}, {self.high:.2f}]" if self.low is not None else " [n/a]"
        return f"{self.value:.2f}{interval}"


@dataclass(frozen=True)
class Agreement:
    turns: int
    code_percent: float
    code_kappa: Stat
    code_alpha: Stat
    empathy_exact: float
    empathy_adjacent: float
    empathy_weighted_kappa: Stat
    empathy_alpha_ordinal: Stat
    empathy_alpha_interval: Stat


def _stat(a: list, b: list, statistic: Callable[[Any], float], categories: Sequence[Any], resamples: int,
          seed: int) -> Stat:
    table, _ = contingency_table(a, b, categories)
    try:
        value = statistic(table)
    except ValueError as err:
        return Stat(None, note=str(err))
    try:
        interval = bootstrap_interval(a, b, statistic, categories=categories, resamples=resamples, seed=seed,
                                      confidence=CONFIDENCE)
    except ValueError as err:
        return Stat(value, note=str(err))
    return Stat(value, interval.low, interval.high)


def agreement(first: dict[str, dict], second: dict[str, dict], levels: Sequence[int], *,
              resamples: int = RESAMPLES, seed: int = SEED) -> Agreement:
    """The agreement of two codings of the same turns ({turn: {code, empathy}}), on the empathy scale ``levels``."""
    if set(first) != set(second):
        raise AttuneError(f"the codings cover different turns: {', '.join(sorted(set(first) ^ set(second)))}")
    turns = list(first)
    codes_a, codes_b = [first[t]["code"] for t in turns], [second[t]["code"] for t in turns]
    emp_a, emp_b = [first[t]["empathy"] for t in turns], [second[t]["empathy"] for t in turns]
    off_scale = sorted({str(v) for v in emp_a + emp_b if v not in levels})
    if off_scale:
        raise AttuneError(f"empathy levels not on the scale {', '.join(map(str, levels))}: {', '.join(off_scale)}")
    codes = sorted(set(codes_a) | set(codes_b))
    scale = list(levels)
    return Agreement(
        turns=len(turns),
        code_percent=percent_agreement(codes_a, codes_b),
        code_kappa=_stat(codes_a, codes_b, lambda t: kappa_from_table(t), codes, resamples, seed),
        code_alpha=_stat(codes_a, codes_b, lambda t: alpha_from_table(t, codes, "nominal"), codes, resamples, seed),
        empathy_exact=percent_agreement(emp_a, emp_b),
        empathy_adjacent=sum(abs(x - y) <= 1 for x, y in zip(emp_a, emp_b, strict=True)) / len(turns),
        empathy_weighted_kappa=_stat(emp_a, emp_b, lambda t: kappa_from_table(t, "quadratic"), scale, resamples,
                                     seed),
        empathy_alpha_ordinal=_stat(emp_a, emp_b, lambda t: alpha_from_table(t, scale, "ordinal"), scale,
                                    resamples, seed),
        empathy_alpha_interval=_stat(emp_a, emp_b, lambda t: alpha_from_table(t, scale, "interval"), scale,
                                     resamples, seed),
    )


def course_records(root: Path, transcripts: Sequence[str] = ()) -> list[dict]:
    """The second-coding records of the course folder (its keys/ and every solutions/*/keys/), and of the shipped
    exercises it includes; those of ``transcripts`` if given (each must have one)."""
    paths = list(course_record_files(root))
    try:
        from autograder.authoring.build import MANIFEST, course_exercises

        if (root / "solutions" / MANIFEST).is_file():
            for exercise in course_exercises(root / "solutions"):
                for folder in exercise.keys:
                    for part in exercise.entry.parts:
                        paths += [p for p in record_files(folder) if record_transcript(p) == part.part]
    except AttuneError:
        pass  # a broken exercise list: `attune validate` says so; the records in the folder are still shown
    unique = sorted(dict.fromkeys(p.resolve() for p in paths), key=lambda p: (p.name, str(p)))
    records = [load_record(p) for p in unique]
    if transcripts:
        missing = [t for t in transcripts if not any(r["transcript"] == t for r in records)]
        if missing:
            known = sorted({r["transcript"] for r in records})
            raise AttuneError(f"no second-coding record of {', '.join(missing)}; records exist for "
                              f"{', '.join(known) or 'no transcript'}. Make one with `attune second-coding "
                              f"{missing[0]} --coder NAME`.")
        records = [r for r in records if r["transcript"] in transcripts]
    return records


def _turn_texts(transcript_id: str) -> dict[str, str]:
    from course.transcript import load_transcript

    try:
        return {t.id: t.text for t in load_transcript(transcript_id).turns}
    except AttuneError:
        return {}


def _where(record: dict, root: Path) -> str:
    path = Path(record["path"])
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _pooled(records: list[dict]) -> tuple[dict, dict]:
    first, second = {}, {}
    for r in records:
        for turn in r["first"]:
            first[f"{r['name']}:{turn}"] = r["first"][turn]
            second[f"{r['name']}:{turn}"] = r["second"][turn]
    return first, second


def _block(title: str, a: Agreement) -> list[str]:
    return [title,
            f"  codes    agree {100 * a.code_percent:3.0f}%   Cohen's kappa {a.code_kappa.text()}   "
            f"Krippendorff's alpha (nominal) {a.code_alpha.text()}",
            f"  empathy  exact {100 * a.empathy_exact:3.0f}%   within one level {100 * a.empathy_adjacent:3.0f}%   "
            f"weighted kappa (quadratic) {a.empathy_weighted_kappa.text()}",
            f"           Krippendorff's alpha (ordinal) {a.empathy_alpha_ordinal.text()}   "
            f"(interval) {a.empathy_alpha_interval.text()}"]


def shorten(text: str, width: int = 70) -> str:
    return textwrap.shorten(" ".join(text.split()), width=width, placeholder="...")


@dataclass(frozen=True)
class Report:
    text: str
    open: int  # unresolved disagreements (turns)
    disagreements: int


def agreement_report(root: Path, transcripts: Sequence[str] = (), *, levels: Sequence[int] | None = None,
                     resamples: int = RESAMPLES, seed: int = SEED) -> Report:
    """The text `attune agreement` prints, and how many disagreements (turns) are open."""
    if levels is None:
        from course.rubric import load_rubric

        levels = load_rubric().empathy_levels
    records = course_records(root, transcripts)
    if not records:
        return Report(f"No second-coding records in {root} yet (keys/second-coding/, solutions/*/keys/second-coding/)"
                      f". Start one with `attune second-coding TRANSCRIPT --coder NAME`.", 0, 0)
    lines = [f"Agreement between each key and its blind second coding: {len(records)} record(s).",
             f"Intervals: {100 * CONFIDENCE:.0f}% percentile bootstrap over turns ({resamples} resamples, seed "
             f"{seed}); n/a where a coefficient is undefined (one category only).", ""]
    for r in records:
        a = agreement(r["first"], r["second"], levels, resamples=resamples, seed=seed)
        coder = f", second coder {r['coder']}" if r.get("coder") else ""
        lines += [*_block(f"{r['name']}  ({_where(r, root)}{coder}) · {a.turns} turns", a), ""]
    if len(records) > 1:
        first, second = _pooled(records)
        a = agreement(first, second, levels, resamples=resamples, seed=seed)
        lines += [*_block(f"pooled over {len(records)} records · {a.turns} turns", a), ""]
    rows = []
    for r in records:
        texts = _turn_texts(r["transcript"])
        for d in disagreements(r):
            status = (f"resolved: {d.resolution['code']} {d.resolution['empathy']}" if d.resolution else "OPEN")
            for f in d.fields:
                rows.append((r["name"], d.turn, f, str(d.key[f]), str(d.second[f]), status,
                             shorten(texts.get(d.turn, "(turn text not found)"))))
    open_turns = sum(1 for r in records for d in disagreements(r) if not d.resolved)
    all_turns = sum(len(disagreements(r)) for r in records)
    if not rows:
        lines.append("No disagreements: the key and the second coding agree on every turn.")
        return Report("\n".join(lines), 0, 0)
    lines.append(f"Disagreements: {all_turns} turn(s), {open_turns} open"
                 + (" (decide them with Adjudicate(\"TRANSCRIPT\") in a notebook: from course.widgets.adjudication "
                    "import Adjudicate)" if open_turns else "") + ".")
    header = ("record", "turn", "field", "key", "second", "status", "text")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(6)]
    for row in [header, *rows]:
        lines.append("  ".join(str(v).ljust(w) for v, w in zip(row[:6], widths, strict=True)) + "  " + row[6])
    return Report("\n".join(lines), open_turns, all_turns)
