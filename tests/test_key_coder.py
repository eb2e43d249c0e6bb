"""Expert keys written in JupyterLab (issue 14): course.keys (read, validate, merge, write atomically) and the
KeyCoder widget driven through its Python API, with the key file checked after every change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from course.keys import (
    default_key_path,
    dump_key,
    entry_problem,
    file_problems,
    merge_turn,
    read_key,
    record_turns,
    write_key,
)
from course.loading import ContentError
from course.parts import load_part
from course.widgets import KeyCoder
from course.widgets.key_coder import NOT_CHOSEN

TRANSCRIPT = "amira-night-shifts"  # shipped: 10 listener turns, the shipped rubric (codes OQ, CQ, SR, CR, ...)
SHIPPED_KEY = ROOT / "solutions" / "ex01" / "keys" / f"{TRANSCRIPT}.yaml"


@pytest.fixture
def part():
    return load_part(TRANSCRIPT)


def rules(part) -> tuple[tuple, tuple, tuple]:
    return tuple(part.items), part.rules["code"].values, part.rules["empathy"].values


def on_disk(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


HALF_WRITTEN = """transcript: amira-night-shifts
turns:
  T1:
    code: OQ
    empathy: 3
    why: "Open, follows her lead."
  T2:
    code: SR
  T4:
    code: ZZ
    empathy: 2
    why: "A code from another rubric."
    note: "Asked the team about this one."
  T99:
    code: CR
    empathy: 4
    why: "A turn this transcript does not have."
"""


# -- course.keys ---------------------------------------------------------------------------------------------
def test_a_missing_file_is_an_empty_key_and_shipped_keys_are_written_back_byte_for_byte(tmp_path):
    assert read_key(tmp_path / "none.yaml", TRANSCRIPT) == {"transcript": TRANSCRIPT, "turns": {}}
    for path in sorted((ROOT / "solutions").glob("*/keys/*.yaml")):
        data = read_key(path)
        if data.get("turns"):
            assert dump_key(data) == path.read_text(encoding="utf-8"), path


def test_why_is_required_and_codes_and_levels_come_from_the_rubric(part):
    _, codes, levels = rules(part)
    assert entry_problem({"code": "OQ", "empathy": 3, "why": "Open."}, codes, levels) is None
    assert entry_problem({"code": "OQ", "empathy": 3, "why": "  "}, codes, levels) == "no rationale (why)"
    assert entry_problem({"code": "OQ"}, codes, levels) == "no empathy level, no rationale (why)"
    assert "code 'ZZ' is not in the rubric" in entry_problem({"code": "ZZ", "empathy": 3, "why": "x"}, codes, levels)
    assert "empathy 9 is not on the rubric's scale (1-5)" in entry_problem(
        {"code": "OQ", "empathy": 9, "why": "x"}, codes, levels)
    assert "found str" in entry_problem("OQ", codes, levels)


def test_unknown_turns_and_codes_not_in_the_rubric_are_reported_and_kept(tmp_path, part):
    path = tmp_path / "key.yaml"
    path.write_text(HALF_WRITTEN, encoding="utf-8")
    data = read_key(path, TRANSCRIPT)
    problems = file_problems(data, *rules(part), TRANSCRIPT)
    assert len(problems) == 2
    assert problems[0].startswith("T4: code 'ZZ' is not in the rubric in force")
    assert problems[1].startswith("T99: not a listener turn of 'amira-night-shifts'")
    written = record_turns(path, TRANSCRIPT, {"T2": {"empathy": 3, "why": "Simple reflection."}})
    assert on_disk(path) == written
    assert written["turns"]["T99"]["code"] == "CR" and written["turns"]["T4"]["code"] == "ZZ"
    assert written["turns"]["T4"]["note"] == "Asked the team about this one."
    assert list(written["turns"]) == ["T1", "T2", "T4", "T99"]


def test_merge_keeps_note_and_other_fields_and_clears_only_what_is_cleared():
    data = {"transcript": TRANSCRIPT, "turns": {"T3": {"code": "CR", "empathy": 4, "why": "Adds guilt.",
                                                         "note": "Half accepted.", "reviewed_by": "ann"}}}
    merged = merge_turn(data, "T3", {"code": "SR", "why": "  Repeats her words.  "})
    assert merged["turns"]["T3"] == {"code": "SR", "empathy": 4, "why": "Repeats her words.",
                                     "note": "Half accepted.", "reviewed_by": "ann"}
    assert data["turns"]["T3"]["code"] == "CR"  # the input is not changed
    cleared = merge_turn(merged, "T3", {"code": None, "empathy": None, "why": ""})
    assert cleared["turns"]["T3"] == {"code": None, "empathy": None, "why": "", "note": "Half accepted.",
                                      "reviewed_by": "ann"}
    gone = merge_turn({"turns": {"T5": {"code": "OQ"}}}, "T5", {"code": None})
    assert gone["turns"] == {}


def test_turns_are_written_in_turn_order_in_the_shipped_format(tmp_path):
    path = tmp_path / "keys" / "k.yaml"  # the folder is made
    for turn_id in ("T10", "T2", "T1"):
        record_turns(path, TRANSCRIPT, {turn_id: {"code": "OQ", "empathy": 2, "why": f'Turn "{turn_id}": it\'s ok.'}})
    text = path.read_text(encoding="utf-8")
    assert text.startswith("transcript: amira-night-shifts\nturns:\n  T1:\n    code: OQ\n    empathy: 2\n"
                           "    why: \"Turn \\\"T1\\\": it's ok.\"\n  T2:")
    assert list(on_disk(path)["turns"]) == ["T1", "T2", "T10"]


def test_a_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "key.yaml"
    path.write_text(HALF_WRITTEN, encoding="utf-8")
    before = path.read_text(encoding="utf-8")

    def broken_replace(src, dst):  # the disk fills up, or the move is refused, at the last step
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        record_turns(path, TRANSCRIPT, {"T1": {"code": "CQ"}})
    assert path.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.yaml"]  # no temporary file left behind
    monkeypatch.undo()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        write_key(blocker / "key.yaml", {"transcript": TRANSCRIPT, "turns": {}})
    assert blocker.read_text() == "not a folder"


def test_files_that_cannot_be_keys_are_refused_not_overwritten(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("turns:\n  T1: {code: OQ\n", encoding="utf-8")
    with pytest.raises(ContentError, match="not valid YAML"):
        record_turns(broken, TRANSCRIPT, {"T1": {"code": "CQ"}})
    assert broken.read_text(encoding="utf-8") == "turns:\n  T1: {code: OQ\n"
    other = tmp_path / "other.yaml"
    other.write_text("transcript: kwame-new-team-lead\nturns: {}\n", encoding="utf-8")
    with pytest.raises(ContentError, match="key of transcript 'kwame-new-team-lead'"):
        KeyCoder(TRANSCRIPT, key_path=other)
    listed = tmp_path / "list.yaml"
    listed.write_text("transcript: amira-night-shifts\nturns: [T1]\n", encoding="utf-8")
    with pytest.raises(ContentError, match="'turns:' should map turn ids"):
        read_key(listed, TRANSCRIPT)


def test_the_default_key_path_is_the_key_the_course_already_has(tmp_path):
    course = tmp_path / "c"
    (course / "notebooks").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("")
    assert default_key_path("x", course / "notebooks") == course / "keys" / "x.yaml"
    exercise_key = course / "solutions" / "week1" / "keys" / "x.yaml"
    exercise_key.parent.mkdir(parents=True)
    exercise_key.write_text("turns: {}\n")
    assert default_key_path("x", course / "notebooks") == exercise_key
    (course / "keys").mkdir()
    (course / "keys" / "x.yaml").write_text("turns: {}\n")
    with pytest.raises(ContentError, match="Pass key_path="):
        default_key_path("x", course)


# -- the widget, through its Python API ----------------------------------------------------------------------
def test_key_coder_saves_every_change_into_the_file_and_a_new_one_resumes(tmp_path):
    path = tmp_path / "keys" / f"{TRANSCRIPT}.yaml"
    coder = KeyCoder(TRANSCRIPT, key_path=path, page_size=4)
    assert coder.progress() == (0, 10) and coder.pages == 3 and not path.exists()
    assert "0 of 10 turns keyed" in coder._progress.value
    row = coder.row("T1")
    assert [row.code.description, row.empathy.description, row.why.description] == [
        "T1 behaviour code", "T1 empathy level", "T1 rationale"]
    row.code.value = "OQ"
    assert on_disk(path) == {"transcript": TRANSCRIPT, "turns": {"T1": {"code": "OQ"}}}
    assert coder.incomplete() == {"T1": "no empathy level, no rationale (why)"}
    row.empathy.value = 3
    assert on_disk(path)["turns"]["T1"] == {"code": "OQ", "empathy": 3}
    assert coder.progress() == (0, 10)
    row.why.value = "  Open, and follows her lead.  "
    assert on_disk(path)["turns"]["T1"] == {"code": "OQ", "empathy": 3, "why": "Open, and follows her lead."}
    assert coder.progress() == (1, 10) and "1 of 10 turns keyed" in coder._progress.value
    assert "keyed" in row.state.value

    coder.next_page()  # T5-T8 in the same rows: nothing from T1 shows there
    assert coder.page == 1 and [r.turn_id for r in coder.rows] == ["T5", "T6", "T7", "T8"]
    assert coder.rows[0].code.value == NOT_CHOSEN and coder.rows[0].why.value == ""
    assert coder.rows[0].code.description == "T5 behaviour code"
    for name, value in (("code", "CR"), ("empathy", 4), ("why", "Adds the frustration.")):
        coder.rows[0].control(name).value = value
    assert on_disk(path)["turns"]["T5"] == {"code": "CR", "empathy": 4, "why": "Adds the frustration."}
    coder.show_page(2)  # the last page has two turns; the other rows are hidden
    assert [r.turn_id for r in coder.rows] == ["T9", "T10", None, None]
    assert coder.rows[2].box.layout.display == "none"
    coder.row("T10").code.value = "SR"
    assert coder.go_to_next_to_key() == "T2" and coder.page == 0  # wraps round past T10 (begun, not keyed)
    coder.row("T1").code.value = NOT_CHOSEN  # a cleared field is cleared in the file, the rest stays
    assert on_disk(path)["turns"]["T1"] == {"code": None, "empathy": 3, "why": "Open, and follows her lead."}
    coder.row("T1").code.value = "OQ"

    again = KeyCoder(TRANSCRIPT, key_path=path, page_size=4)  # closed and opened again: resumes from the file
    assert again.progress() == (2, 10) and again.keyed() == ["T1", "T5"]
    assert again.incomplete() == {"T10": "no empathy level, no rationale (why)"}
    assert again.page == 0  # the page of the first turn still to key (T2)
    assert again.row("T5").empathy.value == 4 and again.row("T10").code.value == "SR"
    assert "T10: no empathy level" in again._report.value and "7 turn(s) not begun" in again._report.value


def test_key_coder_resumes_a_half_written_file_and_reports_what_it_cannot_show(tmp_path):
    path = tmp_path / "key.yaml"
    path.write_text(HALF_WRITTEN, encoding="utf-8")
    coder = KeyCoder(TRANSCRIPT, key_path=path)
    assert coder.progress() == (1, 10)
    assert coder.incomplete() == {"T2": "no empathy level, no rationale (why)",
                                  "T4": "code 'ZZ' is not in the rubric in force (" + ", ".join(coder.codes) + ")"}
    assert [p.split(":")[0] for p in coder.problems] == ["T4", "T99"]
    assert "T99: not a listener turn" in coder._report.value and "ZZ" in coder._report.value
    t4 = coder.row("T4")
    assert t4.code.value == "ZZ" and t4.code.options[-1][0].startswith("ZZ (not in the rubric")
    assert "Note in the key: Asked the team about this one." in t4.context.value
    t4.empathy.value = 1  # another field of the turn: the code from the file stays until it is replaced
    assert on_disk(path)["turns"]["T4"]["code"] == "ZZ"
    t4.code.value = "AD"
    assert on_disk(path)["turns"]["T4"] == {"code": "AD", "empathy": 1, "why": "A code from another rubric.",
                                            "note": "Asked the team about this one."}
    assert on_disk(path)["turns"]["T99"]["code"] == "CR"  # reported, never dropped
    assert [p.split(":")[0] for p in coder.problems] == ["T99"]
    assert coder.row("T5").code.options[-1][1] != "ZZ"  # the extra option left with T4


def test_key_coder_keeps_a_change_it_could_not_save_and_saves_it_with_the_next(tmp_path, monkeypatch):
    path = tmp_path / "key.yaml"
    coder = KeyCoder(TRANSCRIPT, key_path=path)
    coder.row("T1").code.value = "OQ"
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda *_a: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    coder.row("T2").code.value = "SR"
    assert "Not saved" in coder._status.value and "Permission denied" in coder._status.value
    assert on_disk(path)["turns"] == {"T1": {"code": "OQ"}}
    assert coder.entry("T2") == {"code": "SR"}  # still in the form
    monkeypatch.setattr(os, "replace", real_replace)
    coder.row("T3").code.value = "CR"
    assert on_disk(path)["turns"] == {"T1": {"code": "OQ"}, "T2": {"code": "SR"}, "T3": {"code": "CR"}}
    assert "Saved T2, T3" in coder._status.value


def test_edits_made_elsewhere_meanwhile_are_kept(tmp_path):
    path = tmp_path / "key.yaml"
    coder = KeyCoder(TRANSCRIPT, key_path=path)
    coder.row("T1").code.value = "OQ"
    data = on_disk(path)
    data["turns"]["T9"] = {"code": "AF", "empathy": 3, "why": "Typed in an editor.", "note": "by hand"}
    path.write_text(dump_key(data), encoding="utf-8")
    coder.row("T2").code.value = "SR"
    assert on_disk(path)["turns"]["T9"]["note"] == "by hand"
    assert coder.row("T9").code.value == "AF"
