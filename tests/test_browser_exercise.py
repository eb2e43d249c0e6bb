"""In a real JupyterLab in headless Chromium: code ex01's first part with the form; the saved file carries it."""

from __future__ import annotations

import json

import pytest
from conftest import ASSIGNMENT, NOTEBOOK, ROOT, SCORE_CELL, VARIABLE, autograded_score
from labdriver import accessibility_violations, cell_index, lab_on_a_course_copy, shutdown_sessions, wait_for_file

from autograder.core.literals import answers_in_notebook
from course.rubric import load_rubric

pytestmark = pytest.mark.browser


def _cell_index(assignment: str, notebook: str, cell_id: str) -> int:
    return cell_index(ROOT / "exercises" / assignment / notebook, cell_id)


# Cells of the released notebook, by position (markdown cells count).
FORM_CELL, ANSWER_CELL, CHECK_CELL = (_cell_index(ASSIGNMENT, NOTEBOOK, f"{name}-{VARIABLE}")
                                      for name in ("form", "answers", "check"))


def chosen(reference: dict) -> tuple[dict, float]:
    """What the simulated trainee picks: the reference, with two deliberate misses."""
    answers = {k: {"code": v["code"], "empathy": v["empathy"]} for k, v in reference.items()}
    answers["T2"]["code"] = "CR"   # reference SR: the code earns 0 (-1)
    answers["T10"]["empathy"] = 4  # reference 5: one level off (-0.5)
    return answers, 18.5


def test_form_answers_reach_the_file_survive_restart_and_autograde(tmp_path, browser, reference):
    answers, expected_points = chosen(reference)
    with lab_on_a_course_copy(tmp_path, browser) as (course, lab):
        notebook = course / "exercises" / ASSIGNMENT / NOTEBOOK
        page = lab.page
        lab.open(f"exercises/{ASSIGNMENT}/{NOTEBOOK}")
        lab.run_cell(FORM_CELL)
        assert accessibility_violations(page, ".attune-form") == []
        # Every control has a label of its own (screen readers announce it; get_by_label finds it).
        form = lab.cell(FORM_CELL)
        labels = form.locator(".attune-form select").evaluate_all(
            "els => els.map(e => e.labels.length === 1 ? e.labels[0].textContent : null)")
        assert len(labels) == 2 * len(answers) and None not in labels
        # Keyboard alone: focus the first control, arrow to a code, Tab to the level, type its digit.
        cells_before = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").count()
        first = form.get_by_label("T1 behaviour code", exact=True)
        first.focus()
        page.keyboard.press("ArrowDown")            # first code of the rubric: OQ
        page.keyboard.press("Tab")
        page.keyboard.press(str(answers["T1"]["empathy"]))
        page.get_by_text("Changed since the answer cell last ran").wait_for()
        assert form.get_by_label("T1 empathy level", exact=True).evaluate("s => s.selectedIndex") == 3
        # Letters type ahead in the list; in a notebook they would otherwise insert ('a') or delete cells.
        page.keyboard.press("Tab")
        page.keyboard.press("a")
        assert form.get_by_label("T2 behaviour code", exact=True).evaluate(
            "s => s.options[s.selectedIndex].text").startswith("AF")
        assert page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").count() == cells_before
        codes = load_rubric().code_ids
        assert answers["T1"]["code"] == codes[0] and answers["T1"]["empathy"] == 3
        for turn_id, item in answers.items():
            if turn_id == "T1":
                continue  # chosen by keyboard above
            # Options are "choose ...", then the rubric's codes in order, and levels 1-5.
            code = form.get_by_label(f"{turn_id} behaviour code", exact=True)
            code.click()
            code.select_option(index=1 + codes.index(item["code"]))
            level = form.get_by_label(f"{turn_id} empathy level", exact=True)
            level.click()
            level.select_option(index=item["empathy"])
        page.get_by_text("10 of 10 turns fully coded").wait_for()
        lab.run_cell(ANSWER_CELL)
        lab.cell(ANSWER_CELL).get_by_text('"T10"').first.wait_for()
        # Before saving, the self-check sees that the file on disk lags behind and says so.
        lab.run_cell(CHECK_CELL)
        lab.cell(CHECK_CELL).get_by_text("Saved file: NOT up to date").wait_for()
        lab.save()
        saved = wait_for_file(
            notebook, lambda text: "T10" in (answers_in_notebook(json.loads(text), VARIABLE).value or {}))
        lab.run_cell(CHECK_CELL)
        lab.cell(CHECK_CELL).get_by_text("Saved file: up to date.").wait_for()
        assert answers_in_notebook(json.loads(saved), VARIABLE).value == answers

        # A fresh kernel and Run All: the cell restores the form and keeps the literal.
        lab.restart_and_run_all()
        page.get_by_text("Loaded 10 coded turn(s) from the answer cell into the form.").first.wait_for()
        shown = form.get_by_label("T2 behaviour code", exact=True).evaluate(
            "s => s.options[s.selectedIndex].text")
        assert shown.replace("\xa0", " ").startswith("CR · ")
        lab.save()
        after = wait_for_file(notebook, lambda text: "Loaded 10 coded turn(s)" in json.dumps(
            json.loads(text)["cells"][ANSWER_CELL]["outputs"]))
        assert answers_in_notebook(json.loads(after), VARIABLE).value == answers
        page.screenshot(path=str(tmp_path / "form.png"), full_page=True)

    # nbgrader autograde of exactly that file gives the expected score.
    assert autograded_score(course, ASSIGNMENT, notebook, "browser-trainee", SCORE_CELL) == expected_points


def test_multi_select_and_number_parts_reach_the_file(tmp_path, browser):
    """The other kinds of control: feelings and concerns (multi-selects) in ex01, session metrics (text) in ex04."""
    with lab_on_a_course_copy(tmp_path, browser) as (course, lab):
        page = lab.page
        lab.open(f"exercises/{ASSIGNMENT}/{NOTEBOOK}")
        form_cell = _cell_index(ASSIGNMENT, NOTEBOOK, "form-concerns")
        answer_cell = _cell_index(ASSIGNMENT, NOTEBOOK, "answers-concerns")
        lab.run_cell(form_cell)
        form = lab.cell(form_cell)
        assert accessibility_violations(page, ".attune-form") == []
        feelings = form.get_by_label("S01 feelings", exact=True)
        options = feelings.evaluate("s => Array.from(s.options).map(o => o.value)")
        assert len(options) >= 5
        feelings.select_option(index=[0, 2])
        form.get_by_label("S01 concerns", exact=True).select_option(index=[1])
        page.get_by_text("Changed since the answer cell last ran").first.wait_for()
        lab.run_cell(answer_cell)
        lab.cell(answer_cell).get_by_text('"S01"').first.wait_for()
        lab.save()
        notebook = course / "exercises" / ASSIGNMENT / NOTEBOOK
        saved = wait_for_file(notebook, lambda t: "S01" in (answers_in_notebook(json.loads(t), "concerns").value
                                                            or {}))
        s01 = answers_in_notebook(json.loads(saved), "concerns").value["S01"]
        assert len(s01["feelings"]) == 2 and len(s01["concerns"]) == 1
        shutdown_sessions(lab.base, lab.token)

        metrics_nb = "a-whole-session.ipynb"
        lab.open(f"exercises/ex04/{metrics_nb}")
        form_cell = _cell_index("ex04", metrics_nb, "form-metrics")
        answer_cell = _cell_index("ex04", metrics_nb, "answers-metrics")
        lab.run_cell(form_cell)
        form = lab.cell(form_cell)
        assert accessibility_violations(page, ".attune-form") == []
        box = form.get_by_label("session-4 reflection-to-question ratio", exact=True)
        box.fill("2.14")
        box.press("Tab")  # text boxes report on leaving them (continuous_update is off)
        page.get_by_text("Changed since the answer cell last ran").first.wait_for()
        lab.run_cell(answer_cell)
        lab.cell(answer_cell).get_by_text("2.14").first.wait_for()
        lab.save()
        path = course / "exercises" / "ex04" / metrics_nb
        saved = wait_for_file(path, lambda t: "session-4" in (answers_in_notebook(json.loads(t), "metrics").value
                                                              or {}))
        assert answers_in_notebook(json.loads(saved), "metrics").value["session-4"]["r_to_q"] == 2.14
