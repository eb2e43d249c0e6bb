"""The scoring core: exact, ordinal, set and number rules, plain floats, problems by item id."""

import math

import pytest

from autograder.core.feedback import render_feedback
from autograder.core.scoring import (
    Rule,
    clamp_points,
    coding_rules,
    empathy_credit,
    format_problems,
    score_coding,
    score_items,
)

CODES = ("OQ", "CQ", "SR", "CR", "AF")
REF = {
    "T1": {"code": "OQ", "empathy": 3, "why": "Invites the story ('what brings you')."},
    "T2": {"code": "CR", "empathy": 4, "why": "Names the unspoken guilt."},
    "T3": {"code": "CQ", "empathy": 2, "why": "Asks for a yes or no."},
    "T4": {"code": "SR", "empathy": 3, "why": "Repeats 'tired' without adding."},
}
ALL_RIGHT = {k: {"code": v["code"], "empathy": v["empathy"]} for k, v in REF.items()}


def score(answers, points=8.0):
    return score_coding(answers, REF, points, CODES)


@pytest.mark.parametrize(("expected", "given", "credit"), [(3, 3, 1.0), (3, 4, 0.5), (3, 2, 0.5), (3, 5, 0.0),
                                                             (1, 5, 0.0), (5, 4, 0.5)])
def test_empathy_partial_credit_by_distance(expected, given, credit):
    assert empathy_credit(expected, given) == credit


def test_all_right_earns_all_points_as_plain_float():
    result = score(ALL_RIGHT)
    assert result.points == 8.0 and type(result.points) is float
    assert all(r.correct for r in result.results)


def test_partial_answers_earn_exact_partial_points():
    answers = {**ALL_RIGHT, "T2": {"code": "SR", "empathy": 3}, "T3": {"code": "CQ", "empathy": 5}}
    # 8 credits possible; lost: T2 code (1) and half its empathy (4 vs 3), T3 empathy (2 vs 5) -> 5.5 of 8
    result = score(answers, points=8.0)
    assert result.points == 5.5
    assert score(answers, points=4.0).points == 2.75


@pytest.mark.parametrize("answers", [None, [], "T1 OQ", 3, {}, {"T1": "OQ"}, {"T1": {"code": 1, "empathy": "3"}}])
def test_unusable_answers_earn_nothing_and_never_raise(answers):
    result = score(answers)
    assert result.points == 0.0 and type(result.points) is float


def test_problems_are_named_by_turn_id_in_plain_words():
    answers = {"T1": {"code": "XX", "empathy": 3}, "T2": {"code": "cr", "empathy": True},
               "T3": {"code": "CQ", "empathy": 2.0}, "T9": {"code": "SR", "empathy": 3}}
    result = score(answers)
    problems = {(r.item_id, r.field): r.problem for r in result.results}
    assert "'XX' is not a known behaviour code" in problems["T1", "code"]
    assert "capitals" in problems["T2", "code"]
    assert "whole number" in problems["T2", "empathy"]  # True is not a level, though bool is an int
    assert "whole number" in problems["T3", "empathy"]
    assert problems["T4", "code"] == "not answered"
    assert any("T9" in p for p in result.problems)
    assert result.points == 2.0  # T1 empathy (exact) and T3 code; nothing else earned credit


def test_extra_turns_earn_no_credit_and_no_penalty():
    assert score({**ALL_RIGHT, "T7": {"code": "OQ", "empathy": 3}}).points == 8.0


def test_points_are_clamped_and_plain():
    assert clamp_points(9.5, 8) == 8.0 and clamp_points(-1, 8) == 0.0
    assert type(clamp_points(3, 8)) is float


@pytest.mark.parametrize("bad", [{}, {"T1": {"code": "ZZ", "empathy": 3, "why": "x"}},
                                 {"T1": {"code": "OQ", "empathy": 6, "why": "x"}},
                                 {"T1": {"code": "OQ", "empathy": 3}}])
def test_a_broken_reference_is_loud(bad):
    with pytest.raises(ValueError):
        score_coding(ALL_RIGHT, bad, 8.0, CODES)


def test_format_problems_checks_shape_not_correctness():
    wrong_but_well_formed = {k: {"code": "SR", "empathy": 1} for k in REF}
    expected = {turn: ("code", "empathy") for turn in REF}
    rules = coding_rules(CODES)
    assert format_problems(wrong_but_well_formed, expected, rules) == []
    problems = format_problems({"T1": {"code": "OQ"}}, expected, rules, missing="not coded yet")
    assert problems[0] == "T1: no empathy level given"
    assert "T2: not coded yet." in problems


def test_feedback_without_reveal_keeps_the_key_of_missed_turns():
    answers = {**ALL_RIGHT, "T2": {"code": "SR", "empathy": 3}}
    text = render_feedback(score(answers), reveal=False)
    assert REF["T1"]["why"] in text          # fully right: its reason is shown
    assert REF["T2"]["why"] not in text      # missed: neither reason nor expected code
    assert "CR" not in text
    revealed = render_feedback(score(answers), reveal=True)
    assert REF["T2"]["why"] in revealed and "reference: CR" in revealed


def test_points_never_nan():
    assert not math.isnan(score({"T1": {"code": "OQ", "empathy": float("nan")}}).points)


FEELINGS = Rule("set", "feelings", ("anxious", "ashamed", "lonely", "angry"))
DECISION = Rule("ordinal", "referral decision", ("keep-listening", "mention-support", "refer-soon", "urgent-help"))
RATIO = Rule("number", "reflection-to-question ratio", tolerance=0.01)
MIXED_RULES = {"feelings": FEELINGS, "decision": DECISION, "r_to_q": RATIO}
MIXED_REF = {"S1": {"feelings": ["anxious", "ashamed"], "decision": "refer-soon", "r_to_q": 1.5, "why": "x."}}


@pytest.mark.parametrize(("given", "credit"), [
    (["anxious", "ashamed"], 1.0), (["ashamed", "anxious"], 1.0),  # order does not matter
    (["anxious"], 0.5),                                              # one of two: 1/2
    (["anxious", "ashamed", "lonely"], 2 / 3),                       # one extra: 2/3
    (["lonely"], 0.0), ([], 0.0)])
def test_set_fields_earn_their_jaccard_overlap(given, credit):
    answers = {"S1": {"feelings": given, "decision": "refer-soon", "r_to_q": 1.5}}
    result = score_items(answers, MIXED_REF, MIXED_RULES, 3.0)
    assert result.results[0].credit == pytest.approx(credit)
    assert result.points == pytest.approx(2 + credit)


@pytest.mark.parametrize(("given", "credit"), [("refer-soon", 1.0), ("urgent-help", 0.5), ("mention-support", 0.5),
                                               ("keep-listening", 0.0)])
def test_ordinal_fields_give_half_credit_one_step_away(given, credit):
    answers = {"S1": {"feelings": ["anxious", "ashamed"], "decision": given, "r_to_q": 1.5}}
    assert score_items(answers, MIXED_REF, MIXED_RULES, 3.0).results[1].credit == credit


@pytest.mark.parametrize(("given", "credit"), [(1.5, 1.0), (1.509, 1.0), (1.49, 1.0), (1.52, 0.0), (3, 0.0)])
def test_number_fields_are_right_within_the_stated_tolerance(given, credit):
    answers = {"S1": {"feelings": ["anxious", "ashamed"], "decision": "refer-soon", "r_to_q": given}}
    assert score_items(answers, MIXED_REF, MIXED_RULES, 3.0).results[2].credit == credit


@pytest.mark.parametrize(("item", "problem"), [
    ({"feelings": "anxious"}, "should be a list of labels"),
    ({"feelings": ["anxius"]}, "not among the feelings: 'anxius'"),
    ({"decision": "Refer-soon"}, "written in small letters"),
    ({"r_to_q": "1.5"}, "should be a number"),
    ({"r_to_q": float("nan")}, "should be a number"),
    ({"r_to_q": True}, "should be a number")])
def test_malformed_fields_are_named_and_earn_nothing(item, problem):
    answers = {"S1": {"feelings": ["anxious", "ashamed"], "decision": "refer-soon", "r_to_q": 1.5, **item}}
    result = score_items(answers, MIXED_REF, MIXED_RULES, 3.0)
    problems = [r.problem for r in result.results if r.problem]
    assert len(problems) == 1 and problem in problems[0]
    assert result.points == 2.0


def test_a_reference_with_an_unscored_field_or_a_bad_value_is_loud():
    with pytest.raises(ValueError, match="no scoring rule"):
        score_items({}, {"S1": {"colour": "red", "why": "x."}}, MIXED_RULES, 1.0)
    with pytest.raises(ValueError, match="not among the feelings"):
        score_items({}, {"S1": {"feelings": ["bored"], "why": "x."}}, MIXED_RULES, 1.0)
