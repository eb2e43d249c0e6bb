"""Simulated trainees for the demo and the benchmark: realistic coder profiles, as plain functions.

A profile turns the reference answers of a part into what such a coder would answer, with a seeded random
generator, so a demo cohort is reproducible. The profiles are the ones a coding lab meets:

* near-expert: right most of the time; misses are near neighbours, ratings within a level;
* lenient: rates empathy higher than the reference; severe: lower;
* reflection-confuser: swaps simple and complex reflections, otherwise competent;
* careless: skips items, picks codes at random, rates at random.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from autograder.scoring import Rule

PROFILES = ("near-expert", "lenient", "severe", "reflection-confuser", "careless")
NEIGHBOURS = {"SR": "CR", "CR": "SR", "OQ": "CQ", "CQ": "OQ", "AF": "VA", "VA": "RS", "RS": "VA", "AD": "AP",
              "AP": "AD", "GI": "AD", "SC": "EA", "EA": "SC", "CO": "AD", "SD": "NC", "NC": "SD"}
RATING_BIAS = {"lenient": 1, "severe": -1}


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


def _exact(rule: Rule, field: str, expected: Any, profile: str, rng: random.Random) -> Any:
    if profile == "careless":
        return expected if rng.random() < 0.4 else rng.choice(rule.values)
    if profile == "reflection-confuser" and expected in ("SR", "CR") and rng.random() < 0.85:
        return NEIGHBOURS[expected]
    p_right = 0.92 if profile == "near-expert" else 0.85
    if rng.random() < p_right:
        return expected
    if field == "code" and expected in NEIGHBOURS:
        return NEIGHBOURS[expected]
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
                     rng: random.Random) -> dict[str, dict[str, Any]]:
    """What a coder with this profile answers, given the reference answers of one part."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
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
                item[field] = _exact(rule, field, value, profile, rng)
            elif rule.kind == "set":
                item[field] = _set(rule, list(value), profile, rng)
            else:
                near = profile == "near-expert" or rng.random() < 0.6
                off = 0.0 if near else rng.choice((-1, 1)) * 5 * rule.tolerance
                item[field] = round(float(value) + off, 2)
        answers[item_id] = item
    return answers
