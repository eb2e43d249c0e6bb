"""The self-check's pure steps: which of form, answer cell and saved file differ, and which reasons are earned."""

from __future__ import annotations

from autograder.core.feedback import earned_reasons, note_attempts, render_practice_feedback
from autograder.core.literals import Found
from autograder.core.scoring import coding_rules, score_items
from course.check import agreement_lines

RULES = coding_rules(("OQ", "CQ", "SR", "CR"), (1, 2, 3, 4, 5))
REFERENCE = {"T1": {"code": "OQ", "empathy": 3, "why": "WHY-ONE"},
             "T2": {"code": "CR", "empathy": 4, "why": "WHY-TWO"},
             "T3": {"code": "SR", "empathy": 3, "why": "WHY-THREE"}}
CELL = {"T1": {"code": "OQ", "empathy": 3}}


def test_agreement_names_what_differs_and_where():
    saved_same, saved_old = Found(value=dict(CELL)), Found(value={})
    assert agreement_lines([], CELL, saved_same, unconfirmed=False) == ["Saved file: up to date."]
    changed = agreement_lines(["T2"], CELL, saved_same, unconfirmed=False)
    assert changed[0].startswith("Form: CHANGED since the answer cell last ran (T2)")
    assert changed[1] == "Saved file: up to date with the answer cell (not with the form)."
    assert agreement_lines([], CELL, saved_old, unconfirmed=False)[0].startswith("Saved file: NOT up to date (T1)")
    assert "could not be read (broken)" in agreement_lines(None, CELL, Found(problem="broken"), unconfirmed=False)[0]
    assert agreement_lines([], CELL, None, unconfirmed=False)[0].startswith("Form and answer cell agree")
    assert "not confirmed" in agreement_lines([], CELL, None, unconfirmed=True)[0]


def test_reasons_follow_effort():
    first = score_items({"T1": {"code": "CQ", "empathy": 3}, "T3": {"code": "SR", "empathy": 3}}, REFERENCE, RULES, 6)
    history = note_attempts({}, first)
    assert history == {"T1": [("CQ", 3)]}
    assert earned_reasons(first, history, ()) == {"T3"}                 # right at once; wrong once; untouched
    text = render_practice_feedback(first, earned_reasons(first, history, ()))
    assert "WHY-THREE" in text and "WHY-ONE" not in text and "WHY-TWO" not in text
    assert "T2  not answered yet" in text and "reference: OQ" not in text
    again = note_attempts(history, first)                               # checked again, nothing changed
    assert earned_reasons(first, again, ()) == {"T3"}
    second = score_items({"T1": {"code": "SR", "empathy": 3}}, REFERENCE, RULES, 6)
    history = note_attempts(again, second)
    assert earned_reasons(second, history, ()) == {"T1"}                # a second, different try
    assert "reference: OQ" in render_practice_feedback(second, {"T1"})
    assert earned_reasons(second, history, {"T2"}) == {"T1", "T2"}      # revealed on purpose
