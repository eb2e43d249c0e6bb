"""In a real JupyterLab in headless Chromium: play the lesson's branching scenario and keep the path taken."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from labdriver import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Lab,
    accessibility_violations,
    copy_course,
    jupyterlab,
    require_chromium,
    tab_to,
    wait_for_file,
)

from autograder.core.literals import literal_assigned
from course.scenario import load_scenario

pytestmark = pytest.mark.browser
LESSON = "course/lessons/01-hearing-the-concern.ipynb"


def test_scenario_plays_to_a_debrief_and_the_path_survives_a_restart(tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    cells = json.loads((ROOT / LESSON).read_text())["cells"]
    ids = [c.get("id") for c in cells]
    scenario_cell, path_cell = ids.index("scenario"), ids.index("keep-path")
    (tmp_path / "course-root").mkdir()
    course = copy_course(ROOT, tmp_path / "course-root")
    (tmp_path / "jupyter").mkdir()
    with jupyterlab(course, tmp_path / "jupyter") as (base, token), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        lab = Lab(page, base, token)
        lab.open(LESSON)
        lab.run_cell(scenario_cell)
        widget = page.locator(".attune-widget")
        assert accessibility_violations(page, ".attune-widget") == []
        openness = widget.locator(".attune-openness")
        start = openness.inner_text()
        assert start.startswith("Client openness:")

        # First choice by keyboard alone: arrow to the second option, Tab on to the button, Enter.
        # Options are shown in the learner's own order, so note which one is second on screen.
        second_text = widget.locator(".widget-radio-box label").nth(1).inner_text().strip()
        widget.get_by_role("radio").first.focus()
        page.keyboard.press("ArrowDown")
        tab_to(page, "Say this", presses=6)
        page.keyboard.press("Enter")
        widget.get_by_text("That was a").wait_for()
        choices = 1
        while not widget.locator("h4", has_text="Debrief").count():
            said = widget.locator("p b").count()
            widget.get_by_role("radio").first.check()
            widget.get_by_role("button", name="Say this").click()
            choices += 1
            # The conversation grows by two lines (yours, then the client's) before anything else changes.
            page.wait_for_function("([n]) => document.querySelectorAll('.attune-widget p b').length > n", arg=[said])
            assert choices <= 10, "the scenario never ended"
        assert choices >= 3
        debrief = widget.locator("h4", has_text="Debrief").locator("..").inner_text()
        assert "Choice 3" in debrief and "openness ended at" in debrief
        assert openness.inner_text() != start or "openness ended at" in debrief

        lab.run_cell(path_cell)
        lab.save()
        notebook = course / LESSON
        saved = wait_for_file(notebook, lambda text: len(
            literal_assigned("".join(json.loads(text)["cells"][path_cell]["source"]), "path").value or []) >= 3)
        path = literal_assigned("".join(json.loads(saved)["cells"][path_cell]["source"]), "path").value
        # The path keeps the option's index in the scenario file, whatever its place on screen.
        first = load_scenario("mateus-first-term").nodes["p1"].options
        assert len(path) == choices and path[0] == f"p1:{[o.text for o in first].index(second_text)}"

        lab.restart_and_run_all()
        widget.get_by_text("Debrief").wait_for()   # replayed from the literal in a fresh kernel
        browser.close()
