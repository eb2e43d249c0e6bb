"""The scoring core: exact codes, partial empathy credit, plain floats, problems by turn id."""

import math

import pytest

from autograder.feedback import render_feedback
from autograder.scoring import clamp_points, empathy_credit, format_problems, score_coding

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
    problems = {(r.turn_id, r.field): r.problem for r in result.results}
    assert "'XX' is not a code" in problems["T1", "code"]
    assert "capitals" in problems["T2", "code"]
    assert "whole number" in problems["T2", "empathy"]  # True is not a level, though bool is an int
    assert "whole number" in problems["T3", "empathy"]
    assert problems["T4", "code"] == "not coded"
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
    assert format_problems(wrong_but_well_formed, list(REF), CODES, range(1, 6)) == []
    problems = format_problems({"T1": {"code": "OQ"}}, list(REF), CODES, range(1, 6))
    assert problems[0] == "T1: no empathy level chosen"
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
