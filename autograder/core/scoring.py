"""Scoring answers against reference answers. Pure functions over plain data: no I/O.

Every exercise part is a set of items (a therapist turn, a client statement, a vignette, a session), each with
one or more fields. An answer is ``{item_id: {field: value}}``; a reference is ``{item_id: {field: expected,
"why": str}}``. How a field earns credit is its :class:`Rule`:

* ``exact``: 1 credit for the reference value, else 0 (behaviour codes, the most helpful response).
* ``ordinal``: 1 credit for the reference value, 0.5 one step away on the ordered scale, else 0 (empathy levels,
  referral urgency).
* ``set``: overlap with the reference set, |given ∩ expected| / |given ∪ expected| (Jaccard), so both
  missing and extra labels cost credit (feelings, concerns, risk cues).
* ``number``: 1 credit within the stated tolerance of the reference value, else 0 (session metrics).

Each field is worth 1 credit; a part's points are ``points * earned / possible``, a plain float in
``[0, points]``. An answer that cannot be scored (not a mapping, a missing item, an unknown value, a wrong type)
earns nothing for that field and is reported in plain words by item id. Nothing here raises for a trainee's
answer; a broken *reference* raises ValueError, because that is the instructor's error and must be loud.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

RuleKind = Literal["exact", "ordinal", "set", "number"]
ORDINAL_CREDIT_BY_DISTANCE = {0: 1.0, 1: 0.5}
NOT_FIELDS = ("why", "note")  # keys of a reference item that are explanations, not answers
# The shipped rubric's empathy scale. Only a default for direct calls (tests, the shipped course); the course's
# parts pass the levels of the rubric in force (course.parts), which may be any scale 1..n.
SHIPPED_LEVELS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Rule:
    """How one field is checked and credited. `values` lists what is allowed (in scale order if ordinal)."""

    kind: RuleKind
    label: str
    values: tuple[Any, ...] = ()
    tolerance: float = 0.0

    def __post_init__(self) -> None:
        if self.kind != "number" and not self.values:
            raise ValueError(f"rule {self.label!r}: a {self.kind} rule needs its allowed values")


class FieldResult(NamedTuple):
    """The outcome for one field of one item. (A named tuple: a cohort's grading makes millions of these.)"""

    item_id: str
    field: str
    expected: Any
    given: Any
    credit: float
    possible: float
    problem: str | None
    rationale: str
    label: str

    @property
    def correct(self) -> bool:
        return self.credit == self.possible


@dataclass(frozen=True)
class Score:
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


def coding_rules(code_ids: Collection[str], levels: Collection[int] = SHIPPED_LEVELS) -> dict[str, Rule]:
    """The rules of transcript coding: one behaviour code and one empathy level per therapist turn. Pass the
    rubric's ``empathy_levels``; the default is the shipped 1-5 scale."""
    return {"code": Rule("exact", "behaviour code", tuple(code_ids)),
            "empathy": Rule("ordinal", "empathy level", tuple(sorted(levels)))}


def ordinal_credit(scale: Sequence[Any], expected: Any, given: Any) -> float:
    """1 on the reference value, 0.5 one step away on the scale, else 0."""
    distance = abs(list(scale).index(expected) - list(scale).index(given))
    return ORDINAL_CREDIT_BY_DISTANCE.get(distance, 0.0)


def empathy_credit(expected: int, given: int, levels: Sequence[int] | None = None) -> float:
    """Partial credit for an empathy level: 1 if exact, 0.5 if one level off, else 0. ``levels`` is the rubric's
    scale (both values must be on it); without it, any whole-number scale, since levels are consecutive."""
    if levels is None:
        levels = range(min(expected, given), max(expected, given) + 1)
    return ordinal_credit(tuple(levels), expected, given)


def set_overlap(expected: Collection[Any], given: Collection[Any]) -> float:
    """Jaccard overlap of two label sets; two empty sets agree fully."""
    a, b = set(expected), set(given)
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def field_credit(rule: Rule, expected: Any, given: Any) -> float:
    """Credit in [0, 1] for a well-formed value (check :func:`field_problem` first)."""
    if rule.kind == "exact":
        return float(given == expected)
    if rule.kind == "ordinal":
        return ordinal_credit(rule.values, expected, given)
    if rule.kind == "set":
        return set_overlap(expected, given)
    return float(abs(float(given) - float(expected)) <= rule.tolerance + 1e-9)


def clamp_points(value: float, points: float) -> float:
    """A plain Python float in [0, points]; nbgrader gives FULL credit for values it cannot read."""
    value = float(value)
    if math.isnan(value):
        return 0.0
    return float(min(max(value, 0.0), float(points)))


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def field_problem(item: object, field: str, rule: Rule) -> str | None:
    """Why one field of one answered item cannot be scored, in plain words; None when it is well formed."""
    if type(item) is not dict and not isinstance(item, Mapping):  # dict first: ABC checks are slow
        return f"expected a dictionary like {{{field!r}: ...}}, found {type(item).__name__}"
    if field not in item or item[field] is None:
        return f"no {rule.label} given"
    value = item[field]
    if rule.kind == "number":
        if not _is_number(value):
            return f"the {rule.label} should be a number such as 1.25, found {value!r}"
        return None
    if rule.kind == "set":
        if not isinstance(value, list | tuple | set | frozenset) or not all(isinstance(v, str) for v in value):
            return f"the {rule.label} should be a list of labels such as [{rule.values[0]!r}], found {value!r}"
        unknown = sorted({v for v in value if v not in rule.values})
        return f"not among the {rule.label}: {', '.join(map(repr, unknown))}" if unknown else None
    return _choice_problem(value, rule)


def _choice_problem(value: Any, rule: Rule) -> str | None:
    if all(type(v) is int for v in rule.values):
        if type(value) is not int:  # bool is an int subclass, and 3.0 is not a level
            return (f"the {rule.label} should be a whole number {min(rule.values)}-{max(rule.values)}, "
                    f"found {value!r}")
        if value not in rule.values:
            return f"{rule.label} {value} is outside the scale {min(rule.values)}-{max(rule.values)}"
        return None
    if not isinstance(value, str):
        return f"the {rule.label} should be text such as {rule.values[0]!r}, found {type(value).__name__} {value!r}"
    if value not in rule.values:
        for variant, words in ((value.upper(), "capitals"), (value.lower(), "small letters")):
            if variant in rule.values:
                return f"{value!r} is not a known {rule.label} (these are written in {words}: {variant!r})"
        return f"{value!r} is not a known {rule.label}"
    return None


def reference_fields(item: Mapping) -> list[str]:
    """The answer fields of one reference item (everything but its explanations)."""
    return [f for f in item if f not in NOT_FIELDS]


def check_reference(reference: Mapping, rules: Mapping[str, Rule]) -> None:
    """Raise ValueError if a reference is malformed: it is the key, so it must be loud, never silent."""
    if not isinstance(reference, Mapping) or not reference:
        raise ValueError("The reference must be a non-empty mapping of item ids to expected answers.")
    for item_id, item in reference.items():
        if not isinstance(item, Mapping):
            raise ValueError(f"Reference {item_id}: expected a mapping of fields and a 'why'.")
        if not isinstance(item.get("why"), str) or not item["why"].strip():
            raise ValueError(f"Reference {item_id}: a one-sentence rationale ('why') is required.")
        fields = reference_fields(item)
        if not fields:
            raise ValueError(f"Reference {item_id}: no answer fields.")
        for field in fields:
            if field not in rules:
                raise ValueError(f"Reference {item_id}: field {field!r} has no scoring rule.")
            problem = field_problem(item, field, rules[field])
            if problem:
                raise ValueError(f"Reference {item_id}: {problem}.")


def format_problems(answers: object, expected: Mapping[str, Sequence[str]], rules: Mapping[str, Rule],
                    missing: str = "not answered yet") -> list[str]:
    """Everything wrong with the *shape* of an answer, in plain words by item id; [] when all is well.

    `expected` maps each item id to its fields. Only format is checked, never correctness, so this is safe
    to run where the reference is not available.
    """
    if not isinstance(answers, Mapping):
        first = next(iter(expected), "T1")
        return [f"Your answers should be a dictionary of item ids (like {{{first!r}: ...}}), "
                f"not {type(answers).__name__}. Run the answer cell to let the form write it."]
    problems = []
    for item_id, fields in expected.items():
        if item_id not in answers:
            problems.append(f"{item_id}: {missing}.")
            continue
        for field in fields:
            problem = field_problem(answers[item_id], field, rules[field])
            if problem:
                problems.append(f"{item_id}: {problem}")
    extra = [str(k) for k in answers if k not in expected]
    if extra:
        problems.append(f"Unknown id(s) {', '.join(sorted(extra))}: the ids here are {', '.join(expected)}.")
    return problems


def _item_results(item_id: str, ref: Mapping, fields: Sequence[str], rules: Mapping[str, Rule], usable: bool,
                  answered: bool, item: Any) -> tuple[FieldResult, ...]:
    """The results of one reference item for one answered item (or none)."""
    results = []
    for field in fields:
        rule = rules[field]
        if not usable:
            problem: str | None = "answer unusable"
        elif not answered:
            problem = "not answered"
        else:
            problem = field_problem(item, field, rule)
        given = item.get(field) if type(item) is dict or isinstance(item, Mapping) else None
        credit = field_credit(rule, ref[field], given) if problem is None else 0.0
        results.append(FieldResult(item_id, field, ref[field], given, credit, 1.0, problem, ref["why"], rule.label))
    return tuple(results)


def _score(answers: object, reference: Mapping, rules: Mapping[str, Rule], points: float,
           item_results: Any) -> Score:
    if points <= 0:
        raise ValueError("points must be positive")
    usable = type(answers) is dict or isinstance(answers, Mapping)
    problems = [] if usable else format_problems(
        answers, {item_id: reference_fields(item) for item_id, item in reference.items()}, rules)
    results: list[FieldResult] = []
    for item_id, ref in reference.items():
        answered = usable and item_id in answers  # type: ignore[operator]
        results += item_results(item_id, ref, usable, answered, answers.get(item_id) if answered else None)  # type: ignore
    if usable:
        extra = [str(k) for k in answers if k not in reference]  # type: ignore[union-attr]
        if extra:
            problems.append(f"Unknown id(s) {', '.join(sorted(extra))} were ignored.")
    earned = sum(r.credit for r in results)
    possible = sum(r.possible for r in results)
    return Score(tuple(results), tuple(problems), clamp_points(points * earned / possible, points), float(points))


def score_items(answers: object, reference: Mapping, rules: Mapping[str, Rule], points: float, *,
                checked: bool = False) -> Score:
    """Score answers against a reference; see the module docstring for the rule. The reference is checked
    first unless the caller already did (``checked``)."""
    if not checked:
        check_reference(reference, rules)

    def item_results(item_id: str, ref: Mapping, usable: bool, answered: bool, item: Any) -> tuple:
        return _item_results(item_id, ref, reference_fields(ref), rules, usable, answered, item)

    return _score(answers, reference, rules, points, item_results)


_PLAIN = (str, int, float, bool, type(None))


def _frozen(item: Any) -> tuple | None:
    """A hashable stand-in for an answered item that tells apart everything scoring tells apart (types too:
    3 and 3.0 and True score differently), or None when the item holds anything else."""
    if type(item) is not dict:
        return None
    key = []
    for field, value in item.items():
        kind = type(value)
        if kind in _PLAIN:
            key.append((field, kind, value))
        elif kind in (list, tuple) and all(type(v) is str for v in value):
            key.append((field, kind, tuple(value)))
        else:
            return None
    return tuple(key)


class CohortScorer:
    """:func:`score_items` for a whole cohort: one reference, many answers. A cohort gives the same answer to an
    item over and over, so each item's results are worked out once per distinct answer and then reused; the
    scores are exactly score_items' (tested)."""

    def __init__(self, reference: Mapping, rules: Mapping[str, Rule], points: float) -> None:
        check_reference(reference, rules)
        # Label lists become tuples (they score and show the same), so results can be hashed and their
        # feedback lines reused too.
        self.reference = {item_id: {k: tuple(v) if type(v) is list else v for k, v in item.items()}
                          for item_id, item in reference.items()}
        self.rules, self.points = rules, float(points)
        self.fields = {item_id: reference_fields(item) for item_id, item in reference.items()}
        self.cache: dict[tuple, tuple[FieldResult, ...]] = {}

    def _item_results(self, item_id: str, ref: Mapping, usable: bool, answered: bool, item: Any) -> tuple:
        frozen = _frozen(item) if answered else ()
        if frozen is None:
            return _item_results(item_id, ref, self.fields[item_id], self.rules, usable, answered, item)
        key = (item_id, usable, answered, frozen)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = tuple(
                r._replace(given=tuple(r.given)) if type(r.given) is list else r
                for r in _item_results(item_id, ref, self.fields[item_id], self.rules, usable, answered, item))
        return found

    def score(self, answers: object) -> Score:
        return _score(answers, self.reference, self.rules, self.points, self._item_results)


def score_coding(answers: object, reference: Mapping, points: float, code_ids: Collection[str],
                 levels: Collection[int] = SHIPPED_LEVELS) -> Score:
    """Score coded therapist turns (code + empathy level per turn); pass the rubric's ``empathy_levels``."""
    return score_items(answers, reference, coding_rules(code_ids, levels), points)
