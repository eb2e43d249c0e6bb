"""Simulated trainees for the demo and the benchmark: realistic coder profiles, as plain functions.

A profile turns the reference answers of a part into what such a coder would answer, with a seeded random
generator, so a demo cohort is reproducible. The profiles are the ones a coding lab meets:

* near-expert: right most of the time; misses are near neighbours, ratings within a level;
* lenient: rates empathy higher than the reference; severe: lower;
* reflection-confuser: swaps simple and complex reflections, otherwise competent;
* careless: skips items, picks codes at random, rates at random.

Simulated coders answer only values of the rules they are given, so they fit any rubric. Which codes are near
neighbours comes from the rubric, when one is passed (see :func:`near_neighbours`): codes in the same group.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from autograder.core.scoring import Rule


class Rubric(Protocol):
    """What simulated coders need of a rubric (course.rubric.Rubric has it): its codes and their groups. A
    protocol, so this pure module does not import the learning side."""

    @property
    def code_ids(self) -> tuple[str, ...]: ...
    @property
    def groups(self) -> tuple[str, ...]: ...
    def codes_in_group(self, group: str) -> tuple[str, ...]: ...

PROFILES = ("near-expert", "lenient", "severe", "reflection-confuser", "careless")
# The shipped rubric's near neighbours, chosen by hand (some cross groups: a reassurance is mistaken for a
# validation). Used whenever a rubric has all of these codes, so the demo's numbers stay as they were.
NEIGHBOURS = {"SR": "CR", "CR": "SR", "OQ": "CQ", "CQ": "OQ", "AF": "VA", "VA": "RS", "RS": "VA", "AD": "AP",
              "AP": "AD", "GI": "AD", "SC": "EA", "EA": "SC", "CO": "AD", "SD": "NC", "NC": "SD"}
SHIPPED_CONFUSED = ("SR", "CR")
RATING_BIAS = {"lenient": 1, "severe": -1}


def near_neighbours(rubric: Rubric) -> dict[str, str]:
    """Each code's likeliest mix-up: the shipped table when the rubric has all its codes, else the next code of
    the same group (round the group, so a pair swaps); a code alone in its group has none."""
    if set(NEIGHBOURS) <= set(rubric.code_ids):
        return dict(NEIGHBOURS)
    found: dict[str, str] = {}
    for group in rubric.groups:
        ids = rubric.codes_in_group(group)
        if len(ids) > 1:
            found |= {code: ids[(i + 1) % len(ids)] for i, code in enumerate(ids)}
    return found


def confused_pair(rubric: Rubric) -> tuple[str, str] | None:
    """The two codes a 'reflection-confuser' swaps: the first two reflections, else the first two codes of the
    first group that has two; None when no group has two codes (the profile is then simply competent)."""
    groups = ["reflections", *(g for g in rubric.groups if g != "reflections")]
    for group in groups:
        ids = rubric.codes_in_group(group)
        if len(ids) > 1:
            return ids[0], ids[1]
    return None


def _shipped_defaults(codes: Collection[Any]) -> tuple[dict[str, str], tuple[str, str] | None]:
    """Without a rubric: the shipped table's pairs among `codes` (the code rule's values), nothing else."""
    neighbours = {a: b for a, b in NEIGHBOURS.items() if a in codes and b in codes}
    pair = SHIPPED_CONFUSED if set(SHIPPED_CONFUSED) <= set(codes) else None
    return neighbours, pair


def cohort_profiles(n: int) -> list[str]:
    """A realistic mix for n trainees: about 15% of each kind of weaker coder (at least one of each once there are
    five trainees), the rest near-experts."""
    if n < len(PROFILES):
        return list(PROFILES[:n])
    others = {p: max(1, int(n * 0.15)) for p in PROFILES if p != "near-expert"}
    return ["near-expert"] * (n - sum(others.values())) + [p for p, c in others.items() for _ in range(c)]


def _ordinal(rule: Rule, expected: Any, profile: str, rng: random.Random) -> Any:
    scale = list(rule.values)
    i = scale.index(expected)
    if profile == "careless":
        return rng.choice(scale)
    shift = 0
    if profile in RATING_BIAS and rng.random() < 0.7:
        shift = RATING_BIAS[profile]
    elif rng.random() < 0.2:
        shift = rng.choice((-1, 1))
    return scale[min(max(i + shift, 0), len(scale) - 1)]


def _exact(rule: Rule, field: str, expected: Any, profile: str, rng: random.Random, neighbours: Mapping[str, str],
           pair: tuple[str, str] | None) -> Any:
    if profile == "careless":
        return expected if rng.random() < 0.4 else rng.choice(rule.values)
    if profile == "reflection-confuser" and field == "code" and pair and expected in pair and rng.random() < 0.85:
        other = pair[1] if expected == pair[0] else pair[0]
        if other in rule.values:  # never answer a code the rules do not allow
            return other
    p_right = 0.92 if profile == "near-expert" else 0.85
    if rng.random() < p_right:
        return expected
    if field == "code" and neighbours.get(expected) in rule.values:
        return neighbours[expected]
    return rng.choice([v for v in rule.values if v != expected] or [expected])


def _set(rule: Rule, expected: list, profile: str, rng: random.Random) -> list:
    chosen = set(expected)
    if profile == "careless":
        return sorted(rng.sample(list(rule.values), k=rng.randint(0, 3)))
    if rng.random() < 0.3 and chosen:
        chosen.discard(rng.choice(sorted(chosen)))
    if rng.random() < 0.3:
        chosen.add(rng.choice(rule.values))
    return sorted(chosen)


def simulate_answers(reference: Mapping[str, Mapping], rules: Mapping[str, Rule], profile: str,
                     rng: random.Random, rubric: Rubric | None = None) -> dict[str, dict[str, Any]]:
    """What a coder with this profile answers, given the reference answers of one part. Pass the ``rubric`` the
    part is coded with so that mix-ups follow its groups; without one, only the shipped table's pairs among the
    codes the rules allow are mixed up (an own rubric's codes are then missed at random)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    if rubric is not None:
        neighbours, pair = near_neighbours(rubric), confused_pair(rubric)
    else:
        neighbours, pair = _shipped_defaults(rules["code"].values if "code" in rules else ())
    answers: dict[str, dict[str, Any]] = {}
    for item_id, expected in reference.items():
        if profile == "careless" and rng.random() < 0.2:
            continue  # skipped
        item = {}
        for field, value in expected.items():
            if field in ("why", "note"):
                continue
            rule = rules[field]
            if rule.kind == "ordinal":
                item[field] = _ordinal(rule, value, profile, rng)
            elif rule.kind == "exact":
                item[field] = _exact(rule, field, value, profile, rng, neighbours, pair)
            elif rule.kind == "set":
                item[field] = _set(rule, list(value), profile, rng)
            else:
                near = profile == "near-expert" or rng.random() < 0.6
                off = 0.0 if near else rng.choice((-1, 1)) * 5 * rule.tolerance
                item[field] = round(float(value) + off, 2)
        answers[item_id] = item
    return answers
