"""Scoring coded transcripts against reference answers. Pure functions over plain data: no I/O.

An answer is a mapping ``{turn_id: {"code": str, "empathy": int}}``; a reference is a mapping
``{turn_id: {"code": str, "empathy": int, "why": str}}``.

Scoring rule (also stated in the lessons):

* Behaviour code: exact match with the reference earns 1 credit, anything else 0.
* Empathy level: exact earns 1 credit; one level away earns 0.5; two or more levels away earn 0.
* Each reference turn is worth 2 credits (code + empathy). The points are
  ``points * earned / (2 * number of reference turns)``, a plain float clamped to ``[0, points]``.

An answer that cannot be scored (not a mapping, a missing turn, an unknown code, an empathy level
that is not a whole number on the scale) earns no credit for that field and is reported in plain
words by turn id. Nothing here raises for a trainee's answer; a broken *reference* raises ValueError,
because that is the instructor's error and must be loud.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

FIELDS = ("code", "empathy")
EMPATHY_CREDIT_BY_DISTANCE = {0: 1.0, 1: 0.5}


@dataclass(frozen=True)
class FieldResult:
    """The outcome for one field (code or empathy) of one therapist turn."""

    turn_id: str
    field: str
    expected: str | int
    given: object
    credit: float
    possible: float
    problem: str | None
    rationale: str

    @property
    def correct(self) -> bool:
        return self.credit == self.possible


@dataclass(frozen=True)
class CodingScore:
    """Per-field results in reference order, answer-level problems, and the points earned."""

    results: tuple[FieldResult, ...]
    problems: tuple[str, ...]
    points: float
    max_points: float

    @property
    def credit(self) -> float:
        return sum(r.credit for r in self.results)

    @property
    def possible(self) -> float:
        return sum(r.possible for r in self.results)


def empathy_credit(expected: int, given: int) -> float:
    """Partial credit for an empathy level: 1 if exact, 0.5 if one level off, else 0."""
    return EMPATHY_CREDIT_BY_DISTANCE.get(abs(expected - given), 0.0)


def clamp_points(value: float, points: float) -> float:
    """A plain Python float in [0, points]; nbgrader gives FULL credit for values it cannot read."""
    return float(min(max(float(value), 0.0), float(points)))


def check_reference(reference: Mapping, code_ids: Collection[str], levels: Collection[int]) -> None:
    """Raise ValueError if a reference is malformed: it is the key, so it must be loud, never silent."""
    if not isinstance(reference, Mapping) or not reference:
        raise ValueError("The reference must be a non-empty mapping of turn ids to expected answers.")
    for turn_id, item in reference.items():
        if not isinstance(item, Mapping):
            raise ValueError(f"Reference {turn_id}: expected a mapping with code, empathy and why.")
        if item.get("code") not in code_ids:
            raise ValueError(f"Reference {turn_id}: code {item.get('code')!r} is not in the rubric.")
        if type(item.get("empathy")) is not int or item["empathy"] not in levels:
            raise ValueError(f"Reference {turn_id}: empathy {item.get('empathy')!r} is not a level of the scale.")
        if not isinstance(item.get("why"), str) or not item["why"].strip():
            raise ValueError(f"Reference {turn_id}: a one-sentence rationale ('why') is required.")


def format_problems(answers: object, turn_ids: Collection[str], code_ids: Collection[str],
                    levels: Collection[int]) -> list[str]:
    """Everything wrong with the *shape* of an answer, in plain words by turn id; [] when all is well.

    Checks only format (known turns, known codes, whole-number levels on the scale), never correctness,
    so it is safe to run where the reference is not available.
    """
    if not isinstance(answers, Mapping):
        return [f"Your answers should be a dictionary of turn ids (like {{'T1': ...}}), "
                f"not {type(answers).__name__}. Run the answer cell to let the form write it."]
    problems = []
    for turn_id in turn_ids:
        if turn_id not in answers:
            problems.append(f"{turn_id}: not coded yet.")
            continue
        for field in FIELDS:
            problem = field_problem(answers[turn_id], field, code_ids, levels)
            if problem:
                problems.append(f"{turn_id}: {problem}")
    extra = [str(k) for k in answers if k not in turn_ids]
    if extra:
        problems.append(f"Unknown turn id(s) {', '.join(sorted(extra))}: this transcript's therapist turns are "
                        f"{', '.join(turn_ids)}.")
    return problems


def score_coding(answers: object, reference: Mapping, points: float, code_ids: Collection[str],
                 levels: Collection[int] = (1, 2, 3, 4, 5)) -> CodingScore:
    """Score coded turns against a reference; see the module docstring for the rule."""
    check_reference(reference, code_ids, levels)
    if points <= 0:
        raise ValueError("points must be positive")
    usable = isinstance(answers, Mapping)
    problems = [] if usable else format_problems(answers, list(reference), code_ids, levels)
    results = []
    for turn_id, ref in reference.items():
        turn = answers.get(turn_id) if usable else None
        for field in FIELDS:
            expected = ref[field]
            problem = "not coded" if usable and turn_id not in answers else None
            if usable and problem is None:
                problem = field_problem(turn, field, code_ids, levels)
            given = turn.get(field) if isinstance(turn, Mapping) else None
            credit = 0.0
            if usable and problem is None:
                credit = float(given == expected) if field == "code" else empathy_credit(expected, given)
            results.append(FieldResult(turn_id, field, expected, given, credit, 1.0,
                                       problem if usable else "answer unusable", ref["why"]))
    if usable:
        extra = [str(k) for k in answers if k not in reference]
        if extra:
            problems.append(f"Unknown turn id(s) {', '.join(sorted(extra))} were ignored.")
    earned = sum(r.credit for r in results)
    possible = sum(r.possible for r in results)
    return CodingScore(tuple(results), tuple(problems), clamp_points(points * earned / possible, points),
                       float(points))


def field_problem(turn: object, field: str, code_ids: Collection[str], levels: Collection[int]) -> str | None:
    """Why one field of one coded turn cannot be scored, in plain words; None when it is well formed."""
    if not isinstance(turn, Mapping):
        return f"expected {{'code': ..., 'empathy': ...}}, found {type(turn).__name__}"
    if field not in turn or turn[field] is None:
        return f"no {'behaviour code' if field == 'code' else 'empathy level'} chosen"
    value = turn[field]
    if field == "code":
        if not isinstance(value, str):
            return f"the code should be text such as 'SR', found {type(value).__name__} {value!r}"
        if value not in code_ids:
            hint = " (codes are written in capitals)" if value.upper() in code_ids else ""
            return f"{value!r} is not a code of the rubric{hint}"
        return None
    if type(value) is not int:  # bool is an int subclass, and 3.0 is not a level
        return f"the empathy level should be a whole number {min(levels)}-{max(levels)}, found {value!r}"
    if value not in levels:
        return f"empathy level {value} is outside the scale {min(levels)}-{max(levels)}"
    return None
