"""The grader's view (autograder.core.attention): nbgrader export's totals, and one attention item per kind of
problem, from plain in-memory data."""

from __future__ import annotations

from dataclasses import replace

import pytest

from autograder.core import attention as at

EX = at.Assignment("ex00", 16.0, "")
ANA, BEN = at.Student("ana", "Ana", "Alves", "ana@example.org"), at.Student("ben", "Ben", "Bauer")


def cell(**kwargs) -> at.CellGrade:
    return at.CellGrade(**{"notebook": "start-here", "cell": "score_warmup", "max_score": 16.0, "auto": 14.0,
                           **kwargs})


def facts(*cells: at.CellGrade, **kwargs) -> at.CourseFacts:
    """ana submitted ex00 with these cells (one fine cell by default); ben is in the gradebook too, unless
    kwargs say otherwise."""
    submission = at.Submission("ana", "ex00", "2024-05-01 10:00:00", 0.0, cells or (cell(),))
    return at.CourseFacts(**{"assignments": (EX,), "students": (ANA, BEN), "submissions": (submission,), **kwargs})


def kinds(found: at.CourseFacts) -> list[str]:
    return [a.kind for a in at.attention_items(found)]


def test_totals_are_nbgrader_exports_every_trainee_times_every_assignment():
    late = at.Submission("ana", "ex00", "2024-05-01 10:00:00", 5.0, (cell(auto=3.0),))
    rows = at.export_totals(facts(submissions=(late,)))
    assert [(r.student_id, r.raw_score, r.late_submission_penalty, r.score, r.max_score, r.timestamp)
            for r in rows] == [("ana", 3.0, 5.0, 0.0, 16.0, "2024-05-01 10:00:00"), ("ben", 0.0, 0.0, 0.0, 16.0, "")]
    assert rows[0].last_name == "Alves" and rows[0].email == "ana@example.org" and rows[0].submitted
    assert not rows[1].submitted
    assert at.EXPORT_COLUMNS == tuple(f for f in at.ExportRow.__dataclass_fields__ if f != "submitted")


def test_a_recorded_raw_score_is_used_as_it_is():
    submission = at.Submission("ana", "ex00", cells=(cell(),), raw_score=600.0)
    assert at.export_totals(facts(submissions=(submission,)))[0].score == 600.0


@pytest.mark.parametrize(("kwargs", "expected"), [({}, 14.0), ({"manual": 10.0}, 10.0),
                                                  ({"extra_credit": 2.0}, 16.0), ({"auto": None}, 0.0),
                                                  ({"auto": None, "extra_credit": 5.0}, 0.0),
                                                  ({"manual": 1.0, "extra_credit": -3.0}, -2.0)])
def test_a_cells_score_is_nbgraders(kwargs, expected):
    assert cell(**kwargs).score == expected


def test_a_clean_course_needs_nothing_but_says_who_has_no_total():
    found = at.attention_items(facts())
    assert [(a.kind, a.student) for a in found] == [(at.NO_TOTAL, "ben")]
    assert "nothing of theirs was collected" in found[0].detail and "0 of 16" in found[0].detail


def test_a_total_below_zero():
    found = at.attention_items(facts(cell(extra_credit=-50.0)))
    assert found[0].kind == at.NEGATIVE_TOTAL and "-36 of 16" in found[0].detail and "clamped at 0" in found[0].detail
    assert at.EXTRA_CREDIT in [a.kind for a in found]


def test_a_total_above_the_maximum_and_a_cell_above_its_points():
    found = at.attention_items(facts(cell(manual=600.0)))
    assert [a.kind for a in found][:3] == [at.OVER_MAXIMUM, at.CELL_OUT_OF_RANGE, at.MANUAL_OVERRIDE]
    assert "600 of 16" in found[0].detail
    assert found[1].where == "start-here/score_warmup" and "manual score 600 is above" in found[1].detail


def test_an_auto_score_out_of_range_either_way():
    assert at.CELL_OUT_OF_RANGE in kinds(facts(cell(auto=17.0)))
    below = at.attention_items(facts(cell(auto=-1.0), cell(cell="other", auto=16.0)))
    assert [a.kind for a in below] == [at.CELL_OUT_OF_RANGE, at.NO_TOTAL]  # the total, 15, is in range
    assert "autograded score -1 is below 0" in below[0].detail


def test_extra_credit_that_changes_a_total_and_none_that_counts_for_nothing():
    assert at.EXTRA_CREDIT in kinds(facts(cell(extra_credit=2.0)))
    assert at.EXTRA_CREDIT not in kinds(facts(cell(auto=None, extra_credit=2.0)))
    assert at.EXTRA_CREDIT not in kinds(facts(cell(extra_credit=0.0)))


def test_a_manual_score_replacing_a_different_auto_score_says_who_entered_it_is_unknown():
    (found,) = [a for a in at.attention_items(facts(cell(manual=12.0))) if a.kind == at.MANUAL_OVERRIDE]
    assert found.detail.count(at.UNRECORDED) == 1 and "12" in found.detail and "14" in found.detail
    assert at.MANUAL_OVERRIDE not in kinds(facts(cell(manual=14.0)))  # the same score: nothing replaced
    assert at.MANUAL_OVERRIDE not in kinds(facts(cell(auto=None, manual=9.0)))  # graded by hand, no auto score


def test_collected_but_not_in_the_gradebook():
    found = at.attention_items(facts(collected_not_graded=(("ben", "ex00"),)))
    assert [(a.kind, a.student) for a in found] == [(at.NOT_GRADED, "ben"), (at.NO_TOTAL, "ben")]
    assert "attune grade ex00" in found[0].detail and "collected but not graded" in found[1].detail


def test_collected_again_after_grading():
    found = at.attention_items(facts(collected_again=(("ana", "ex00", "2024-05-02 09:00:00", "2024-05-01 10:00:00"),)))
    (again,) = [a for a in found if a.student == "ana"]
    assert again.kind == at.NOT_GRADED and "earlier copy" in again.detail and "--force" in again.detail


def test_in_the_gradebook_with_no_autograded_notebook():
    missing = at.NotebookFile("ana", "ex00", "start-here", at.AUTOGRADED, at.MISSING, "autograded/ana/ex00/x.ipynb")
    (found,) = [a for a in at.attention_items(facts(files=(missing,))) if a.student == "ana"]
    assert found.kind == at.NOT_GRADED and "needs autograding" in found.detail and "is missing" in found.detail


@pytest.mark.parametrize(("state", "words"), [(at.EMPTY, "is empty"), (at.MISSING, "is missing"),
                                              (at.UNREADABLE, "not readable")])
def test_a_submitted_file_missing_empty_or_unreadable(state, words):
    problem = at.NotebookFile("ana", "ex00", "start-here", at.SUBMITTED, state)
    (found,) = [a for a in at.attention_items(facts(files=(problem,))) if a.student == "ana"]
    assert found.kind == at.FILE_PROBLEM and words in found.detail and found.where == "start-here"
    assert "submitted/ana/ex00/start-here.ipynb" in found.detail


def test_open_flags_are_listed_and_resolved_ones_are_not():
    open_flag = at.ReviewFlag("ana", "ex00", "start-here", "score_warmup", "Attune review: executed 0, written 14")
    by_hand = at.ReviewFlag("ana", "ex00", "start-here", "")
    found = [a for a in at.attention_items(facts(flags=(open_flag, by_hand, replace(open_flag, resolved=True))))
             if a.kind == at.OPEN_FLAG]
    assert [a.where for a in found] == ["start-here", "start-here/score_warmup"]
    assert "executed 0, written 14" in found[1].detail and "notebook" in found[0].detail


def test_a_refused_submission_and_the_no_total_it_explains():
    refusal = at.Refusal("ex00", "ben", "mallory", "folder owned by another user")
    found = at.attention_items(facts(refusals=(refusal,)))
    assert [a.kind for a in found] == [at.REFUSED, at.NO_TOTAL]
    assert "mallory" in found[0].detail and "refused" in found[1].detail


def test_most_serious_first_and_reasons_per_trainee():
    view = at.graders_view(facts(cell(manual=12.0, extra_credit=-50.0), flags=(
        at.ReviewFlag("ana", "ex00", "start-here", "score_warmup"),)))
    order = [at.KINDS.index(a.kind) for a in view.attention]
    assert order == sorted(order) and view.attention[0].kind == at.NEGATIVE_TOTAL
    assert view.reasons("ana", "ex00").split("; ") == [at.NEGATIVE_TOTAL, at.OPEN_FLAG, at.EXTRA_CREDIT,
                                                       at.MANUAL_OVERRIDE]
    assert view.reasons("ben", "ex00") == at.NO_TOTAL
    one = at.for_assignment(view, "ex99")
    assert one.totals == [] and one.attention == []
