"""Judging one practice answer (course.practice.judge): what counts as right for each kind of item, and the
main answer the scheduler's confusion matrix keeps."""

from __future__ import annotations

import pytest

from course.practice import (
    EMPATHY_TOLERANCE,
    BestResponseItem,
    CodeItem,
    FeelingConcernItem,
    ReferItem,
    judge,
    main_answer,
    skill_of,
)

COMMON = {"tier": "beginner", "setting": "helpline", "who": "Ana, 30, on a helpline",
          "why": "It repeats her own words and adds nothing, so it is a simple reflection."}
CODE = CodeItem(id="cd-t-001", client="I can't sleep since the move.", response="You can't sleep since the move.",
                reference={"code": "SR", "empathy": 3}, **COMMON)


@pytest.mark.parametrize(("answer", "right"), [
    ({"code": "SR", "empathy": 3}, True),
    ({"code": "SR", "empathy": 3 + EMPATHY_TOLERANCE}, True),
    ({"code": "SR", "empathy": 3 + EMPATHY_TOLERANCE + 1}, False),
    ({"code": "CR", "empathy": 3}, False),
    ({"code": "SR", "empathy": None}, False),
    ({"code": "SR", "empathy": True}, False),  # a bool is not a level
])
def test_a_code_item_needs_the_code_and_a_level_within_one(answer, right):
    judgement = judge(CODE, answer)
    assert judgement.correct is right
    assert judgement.main_expected == "SR" and judgement.main_given == str(answer["code"])


def test_other_kinds_need_every_part():
    best = BestResponseItem(id="br-t-001", client="I can't sleep since the move.", responses={"a": "x", "b": "y",
                            "c": "z"}, reference={"best": "b"}, **COMMON)
    assert judge(best, {"best": "b"}).correct and not judge(best, {"best": "a"}).correct
    assert judge(best, {"best": "a"}).main_given == "a" and main_answer(best) == "b"
    feeling = FeelingConcernItem(id="fc-t-001", client="I can't sleep since the move.",
                                 reference={"feeling": "anxious", "concern": "uncertain-future"}, **COMMON)
    assert judge(feeling, {"feeling": "anxious", "concern": "uncertain-future"}).correct
    half = judge(feeling, {"feeling": "anxious", "concern": "money"})
    assert not half.correct and half.main_given == "anxious/money" and half.main_expected == "anxious/uncertain-future"
    refer = ReferItem(id="rf-t-001", vignette="Bo says work is busy and he sleeps fine; he wanted to talk it through.",
                      reference={"decision": "keep-listening"}, **COMMON)
    assert judge(refer, {"decision": "keep-listening"}).correct
    assert not judge(refer, {"decision": "urgent-help"}).correct
    assert skill_of(CODE, "code") == "SR" and skill_of(refer, "refer") == "refer"


def test_every_part_is_explained():
    lines = judge(CODE, {"code": "CR", "empathy": 4}).lines
    assert lines == ("code: you CR, reference SR", "empathy: you 4, reference 3 (one level off: close enough)")
