"""An instructor's own rubric (other codes, a 1-7 empathy scale) works through the model, scoring, analytics,
second coding, the simulated coders and the session metrics. Pure and fast: no nbgrader, no browser."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from autograder.core.agreement import cohen_kappa
from autograder.core.metrics import SHIPPED_CODES, session_summary
from autograder.core.scoring import coding_rules, empathy_credit, score_items
from autograder.core.simulate import NEIGHBOURS, PROFILES, confused_pair, near_neighbours, simulate_answers
from autograder.instructor.analytics import SCALE_ATTR, certify, rating_scale, trainee_summary
from autograder.instructor.cohort import GradedPart, build_table, score_rows
from autograder.instructor.second_coding import compare
from course import CONTENT_DIR
from course.loading import ContentError
from course.rubric import Rubric, load_rubric

SHIPPED_RUBRIC = CONTENT_DIR / "rubric.yaml"
KINDS = {"code": "exact", "empathy": "ordinal"}


def _code(code_id: str, group: str) -> dict:
    return {"id": code_id, "label": f"Label of {code_id}", "group": group,
            "definition": f"What a coder looks for before choosing {code_id} for a listener turn.",
            "example": f"An example of {code_id}."}


OWN = {
    "version": 1,
    "title": "A clinic's own rubric",
    "codes": [_code("EX", "support"), _code("PR", "questions"), _code("IN", "reflections"),
              _code("SU", "reflections"), _code("CH", "roadblocks"), _code("OT", "other")],
    "decision_rules": [{"id": "in-vs-su", "title": "IN or SU", "rule": "Choose IN when the turn adds a meaning.",
                        "codes": ["IN", "SU"]}],
    "empathy": {"title": "Empathy (7 points)",
                "levels": [{"level": n, "label": f"Level {n}", "anchor": f"The anchor that describes level {n} here."}
                           for n in range(1, 8)]},
}


def _write(tmp_path: Path, data: dict, name: str = "rubric.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def own(tmp_path) -> Rubric:
    return load_rubric(_write(tmp_path, OWN))


@pytest.fixture
def shipped() -> Rubric:
    return load_rubric(SHIPPED_RUBRIC)


def _with_levels(levels: list[int]) -> dict:
    return {**OWN, "empathy": {**OWN["empathy"], "levels": [
        {"level": n, "label": f"Level {n}", "anchor": f"The anchor that describes level {n} here."} for n in levels]}}


# -- the model ---------------------------------------------------------------------------------------------------

def test_own_rubric_validates(own):
    assert own.code_ids == ("EX", "PR", "IN", "SU", "CH", "OT")
    assert own.empathy_levels == (1, 2, 3, 4, 5, 6, 7)
    assert own.codes_in_group("reflections") == ("IN", "SU")
    assert own.codes_in_group("collaboration") == ()
    assert own.groups == ("support", "questions", "reflections", "roadblocks", "other")


@pytest.mark.parametrize(("levels", "expected"), [
    ([1, 2, 4], "found [1, 2, 4]"),
    ([2, 3, 4, 5], "1, 2, 3, 4; found [2, 3, 4, 5]"),
    ([1, 3, 2, 4, 5], "1, 2, 3, 4, 5; found [1, 3, 2, 4, 5]"),
    ([1, 2], "3 to 10 levels"),
    (list(range(1, 12)), "less than or equal to 10"),
])
def test_a_scale_that_is_not_one_to_n_is_refused_naming_the_levels(tmp_path, levels, expected):
    with pytest.raises(ContentError, match=r"empathy\.levels") as err:
        load_rubric(_write(tmp_path, _with_levels(levels)))
    assert expected in str(err.value)


def test_scales_of_three_to_ten_levels_are_accepted(tmp_path):
    for n in (3, 10):
        assert load_rubric(_write(tmp_path, _with_levels(list(range(1, n + 1))), f"r{n}.yaml")).empathy_levels == \
            tuple(range(1, n + 1))


def test_a_rubric_of_other_codes_in_one_group_is_valid(tmp_path):
    data = {**OWN, "codes": [{**c, "group": "other"} for c in OWN["codes"]]}
    rubric = load_rubric(_write(tmp_path, data))
    assert rubric.groups == ("other",) and rubric.codes_in_group("other") == rubric.code_ids


# -- scoring -----------------------------------------------------------------------------------------------------

REF = {"T1": {"code": "IN", "empathy": 7, "why": "Adds the meaning left unsaid."},
       "T2": {"code": "PR", "empathy": 4, "why": "Asks about the concern."},
       "T3": {"code": "CH", "empathy": 1, "why": "Argues with the client."}}


@pytest.mark.parametrize(("given", "credit"), [(7, 1.0), (6, 0.5), (5, 0.0), (1, 0.0)])
def test_ordinal_partial_credit_on_a_seven_point_scale(own, given, credit):
    rules = coding_rules(own.code_ids, own.empathy_levels)
    answers = {"T1": {"code": "IN", "empathy": given}}
    result = next(r for r in score_items(answers, REF, rules, 6.0).results if r.item_id == "T1" and
                  r.field == "empathy")
    assert result.problem is None and result.credit == credit
    assert empathy_credit(7, given, own.empathy_levels) == credit
    assert empathy_credit(7, given) == credit


def test_own_codes_and_levels_are_the_only_ones_accepted(own):
    rules = coding_rules(own.code_ids, own.empathy_levels)
    answers = {"T1": {"code": "SR", "empathy": 8}, "T2": {"code": "PR", "empathy": 6},
               "T3": {"code": "CH", "empathy": 1}}
    score = score_items(answers, REF, rules, 6.0)
    problems = {(r.item_id, r.field): r.problem for r in score.results if r.problem}
    assert problems == {("T1", "code"): "'SR' is not a known behaviour code",
                        ("T1", "empathy"): "empathy level 8 is outside the scale 1-7"}
    assert score.points == pytest.approx(3.0)  # T2 code 1 + empathy 0 (6 vs 4), T3 2


# -- analytics ---------------------------------------------------------------------------------------------------

def _reference(rubric: Rubric, n: int, seed: int) -> dict:
    rng = random.Random(seed)
    return {f"T{i}": {"code": rng.choice(rubric.code_ids), "empathy": rng.choice(rubric.empathy_levels),
                      "why": f"Reason {i}."} for i in range(1, n + 1)}


def _cohort(rubric: Rubric, ref: dict, n_trainees: int = 15, seed: int = 4):
    rng = random.Random(seed)
    rules = coding_rules(rubric.code_ids, rubric.empathy_levels)
    part = GradedPart("ex99", "nb", "answers", "own-part", "score_answers", 2.0 * len(ref), ref)
    rows = []
    for i in range(n_trainees):
        answers = simulate_answers(ref, rules, PROFILES[i % len(PROFILES)], rng, rubric)
        rows += score_rows(f"t{i:02d}", part, score_items(answers, ref, rules, part.points), KINDS)
    return build_table(rows)


def _sklearn_weighted(rows) -> float:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    return sklearn_metrics.cohen_kappa_score(rows["expected_num"].astype(int), rows["given_num"].astype(int),
                                             weights="quadratic", labels=list(range(1, 8)))


def test_weighted_kappa_uses_the_seven_levels(own):
    table = _cohort(own, _reference(own, 40, 1))
    assert rating_scale(table) == (1, 2, 3, 4, 5, 6, 7)
    summary = trainee_summary(table, own.empathy_levels)
    assert summary.equals(trainee_summary(table))  # found from the data: the same numbers
    for student, rows in table.groupby("student", observed=True):
        levels = rows[(rows["field"] == "empathy") & rows["given_num"].notna()]
        assert summary.loc[student, "rating_kappa"] == pytest.approx(_sklearn_weighted(levels), abs=1e-9)
        assert summary.loc[student, "ratings_answered"] == len(levels)
    assert certify(summary)["certified"].dtype == bool


def test_a_rating_the_reference_never_uses_still_counts(own):
    # The key uses 2..5 only; a trainee's (well-formed) 7 is a level of the scale, not a missing answer.
    ref = {f"T{i}": {"code": "EX", "empathy": 2 + i % 4, "why": "x."} for i in range(8)}
    given = {f"T{i}": {"code": "EX", "empathy": 7 if i < 2 else 2 + i % 4} for i in range(8)}
    part = GradedPart("ex99", "nb", "answers", "p", "s", 16.0, ref)
    rules = coding_rules(own.code_ids, own.empathy_levels)
    table = build_table(score_rows("solo", part, score_items(given, ref, rules, 16.0), KINDS))
    summary = trainee_summary(table)
    assert summary.loc["solo", "ratings_answered"] == 8
    rows = table[table["field"] == "empathy"]
    assert summary.loc["solo", "rating_kappa"] == pytest.approx(_sklearn_weighted(rows), abs=1e-9)
    # an explicit scale, or the one the cohort table carries, gives the same
    table.attrs[SCALE_ATTR] = own.empathy_levels
    assert trainee_summary(table).loc["solo", "rating_kappa"] == summary.loc["solo", "rating_kappa"]


def test_an_off_scale_rating_counts_as_not_answered_and_a_key_off_the_scale_is_loud(own):
    ref = {f"T{i}": {"code": "EX", "empathy": 1 + i % 7, "why": "x."} for i in range(10)}
    given = {f"T{i}": {"code": "EX", "empathy": 1 + i % 7} for i in range(10)}
    given["T3"]["empathy"] = 9  # unscorable: must not land in another cell (or another trainee's table)
    rules = coding_rules(own.code_ids, own.empathy_levels)
    part = GradedPart("ex99", "nb", "answers", "p", "s", 20.0, ref)
    table = build_table(score_rows("solo", part, score_items(given, ref, rules, 20.0), KINDS)
                        + score_rows("other", part, score_items(given, ref, rules, 20.0), KINDS))
    summary = trainee_summary(table, own.empathy_levels)
    assert (summary["ratings_answered"] == 9).all() and (summary["rating_kappa"] == 1.0).all()
    with pytest.raises(ValueError, match="outside the scale 1-5: 6, 7"):
        trainee_summary(table, (1, 2, 3, 4, 5))
    with pytest.raises(ValueError, match="consecutive"):
        trainee_summary(table, (1, 2, 4))


# -- second coding -----------------------------------------------------------------------------------------------

def test_second_coding_agreement_on_the_own_rubric(own):
    rng = random.Random(2)
    first = {f"T{i}": {"code": rng.choice(own.code_ids), "empathy": rng.choice(own.empathy_levels)}
             for i in range(1, 25)}
    second = {t: {"code": v["code"] if rng.random() < 0.8 else rng.choice(own.code_ids),
                  "empathy": min(7, max(1, v["empathy"] + rng.choice((-1, 0, 0, 1))))} for t, v in first.items()}
    result = compare(first, second, own.empathy_levels)
    turns = list(first)
    a, b = [first[t]["empathy"] for t in turns], [second[t]["empathy"] for t in turns]
    assert result.empathy_weighted_kappa == pytest.approx(
        cohen_kappa(a, b, weights="quadratic", categories=list(range(1, 8))))
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    assert result.empathy_weighted_kappa == pytest.approx(
        sklearn_metrics.cohen_kappa_score(a, b, weights="quadratic", labels=list(range(1, 8))))
    assert compare(first, second).empathy_weighted_kappa == pytest.approx(result.empathy_weighted_kappa)
    assert result.turns == 24 and result.empathy_adjacent == 1.0
    second["T1"] = {**second["T1"], "empathy": 8}
    with pytest.raises(ValueError, match="not on the scale 1, 2, 3, 4, 5, 6, 7: 8"):
        compare(first, second, own.empathy_levels)


# -- simulated coders --------------------------------------------------------------------------------------------

def test_simulated_coders_answer_only_codes_and_levels_of_the_given_rubric(own):
    rules = coding_rules(own.code_ids, own.empathy_levels)
    ref = _reference(own, 30, 3)
    seen_codes, seen_levels = set(), set()
    for seed in range(60):
        rng = random.Random(seed)
        for profile in PROFILES:
            for rubric in (own, None):  # with the rubric, and with the rules alone
                for item in simulate_answers(ref, rules, profile, rng, rubric).values():
                    seen_codes.add(item["code"])
                    seen_levels.add(item["empathy"])
    assert seen_codes <= set(own.code_ids) and seen_levels <= set(own.empathy_levels)
    assert 7 in seen_levels and 1 in seen_levels  # the whole scale is in use, not the first five levels


def test_near_neighbours_follow_the_groups_and_the_shipped_table_stays(own, shipped):
    assert near_neighbours(own) == {"IN": "SU", "SU": "IN"}
    assert near_neighbours(shipped) == NEIGHBOURS
    assert confused_pair(shipped) == ("SR", "CR")
    assert confused_pair(own) == ("IN", "SU")


def test_without_reflections_the_confuser_takes_the_first_group_of_two(tmp_path):
    data = {**OWN, "decision_rules": [], "codes": [_code("EX", "support"), _code("PR", "questions"),
                                                   _code("IN", "other"), _code("SU", "roadblocks"),
                                                   _code("CH", "support"), _code("OT", "other")]}
    rubric = load_rubric(_write(tmp_path, data))
    assert confused_pair(rubric) == ("EX", "CH")
    assert near_neighbours(rubric) == {"EX": "CH", "CH": "EX", "IN": "OT", "OT": "IN"}
    alone = load_rubric(_write(tmp_path, {**OWN, "decision_rules": [], "codes": [
        _code("EX", "support"), _code("PR", "questions")]}, "alone.yaml"))
    assert confused_pair(alone) is None and near_neighbours(alone) == {}


def test_the_confuser_confuses_the_intended_pair(own):
    rules = coding_rules(own.code_ids, own.empathy_levels)
    ref = {f"T{i}": {"code": ("IN", "SU", "PR")[i % 3], "empathy": 4, "why": "x."} for i in range(300)}
    answers = simulate_answers(ref, rules, "reflection-confuser", random.Random(1), own)
    swapped = {"IN": 0, "SU": 0}
    for item_id, expected in ref.items():
        if expected["code"] in swapped:
            swapped[expected["code"]] += answers[item_id]["code"] == {"IN": "SU", "SU": "IN"}[expected["code"]]
    assert swapped["IN"] > 70 and swapped["SU"] > 70  # ~85% of 100 each
    questions = [answers[i]["code"] for i, e in ref.items() if e["code"] == "PR"]
    assert questions.count("PR") > 75  # otherwise competent
    # a near-expert's misses on a paired code go to its neighbour
    expert = simulate_answers(ref, rules, "near-expert", random.Random(2), own)
    misses = {expert[i]["code"] for i, e in ref.items() if e["code"] == "IN" and expert[i]["code"] != "IN"}
    assert misses == {"SU"}


# -- session metrics ---------------------------------------------------------------------------------------------

def test_session_summary_refuses_codes_that_are_not_the_shipped_ones(shipped, own):
    assert set(SHIPPED_CODES) == set(shipped.code_ids)
    assert session_summary(["OQ", "SR", "CR", "AD"], [3, 3, 4, 1])["r_to_q"] == 2.0
    with pytest.raises(ValueError, match="shipped rubric's codes only; not among them: EX, IN, PR"):
        session_summary(["PR", "IN", "EX", "PR"], [3, 6, 7, 2])
