"""A self-paced learner's loop in a real JupyterLab (headless Chromium), on ex00 (Hoang, 8 listener turns).

One test per finding of the learner's walk: coming back on a fresh kernel keeps every saved answer; the
self-check on an untouched form gives no reason away; the pasted fallback text records and grades; the
self-check names a form change the answer cell never received. (The shuffled dialogue options are tested in
test_browser_shuffle.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, autograded_score
from labdriver import Lab, cell_index, lab_on_a_course_copy, wait_for_file

from autograder.core.literals import answers_in_notebook, read_notebook, reference_in_notebook
from course.rubric import load_rubric

pytestmark = pytest.mark.browser

EXERCISE, NOTEBOOK, VARIABLE = "ex00", "start-here.ipynb", "hoang"
FORM, ANSWERS, CHECK = (cell_index(ROOT / "exercises" / EXERCISE / NOTEBOOK, f"{name}-{VARIABLE}")
                        for name in ("form", "answers", "check"))


@pytest.fixture(scope="module")
def hoang_reference() -> dict:
    found = reference_in_notebook(read_notebook(ROOT / "solutions" / EXERCISE / NOTEBOOK), f"score_{VARIABLE}")
    assert found.problem is None
    return found.value


def coded(reference: dict) -> dict:
    """The learner's answers: the reference, with T2's code and T5's level missed."""
    answers = {k: {"code": v["code"], "empathy": v["empathy"]} for k, v in reference.items()}
    answers["T2"]["code"] = next(c for c in ("CR", "SR") if c != answers["T2"]["code"])
    answers["T5"]["empathy"] = 1 if answers["T5"]["empathy"] > 2 else 5
    return answers


def choose(lab: Lab, turn: str, code: str | None = None, empathy: int | None = None) -> None:
    form = lab.cell(FORM)
    if code is not None:
        form.get_by_label(f"{turn} behaviour code", exact=True).select_option(
            index=1 + load_rubric().code_ids.index(code))
    if empathy is not None:
        form.get_by_label(f"{turn} empathy level", exact=True).select_option(index=empathy)


def open_and_code(lab: Lab, answers: dict) -> None:
    """Open ex00, show the form and choose every answer in it."""
    lab.open(f"exercises/{EXERCISE}/{NOTEBOOK}")
    lab.run_cell(FORM)
    for turn, item in answers.items():
        choose(lab, turn, item["code"], item["empathy"])
    lab.page.get_by_text(f"{len(answers)} of 8 turns fully coded").wait_for()


def shown(lab: Lab, turn: str) -> tuple[str, int]:
    form = lab.cell(FORM)
    code = form.get_by_label(f"{turn} behaviour code", exact=True).evaluate("s => s.options[s.selectedIndex].text")
    level = form.get_by_label(f"{turn} empathy level", exact=True).evaluate("s => s.selectedIndex")
    return code.replace("\xa0", " ").split(" ")[0], level


def saved(path: Path) -> dict | None:
    return answers_in_notebook(json.loads(path.read_text()), VARIABLE).value


def output(lab: Lab, index: int) -> str:
    return " ".join(lab.cell(index).locator(".jp-OutputArea").inner_text().split())


def test_a_returning_learner_keeps_every_saved_answer(tmp_path, browser, hoang_reference):
    """Finding 1: all 8 answers saved, then a fresh kernel, the form cell alone, one change, the answer cell, a
    save: all 8 are still there."""
    answers = coded(hoang_reference)
    with lab_on_a_course_copy(tmp_path, browser) as (course, lab):
        notebook = course / "exercises" / EXERCISE / NOTEBOOK
        open_and_code(lab, answers)
        lab.run_cell(ANSWERS)
        lab.cell(ANSWERS).get_by_text('"T8"').first.wait_for()
        lab.save()
        wait_for_file(notebook, lambda text: answers_in_notebook(json.loads(text), VARIABLE).value == answers)

        lab.close_and_forget_kernels()                     # the learner closes and comes back another day
        lab.open(f"exercises/{EXERCISE}/{NOTEBOOK}")
        lab.run_cell(FORM)                                 # only the form cell, on a fresh kernel
        lab.page.get_by_text("8 of 8 turns fully coded").wait_for()
        assert "Loaded 8 coded turn(s) from the answer cell of the saved notebook" in output(lab, FORM)
        assert shown(lab, "T2") == (answers["T2"]["code"], answers["T2"]["empathy"])
        changed_t3 = next(c for c in ("AF", "OQ") if c != answers["T3"]["code"])
        choose(lab, "T3", code=changed_t3)
        lab.page.get_by_text("Changed since the answer cell last ran (T3)").wait_for()
        lab.run_cell(ANSWERS)
        lab.save()
        expected = {**answers, "T3": {**answers["T3"], "code": changed_t3}}
        wait_for_file(notebook, lambda text: answers_in_notebook(json.loads(text), VARIABLE).value == expected)
        assert len(saved(notebook)) == 8


def test_the_self_check_names_a_form_change_the_answer_cell_never_received(tmp_path, browser, hoang_reference):
    """Finding 5: after a change in the form, without running the answer cell, the self-check says the form
    differs (and where) instead of "up to date"; changed back, the form and the status agree again."""
    answers = coded(hoang_reference)
    with lab_on_a_course_copy(tmp_path, browser) as (course, lab):
        notebook = course / "exercises" / EXERCISE / NOTEBOOK
        open_and_code(lab, answers)
        lab.run_cell(ANSWERS)
        lab.save()
        wait_for_file(notebook, lambda text: answers_in_notebook(json.loads(text), VARIABLE).value == answers)
        lab.run_cell(CHECK)
        assert "Saved file: up to date." in output(lab, CHECK)
        old_level = answers["T6"]["empathy"]
        choose(lab, "T6", empathy=5 if old_level != 5 else 4)
        lab.page.get_by_text("Changed since the answer cell last ran").wait_for()
        lab.run_cell(CHECK)
        text = output(lab, CHECK)
        assert "Form: CHANGED since the answer cell last ran (T6)" in text, text
        assert "Saved file: up to date with the answer cell (not with the form)." in text
        choose(lab, "T6", empathy=old_level)              # changed back: nothing left to record
        lab.page.get_by_text("The answer cell matches this form.").wait_for()
        lab.run_cell(CHECK)
        assert "Form: CHANGED" not in output(lab, CHECK) and "Saved file: up to date." in output(lab, CHECK)


def test_the_self_check_on_an_untouched_form_gives_no_reason(tmp_path, browser, hoang_reference):
    """Finding 2: nothing answered, self-paced (solutions/ beside exercises/): no reference, no reason."""
    with lab_on_a_course_copy(tmp_path, browser) as (_course, lab):
        lab.open(f"exercises/{EXERCISE}/{NOTEBOOK}")
        lab.run_cell(FORM)
        lab.run_cell(ANSWERS)
        lab.run_cell(CHECK)
        text = output(lab, CHECK)
        assert "Feedback against the reference answers" in text, (output(lab, FORM), output(lab, ANSWERS), text)
        assert "Why:" not in text and "reference:" not in text
        assert not any(" ".join(ref["why"].split())[:60] in text for ref in hoang_reference.values())
        assert "T1 not answered yet" in text


def test_the_pasted_fallback_text_records_and_grades(tmp_path, browser, hoang_reference):
    """Finding 3: the text under 'Your answers as text', pasted over the answer cell, runs (even on a fresh
    kernel, before the form cell) and the saved notebook grades as the answers chosen."""
    answers = coded(hoang_reference)
    with lab_on_a_course_copy(tmp_path, browser) as (course, lab):
        notebook = course / "exercises" / EXERCISE / NOTEBOOK
        open_and_code(lab, answers)
        form = lab.cell(FORM)
        form.get_by_text("Your answers as text (to copy)").click()
        text = form.locator(".attune-form pre").last.inner_text()
        assert 'record("hoang", hoang)' in text and '"T8"' in text

        lab.close_and_forget_kernels()                     # a fresh kernel: nothing has run
        lab.open(f"exercises/{EXERCISE}/{NOTEBOOK}")
        lab.replace_cell_text(ANSWERS, text)
        lab.run_cell(ANSWERS)
        out = output(lab, ANSWERS)
        assert "Traceback" not in out and "Error" not in out
        assert "The form for this cell has not run since the kernel started" in out
        lab.save()
        wait_for_file(notebook, lambda t: answers_in_notebook(json.loads(t), VARIABLE).value == answers)

    # T2's code missed (-1), T5's level far off (-1)
    assert autograded_score(course, EXERCISE, notebook, "pasting-learner", f"score_{VARIABLE}") == 16 - 1 - 1
