"""Widgets in a real kernel (nbclient): the answer-cell protocol and the self-check.

nbclient ignores IPython's set_next_input payload, which makes it a faithful stand-in for a frontend
that does not support it (Colab, VS Code are reported not to): the fallback must kick in.
"""

from __future__ import annotations

import shutil

import nbformat
from conftest import ASSIGNMENT, NOTEBOOK, ROOT, VARIABLE
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from course.scenario import load_scenario
from course.widgets import ScenarioPlayer

ANSWER_CELL = "answers = {}\nform.record(answers)"


def run(cells: list[str], cwd, allow_errors: bool = False) -> list[str]:
    """Outputs per cell: stream text, plus an error's lines (only where allow_errors; else errors fail)."""
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    outputs = []
    for cell in nb.cells:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert allow_errors or not errors, errors[0].get("evalue")
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        outputs.append(text + "".join("\n".join(e.get("traceback", [])) for e in errors))
    return outputs


def flat(text: str) -> str:
    """Messages are wrapped for display; compare prose with the line breaks folded away."""
    return " ".join(text.split())


def test_answer_cell_protocol_and_fallback_when_the_frontend_ignores_rewrites(tmp_path):
    out = run([
        'from course.widgets import AnswerForm\nform = AnswerForm("amira-night-shifts")',
        ANSWER_CELL,                                          # fresh form, empty literal: nothing to restore
        'form._controls["T1"]["code"].value = "OQ"\nform._controls["T1"]["empathy"].value = 3',  # the trainee's clicks
        ANSWER_CELL,                                          # changed form: asks the frontend to rewrite
        "print(answers)",                                     # the kernel's variable follows the form
        ANSWER_CELL,                                          # same old text again: rewrite was ignored
    ], tmp_path)
    assert "No answers yet" in flat(out[1])
    assert "written into this cell" in flat(out[3]) and "save" in out[3]
    assert out[4].strip() == "{'T1': {'code': 'OQ', 'empathy': 3}}"
    assert "did not let the form fill in the answer cell" in flat(out[5])
    assert 'answers = {\n    "T1": {"code": "OQ", "empathy": 3},\n}' in out[5]


def test_run_all_keeps_choices_the_answer_cell_never_received(tmp_path):
    form_cell = 'from course.widgets import AnswerForm\nform = AnswerForm("amira-night-shifts")'
    out = run([
        form_cell,
        'answers = {"T2": {"code": "SR", "empathy": 3}}\nform.record(answers)',
        'form._controls["T1"]["code"].value = "OQ"\nform._controls["T1"]["empathy"].value = 3',  # clicked, not recorded
        form_cell,                                                     # Run All starts again from the top
        'answers = {"T2": {"code": "SR", "empathy": 3}}\nform.record(answers)\nprint(sorted(answers))',
    ], tmp_path)
    assert "written into this cell" in flat(out[4]) and "['T1', 'T2']" in out[4]


def test_restoring_a_bad_literal_reports_and_never_crashes(tmp_path):
    out = run([
        'from course.widgets import AnswerForm\nform = AnswerForm("amira-night-shifts")',
        'answers = {"T1": {"code": "ZZ", "empathy": 9}, "T2": {"code": "SR", "empathy": 3}, "T99": {}}\n'
        "form.record(answers)\nprint(form.answers())",
        "answers = [1, 2]\nform.record(answers)",
    ], tmp_path)
    assert "'ZZ' is not a known behaviour code" in flat(out[1]) and "T99" in out[1]
    assert "T1: empathy level 9 is outside the scale" in flat(out[1])
    assert "{'T2': {'code': 'SR', 'empathy': 3}}" in out[1]
    assert "should hold a dictionary" in flat(out[2])


def test_self_check_in_a_cohort_checks_format_and_defers_feedback(tmp_path):
    out = run(['from course.widgets import AnswerForm\nform = AnswerForm("amira-night-shifts", exercise="ex01", '
               'test_cell="coding_score")',
               'answers = {"T1": {"code": "OQ", "empathy": 3}}\nform.record(answers)\nform.check(answers)'], tmp_path)
    assert "T2: not coded yet." in out[1]
    assert "comes from your instructor" in flat(out[1]) and "Why:" not in out[1]


def _answer_cell(answers: dict) -> str:
    return f'from course.widgets import record\n\n{VARIABLE} = {answers!r}\nrecord("{VARIABLE}", {VARIABLE})'


def test_self_check_feedback_follows_effort(tmp_path, reference):
    """Self-paced (solutions/ beside exercises/): no reason for an untouched item; a wrong answer's reason only
    after a second, different try or when revealed on purpose; a right answer's reason at once."""
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder / ASSIGNMENT, tmp_path / folder / ASSIGNMENT)
    notebook = nbformat.read(tmp_path / "exercises" / ASSIGNMENT / NOTEBOOK, as_version=4)
    form_cell, _answers, check_cell = [c.source for c in notebook.cells if c.cell_type == "code"][:3]
    assert check_cell == f'from course.widgets import check\n\ncheck("{VARIABLE}")'
    right_t3 = {"code": reference["T3"]["code"], "empathy": reference["T3"]["empathy"]}
    wrong = [c for c in ("SR", "CQ", "AD") if c != reference["T1"]["code"]]
    out = run([
        form_cell,
        _answer_cell({}), check_cell,                                               # nothing answered yet
        _answer_cell({"T1": {"code": wrong[0], "empathy": 3}, "T3": right_t3}), check_cell,   # first try
        check_cell,                                                                 # checked again, no new try
        _answer_cell({"T1": {"code": wrong[1], "empathy": 3}, "T3": right_t3}), check_cell,   # second try
        'from course.widgets import reveal\nreveal("amira", "T2")', check_cell,
    ], tmp_path / "exercises" / ASSIGNMENT)
    whys = {item: " ".join(ref["why"].split()) for item, ref in reference.items()}
    untouched, first, again, second, revealed, after = (flat(out[i]) for i in (2, 4, 5, 7, 8, 9))
    assert "Feedback against the reference answers" in untouched
    assert "Why:" not in untouched and "reference:" not in untouched
    assert not any(why in untouched for why in whys.values())
    assert "T1 not answered yet" in untouched and "Reasons appear for the items you answer" in untouched
    for text in (first, again):
        assert whys["T3"] in text and whys["T1"] not in text and "reference: " + reference["T1"]["code"] not in text
        assert whys["T2"] not in text and 'reveal("amira", "T1")' in text
    assert f"reference: {reference['T1']['code']}" in second and whys["T1"] in second and whys["T2"] not in second
    assert "T2 (revealed)" in revealed and whys["T2"] in revealed
    assert whys["T2"] in after and whys["T4"] not in after


def test_scenario_player_walks_debriefs_and_replays(tmp_path):
    player = ScenarioPlayer("mateus-first-term")
    scenario = load_scenario("mateus-first-term")
    kinds = []
    while not player.walk.finished:
        options = player.walk.node.options
        pick = next(i for i, o in enumerate(options) if o.kind == "roadblock")  # every miss on purpose
        kinds.append(options[pick].kind)
        player._choices.value = pick
        player._say.click()
        if not player.walk.finished:
            assert "That was a roadblock" in player._feedback.value
    assert len(kinds) >= 3
    assert "Debrief" in player._feedback.value and "To revisit:" in player._feedback.value
    assert player.walk.openness < scenario.openness.start
    recorded = player.walk.path()
    again = ScenarioPlayer("mateus-first-term")
    again.record(list(recorded))
    assert again.walk.path() == recorded and "Debrief" in again._feedback.value


def test_every_kind_of_part_records_and_restores_through_its_answer_cell(tmp_path):
    """Multi-selects (feelings and concerns), number boxes (session metrics), and rating dropdowns."""
    out = run([
        'from course.widgets import AnswerForm\n'
        'concerns_form = AnswerForm("concern-statements")\n'
        'metrics_form = AnswerForm("session-metrics")\n'
        'ratings_form = AnswerForm("response-rating")',
        'concerns_form._controls["S01"]["feelings"].value = ("sad", "lonely")\n'
        'metrics_form._controls["session-4"]["r_to_q"].value = "2,14"\n'      # a decimal comma is read too
        'metrics_form._controls["session-4"]["pct_cr"].value = "about 70"\n'  # kept as typed, so it is named
        'ratings_form._controls["R01"]["b"].value = 4\n'
        'ratings_form._controls["R01"]["best"].value = "c"',
        "concerns = {}\nconcerns_form.record(concerns)\nprint(concerns)\n"
        "metrics = {}\nmetrics_form.record(metrics)\nprint(metrics)\n"
        "ratings = {}\nratings_form.record(ratings)\nprint(ratings)",
        'again = AnswerForm("session-metrics")\nagain.record({"session-4": {"r_to_q": 2.14, "pct_cr": "x"}})\n'
        'print(repr(again._controls["session-4"]["r_to_q"].value), again.answers())',
        'from autograder.cells import check_format\ncheck_format({"S01": {"feelings": ["sad"], "concerns": []}}, '
        '"concern-statements")',
    ], tmp_path, allow_errors=True)
    assert "{'S01': {'feelings': ['lonely', 'sad'], 'concerns': []}}" in out[2]
    assert "'r_to_q': 2.14, 'pct_cr': 'about 70'" in out[2]
    assert "'R01': {'a': None, 'b': 4, 'c': None, 'best': 'c'}" in out[2]
    assert "'2.14'" in out[3] and "{'session-4': {'r_to_q': 2.14" in out[3]
    assert "S02: not answered yet." in flat(out[4])


def test_a_new_form_starts_from_the_saved_notebook_and_says_when_it_cannot(tmp_path):
    """A fresh kernel on a notebook answered before: the form shows the saved answers; an unreadable saved file
    is named, and nothing is changed."""
    saved = tmp_path / "saved.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(_answer_cell({"T1": {"code": "OQ", "empathy": 3},
                                                                      "T2": {"code": "SR", "empathy": 4}}))]), saved)
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    form = f'from course.widgets import AnswerForm\nform = AnswerForm("amira-night-shifts", variable="{VARIABLE}")\n'
    out = run([
        f"__session__ = {str(saved)!r}\n{form}print(form.answers(), form._message.value)",
        f"__session__ = {str(broken)!r}\n"
        "import course.widgets.recorder as r\nr._LIVE_WIDGETS.clear()  # as on a fresh kernel\n"
        f"{form}print(form.answers(), form._message.value)",
    ], tmp_path)
    assert "'T2': {'code': 'SR', 'empathy': 4}" in out[0]
    assert "Loaded 2 coded turn(s) from the answer cell of the saved notebook" in out[0]
    assert out[1].startswith("{} ") and "The saved notebook could not be read" in flat(out[1])
    assert "Nothing was changed" in flat(out[1])
    assert saved.read_text() and broken.read_text(encoding="utf-8") == '{"cells": ['
