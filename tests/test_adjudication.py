"""Adjudication: deciding a disagreement between a key and its second coding (pure, then through the widget's Python
API), the key and the record updated in place, and the build gate that holds an exercise back until then."""

from __future__ import annotations

import copy

import pytest
import yaml
from test_agreement_cli import ANA, KEY, TRANSCRIPT, make_coded_course, second_coded

from autograder.authoring.build import course_exercises, open_second_codings
from autograder.cli import main
from autograder.core.literals import read_notebook, reference_in_notebook
from course.adjudication import (
    Decision,
    apply_decision,
    disagreements,
    edited_text,
    open_disagreements,
    set_entry,
)
from course.errors import AttuneError
from course.rubric import load_rubric
from course.widgets.adjudication import Adjudicate

RECORD = {"transcript": TRANSCRIPT, "first": {t: {"code": v["code"], "empathy": v["empathy"]} for t, v in KEY.items()},
          "second": ANA, "resolutions": {}}
KEY_DATA = {"transcript": TRANSCRIPT, "turns": copy.deepcopy(KEY)}
RUBRIC = load_rubric()
RULES = {"codes": RUBRIC.code_ids, "levels": RUBRIC.empathy_levels}
WHY_T2 = "The second coder is right: the reflection repeats the figures and leaves her worry aside, which is a 2."


# -- pure ----------------------------------------------------------------------------------------------------------
def test_open_disagreements_are_the_turns_that_differ_without_a_resolution():
    assert [(d.turn, d.fields) for d in disagreements(RECORD)] == [("T2", ("empathy",)), ("T3", ("code", "empathy"))]
    resolved = {**RECORD, "resolutions": {"T3": {"code": "CR", "empathy": 4, "why": "stands"}}}
    assert [d.turn for d in open_disagreements(resolved)] == ["T2"]
    assert [d.resolved for d in disagreements(resolved)] == [False, True]


def test_apply_a_decision_for_the_second_coder_the_key_or_another_coding():
    key, record = apply_decision(KEY_DATA, RECORD, Decision("T2", "second", WHY_T2), **RULES)
    assert key["turns"]["T2"] == {"code": "SR", "empathy": 2, "why": WHY_T2}  # changed: the rationale is its why
    assert record["resolutions"] == {"T2": {"code": "SR", "empathy": 2, "why": WHY_T2}}
    assert KEY_DATA["turns"]["T2"]["empathy"] == 3 and RECORD["resolutions"] == {}  # inputs untouched
    key, record = apply_decision(key, record, Decision("T3", "key", "The first coding stands: it adds the loss."),
                                 **RULES)
    assert key["turns"]["T3"] == KEY["T3"]  # kept: the key keeps its why for trainees
    assert record["resolutions"]["T3"] == {"code": "CR", "empathy": 4,
                                           "why": "The first coding stands: it adds the loss."}
    key, record = apply_decision(key, record, Decision("T3", "other", "Neither: a validation.", code="VA", empathy=4,
                                                       key_why="It makes sense of the call, tied to Karim."), **RULES)
    assert key["turns"]["T3"] == {"code": "VA", "empathy": 4, "why": "It makes sense of the call, tied to Karim."}
    assert record["resolutions"]["T3"]["code"] == "VA"


@pytest.mark.parametrize(("decision", "message"), [
    (Decision("T2", "second", "   "), "rationale is required"),
    (Decision("T1", "key", "Nothing to decide."), "not a disagreement"),
    (Decision("T3", "other", "A code not in the rubric.", code="ZZ", empathy=3), "not in the rubric"),
    (Decision("T3", "other", "Off the scale.", code="CR", empathy=9), "not on the rubric's scale"),
    (Decision("T3", "other", "Half a decision.", code="CR"), "needs both a code and an empathy level"),
])
def test_a_decision_without_a_rationale_or_off_the_rubric_is_refused(decision, message):
    with pytest.raises(AttuneError, match=message):
        apply_decision(KEY_DATA, RECORD, decision, **RULES)


def test_edits_in_place_keep_comments_and_other_entries():
    text = ("# A key with comments.\ntranscript: x\nturns:\n  # the first turn\n  T1:\n    code: OQ\n    empathy: 3\n"
            "    why: >-\n      a folded\n      reason\n\n  # the second turn\n"
            "  T2: {code: SR, empathy: 3, why: \"b\"}\nother: 1\n")
    data = yaml.safe_load(text)
    data["turns"]["T1"] = {"code": "CR", "empathy": 4, "why": "new: reason, with \"quotes\""}
    edited = edited_text(text, "turns", "T1", data)
    assert yaml.safe_load(edited) == data
    assert "# A key with comments." in edited and "  # the first turn" in edited and "  # the second turn" in edited
    assert '  T2: {code: SR, empathy: 3, why: "b"}' in edited and "    code: CR\n    empathy: 4\n" in edited
    data["turns"]["T2"] = {"code": "NO", "empathy": 2, "why": "b"}  # a code YAML would read as false: quoted
    edited = edited_text(edited, "turns", "T2", data)
    assert yaml.safe_load(edited) == data and '"NO"' in edited
    record = "transcript: x\nfirst: {}\nsecond: {}\n# why\nresolutions: {}\n"
    added = set_entry(record, "resolutions", "T4", {"code": "AD", "empathy": 1, "why": "because"})
    assert yaml.safe_load(added)["resolutions"] == {"T4": {"code": "AD", "empathy": 1, "why": "because"}}
    assert "# why\n" in added


# -- through the files, the widget and the build -----------------------------------------------------------------
@pytest.fixture
def course(tmp_path, monkeypatch):
    course = make_coded_course(tmp_path)
    monkeypatch.chdir(course)
    second_coded(course, "Ana Lima", ANA)
    return course


def key_file(course):
    return course / "solutions" / "first-call" / "keys" / f"{TRANSCRIPT}.yaml"


def record_file(course):
    return course / "keys" / "second-coding" / f"{TRANSCRIPT}.ana-lima.yaml"


def test_the_build_waits_for_adjudication_unless_the_transcript_is_allowed_by_name(course, capsys):
    capsys.readouterr()
    assert main(["build"]) == 1
    err = capsys.readouterr().err
    assert f"{TRANSCRIPT}: T2, T3" in err and f"`attune agreement {TRANSCRIPT}`" in err
    assert f"attune build --allow-open {TRANSCRIPT}" in err
    assert not (course / "solutions" / "first-call" / "first-call.ipynb").exists()
    assert main(["build", "--allow-open", "some-other-transcript"]) == 1
    assert main(["build", "--allow-open", TRANSCRIPT]) == 0
    assert (course / "solutions" / "first-call" / "first-call.ipynb").is_file()


def test_the_widget_decides_updates_key_and_record_and_lifts_the_gate(course, capsys):
    key_before = key_file(course).read_text(encoding="utf-8")
    adjudicate = Adjudicate(TRANSCRIPT)
    assert adjudicate.open == [(f"{TRANSCRIPT}.ana-lima", "T2"), (f"{TRANSCRIPT}.ana-lima", "T3")]
    shown = adjudicate.widget.children[1].children[0].value
    assert "Forty pounds more a month" in shown and "SR 3" in shown and "SR 2" in shown and KEY["T2"]["why"] in shown
    # A rationale is required: nothing is written without one.
    adjudicate.choose("T2", "second", "")
    with pytest.raises(AttuneError, match="rationale is required"):
        adjudicate.save()
    assert key_file(course).read_text(encoding="utf-8") == key_before
    adjudicate.choose("T2", "second", WHY_T2)
    adjudicate.choose("T3", "other", "Neither reading: the turn makes sense of her feeling, so a validation.",
                      code="VA", empathy=4)
    assert adjudicate.save() == [(f"{TRANSCRIPT}.ana-lima", "T2"), (f"{TRANSCRIPT}.ana-lima", "T3")]
    assert adjudicate.open == []
    key = yaml.safe_load(key_file(course).read_text(encoding="utf-8"))
    assert key["turns"]["T2"] == {"code": "SR", "empathy": 2, "why": WHY_T2}
    assert key["turns"]["T3"]["code"] == "VA" and key["turns"]["T3"]["empathy"] == 4
    assert key["turns"]["T1"] == KEY["T1"] and key["turns"]["T4"] == KEY["T4"]
    assert "# T1: the listener's turn" in key_file(course).read_text(encoding="utf-8")  # comments kept
    record = yaml.safe_load(record_file(course).read_text(encoding="utf-8"))
    assert set(record["resolutions"]) == {"T2", "T3"} and record["resolutions"]["T2"]["why"] == WHY_T2
    assert record["first"]["T2"] == {"code": "SR", "empathy": 3}  # the key as first written stays on record
    assert not list(record_file(course).parent.glob("*.tmp")) and not list(key_file(course).parent.glob("*.tmp"))
    assert open_second_codings(course_exercises(course / "solutions")[0]) == {}
    capsys.readouterr()
    assert main(["agreement", TRANSCRIPT, "--open-fails", "--resamples", "100"]) == 0
    assert "2 turn(s), 0 open" in capsys.readouterr().out
    assert main(["build"]) == 0
    built = read_notebook(course / "solutions" / "first-call" / "first-call.ipynb")
    reference = reference_in_notebook(built, "score_nadia").value
    assert reference["T3"]["code"] == "VA" and reference["T2"]["empathy"] == 2  # what the exercise grades against
    assert Adjudicate(TRANSCRIPT).open == []


def test_a_second_coder_per_record_and_the_widget_names_the_record(course):
    as_yaml = course.parent / "cleo.yaml"
    as_yaml.write_text(yaml.safe_dump({**ANA, "T4": {"code": "VA", "empathy": 4}}), encoding="utf-8")
    assert main(["second-coding", TRANSCRIPT, "--coder", "Cleo", "--collect", str(as_yaml)]) == 0
    adjudicate = Adjudicate(TRANSCRIPT, root=course)
    assert len(adjudicate.open) == 5
    with pytest.raises(AttuneError, match="name one with record="):
        adjudicate.choose("T2", "key", "The key stands.")
    adjudicate.choose("T4", "key", "The affirmation credits what she did; the key stands.")
    adjudicate.choose("T2", "key", "The key stands for Cleo's coding too.", record=f"{TRANSCRIPT}.cleo")
    assert sorted(adjudicate.save()) == [(f"{TRANSCRIPT}.cleo", "T2"), (f"{TRANSCRIPT}.cleo", "T4")]
    gate = open_second_codings(course_exercises(course / "solutions")[0])
    assert {p.name: turns for p, turns in gate[TRANSCRIPT].items()} == {
        f"{TRANSCRIPT}.ana-lima.yaml": ["T2", "T3"], f"{TRANSCRIPT}.cleo.yaml": ["T3"]}


def test_a_refused_build_writes_none_of_the_exercises(course, capsys):
    """The gate is checked for every exercise before any is written: ex00 (listed first) is not built either."""
    manifest = course / "solutions" / "exercises.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("include: []", "include: [ex00]"),
                        encoding="utf-8")
    assert main(["build"]) == 1
    assert f"{TRANSCRIPT}: T2, T3" in capsys.readouterr().err
    assert not (course / "solutions" / "ex00").exists()
